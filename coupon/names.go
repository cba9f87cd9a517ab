package coupon

import (
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/errcode"
)

// State is a coupon's place in its life cycle. The zero value is not a valid
// state; see the package documentation for the transitions between them.
type State uint8

// The five coupon states.
const (
	// Available: created in a series' pool, not yet issued to anyone.
	Available State = iota + 1
	// Issued: held by a customer and usable (capacity permitting).
	Issued
	// Redeemed: the confirmed redemptions have used the coupon's capacity.
	Redeemed
	// Expired: past its expiry while Available or Issued.
	Expired
	// Revoked: made permanently unusable by an operator. Terminal.
	Revoked
)

var stateNames = []string{"", "available", "issued", "redeemed", "expired", "revoked"}

// Valid reports whether s is one of the five states.
func (s State) Valid() bool { return validName(stateNames, uint8(s)) }

// String returns the state's lowercase name, or "State(n)" for an invalid one.
func (s State) String() string { return nameOf(stateNames, uint8(s), "State") }

// MarshalText returns the state's lowercase name; an invalid state is an
// InvalidArgument error.
func (s State) MarshalText() ([]byte, error) { return marshalName(stateNames, uint8(s), "State") }

// UnmarshalText sets s from its lowercase name; anything else is an
// InvalidArgument error and leaves s unchanged.
func (s *State) UnmarshalText(text []byte) error {
	v, err := parseName(stateNames, text, "State")
	if err == nil {
		*s = State(v)
	}
	return err
}

// RedemptionStatus is where one redemption (or hold) of a coupon stands.
// The zero value is not a valid status.
type RedemptionStatus uint8

// The redemption statuses.
const (
	// StatusHeld: a use is reserved until the hold is confirmed, released or
	// lapses at HoldExpiresAt.
	StatusHeld RedemptionStatus = iota + 1
	// StatusRedeemed: a confirmed, unreversed redemption.
	StatusRedeemed
	// StatusReleased: a hold given back without use. Final.
	StatusReleased
	// StatusReversed: a redemption undone. Final.
	StatusReversed
)

var statusNames = []string{"", "held", "redeemed", "released", "reversed"}

// Valid reports whether s is one of the four statuses.
func (s RedemptionStatus) Valid() bool { return validName(statusNames, uint8(s)) }

// String returns the status's lowercase name, or "RedemptionStatus(n)".
func (s RedemptionStatus) String() string { return nameOf(statusNames, uint8(s), "RedemptionStatus") }

// MarshalText returns the status's lowercase name; an invalid status is an
// InvalidArgument error.
func (s RedemptionStatus) MarshalText() ([]byte, error) {
	return marshalName(statusNames, uint8(s), "RedemptionStatus")
}

// UnmarshalText sets s from its lowercase name; anything else is an
// InvalidArgument error and leaves s unchanged.
func (s *RedemptionStatus) UnmarshalText(text []byte) error {
	v, err := parseName(statusNames, text, "RedemptionStatus")
	if err == nil {
		*s = RedemptionStatus(v)
	}
	return err
}

// EventKind says what happened in an [Event]. The zero value is not valid.
type EventKind uint8

// The event kinds.
const (
	EventCreated           EventKind = iota + 1 // the coupon was created (New)
	EventIssued                                 // issued to Customer
	EventRedeemed                               // redeemed at once (Redeem)
	EventReversed                               // a redemption was reversed
	EventRevoked                                // revoked by Actor
	EventExpired                                // the expiry sweep recorded Expired
	EventTransferredOut                         // moved from Customer to Counterparty
	EventTransferReceived                       // received by Customer from Counterparty
	EventReissued                               // replaced by a fresh code (OldCode, NewCode)
	EventHeld                                   // a use was held (PlaceHold)
	EventHoldConfirmed                          // a hold became a redemption
	EventHoldReleased                           // a hold was given back
	EventAudienceAdded                          // Customer was added to the series' audience list (no coupon)
	EventAudienceRemoved                        // Customer was taken off the series' audience list (no coupon)
	EventIssuanceThreshold                      // a notification: Remaining coupons of the series are left to issue (no coupon)
	EventReminderDue                            // a notification: an expiry reminder on Channel came due for the holder
	EventReturned                               // part of a redemption was returned (Returned, BudgetBack; the use kept)
)

var kindNames = []string{"", "created", "issued", "redeemed", "reversed", "revoked", "expired",
	"transferred_out", "transfer_received", "reissued", "held", "hold_confirmed", "hold_released",
	"audience_added", "audience_removed", "issuance_threshold", "reminder_due", "returned"}

// Valid reports whether k is one of the event kinds.
func (k EventKind) Valid() bool { return validName(kindNames, uint8(k)) }

// String returns the kind's lowercase snake_case name, or "EventKind(n)".
func (k EventKind) String() string { return nameOf(kindNames, uint8(k), "EventKind") }

// MarshalText returns the kind's name; an invalid kind is an InvalidArgument
// error.
func (k EventKind) MarshalText() ([]byte, error) {
	return marshalName(kindNames, uint8(k), "EventKind")
}

// UnmarshalText sets k from its name; anything else is an InvalidArgument
// error and leaves k unchanged.
func (k *EventKind) UnmarshalText(text []byte) error {
	v, err := parseName(kindNames, text, "EventKind")
	if err == nil {
		*k = EventKind(v)
	}
	return err
}

// names[0] is "" and marks the invalid zero value.
func validName(names []string, v uint8) bool { return v > 0 && int(v) < len(names) }

func nameOf(names []string, v uint8, typ string) string {
	if validName(names, v) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

func marshalName(names []string, v uint8, typ string) ([]byte, error) {
	if !validName(names, v) {
		return nil, errcode.New(errcode.InvalidArgument, typ, "invalid value "+strconv.Itoa(int(v))+"; "+oneOf(names))
	}
	return []byte(names[v]), nil
}

// nameProblem says why v is not one of names, for a message: "is
// required" for the zero value, "unknown <what> v" otherwise, followed by
// the accepted names.
func nameProblem(names []string, v uint8, what string) string {
	if v == 0 {
		return "is required; " + oneOf(names)
	}
	return "unknown " + what + " " + strconv.Itoa(int(v)) + "; " + oneOf(names)
}

// oneOf lists the valid names, for a message: "one of: a, b, c".
func oneOf(names []string) string { return "one of: " + strings.Join(names[1:], ", ") }

func parseName(names []string, text []byte, typ string) (uint8, error) {
	for i, n := range names[1:] {
		if string(text) == n {
			return uint8(i + 1), nil
		}
	}
	return 0, errcode.New(errcode.InvalidArgument, typ, "unknown name "+strconv.Quote(string(text))+"; "+oneOf(names))
}
