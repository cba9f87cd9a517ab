package series

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
)

// Series is the configuration of a coupon series (an offer). The zero value
// is not valid; see [Series.Validate] for the rules a saved series obeys.
//
// Besides the rules of each field, every string of a series is valid UTF-8
// without control characters and at most 128 bytes (ids, codes and their
// parts, place ids), 256 (Name) or 64 (TimeZone, reminder channels), and
// every time that is set is in the years 1900 through 2199 (UTC), so that
// every store keeps the series as it is.
type Series struct {
	// ID identifies the series. The store may assign it on creation.
	ID string `json:"id,omitempty"`
	// Name is the offer's name for people. It is required.
	Name string `json:"name"`
	// Status says whether the series issues and redeems now.
	Status Status `json:"status,omitzero"`
	// Start and End bound the offer's validity: it is valid at t when
	// Start <= t < End. A zero Start is "from the beginning"; a zero End is
	// open-ended. End is the exclusive instant the offer ends.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// TimeZone is the IANA name of the series' time zone ("Europe/Berlin",
	// "UTC"). Expiry days and redemption calendars are read in it. It is
	// required; "Local" is refused because it depends on the machine.
	TimeZone string `json:"time_zone"`
	// Source says how the series' codes come to exist.
	Source Source `json:"source"`
	// Issuance holds the issuance rules and behaviours.
	Issuance Issuance `json:"issuance"`
	// Redemption holds the redemption rules.
	Redemption limits.RedemptionRules `json:"redemption"`
	// Transferable allows an issued coupon to move to another customer.
	Transferable bool `json:"transferable,omitempty"`
	// Expiry says when an issued coupon expires.
	Expiry Expiry `json:"expiry"`
	// Discount is what a redemption takes off the bill.
	Discount Discount `json:"discount"`
	// Reminders are the expiry reminders sent to holders.
	Reminders []Reminder `json:"reminders,omitempty"`
	// Products restricts the series to some products of a basket and asks
	// for a minimum eligible quantity or subtotal.
	Products ProductRules `json:"products,omitzero"`
	// Budget caps the money the series gives away.
	Budget Budget `json:"budget,omitzero"`
	// Stacking says how the series' coupons combine with others on a bill.
	Stacking Stacking `json:"stacking,omitzero"`
	// Returns says what a return of some of a redemption's lines gives
	// back; the zero value is ReturnBudget.
	Returns ReturnPolicy `json:"returns,omitzero"`
	// Version is the optimistic-concurrency version the store bumps on each
	// save. It is never negative.
	Version int64 `json:"version,omitempty"`
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Location loads the series' time zone. It fails, with an *errcode.Error of
// code InvalidConfig on field "TimeZone", when TimeZone is empty, "Local" or
// unknown to time.LoadLocation.
func (s *Series) Location() (*time.Location, error) {
	switch s.TimeZone {
	case "":
		return nil, errcode.New(errcode.InvalidConfig, "TimeZone", `is required; use "UTC" for UTC`)
	case "Local":
		return nil, errcode.New(errcode.InvalidConfig, "TimeZone", `"Local" depends on the machine; name the zone`)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidConfig, Field: "TimeZone",
			Message: fmt.Sprintf("unknown time zone %q", s.TimeZone), Err: err}
	}
	return loc, nil
}

// Open reports whether the offer is valid at t: Start <= t (or Start is
// zero) and t < End (or End is zero). It does not look at Status.
func (s *Series) Open(t time.Time) bool {
	return (s.Start.IsZero() || !t.Before(s.Start)) && (s.End.IsZero() || t.Before(s.End))
}

// EffectiveIssuance returns the issuance rules the evaluator must apply to
// this series:
//   - for a common code, Issuance with OncePerCustomer set, because a common
//     code is issued to a customer at most once whatever the configuration
//     says (a second issue of it to one customer is an error);
//   - for third-party codes, no rules at all (zero rules), because the
//     outside provider issues them and the series' issuance settings do not
//     apply;
//   - otherwise Issuance.IssuanceRules as configured.
func (s *Series) EffectiveIssuance() limits.IssuanceRules {
	switch s.Source.Kind {
	case ThirdParty:
		return limits.IssuanceRules{}
	case Common:
		r := s.Issuance.IssuanceRules
		r.OncePerCustomer = true
		return r
	}
	return s.Issuance.IssuanceRules
}

// UseCapacity is how many uses one coupon of the series allows in all,
// confirmed redemptions and live holds together: the code level
// (limits.RedemptionRules.CodeLimit) or, for a common code, which has one
// coupon per customer, the customer level (CustomerLimit); 0 for no limit.
// It is the capacity the coupon transitions take (coupon.RedeemParams).
func (s *Series) UseCapacity() int {
	if s.Source.SharedCode() {
		return int(s.Redemption.CustomerLimit())
	}
	return int(s.Redemption.CodeLimit())
}

// Clone returns a copy of s that shares nothing mutable with it: its slices
// are copied. The redemption places (limits.PlaceSet) are read-only once
// built and decimals are immutable, so they are shared. Stores use it to
// hand out series their callers may change.
func (s *Series) Clone() Series {
	c := *s
	c.Reminders = slices.Clone(s.Reminders)
	c.Issuance.ExcludeSeries = slices.Clone(s.Issuance.ExcludeSeries)
	c.Redemption.Hours = slices.Clone(s.Redemption.Hours)
	c.Products.Include = slices.Clone(s.Products.Include)
	c.Products.Exclude = slices.Clone(s.Products.Exclude)
	c.Products.IncludeCategories = slices.Clone(s.Products.IncludeCategories)
	c.Products.ExcludeCategories = slices.Clone(s.Products.ExcludeCategories)
	return c
}

// Status is the life-cycle state of a series. The zero value is not a
// status.
type Status uint8

// The statuses.
const (
	// Active: the series issues and redeems.
	Active Status = iota + 1
	// Paused: the series neither issues nor redeems until it is resumed.
	Paused
	// Ended: the series is closed for good.
	Ended
)

var statusNames = []string{Active: "active", Paused: "paused", Ended: "ended"}

// String returns "active", "paused" or "ended", or "Status(n)".
func (v Status) String() string { return enumString(statusNames, v, "Status") }

// MarshalText implements encoding.TextMarshaler; an unknown status fails.
func (v Status) MarshalText() ([]byte, error) { return enumText(statusNames, v, "Status") }

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *Status) UnmarshalText(b []byte) error { return parseEnum(statusNames, b, "Status", v) }

// Issuance holds the rules an issue must pass (limits.IssuanceRules, whose
// fields are promoted) and the series-level behaviours around issuing.
type Issuance struct {
	limits.IssuanceRules
	// OnQualifyAgain says what happens when a customer who may be issued no
	// further coupon qualifies again. The zero value is SendNothing.
	OnQualifyAgain QualifyAgain `json:"on_qualify_again,omitzero"`
	// NotifyRemaining, when positive, asks for a notification when the
	// number of coupons the series may still issue (MaxTotal minus issued)
	// falls to this threshold. It needs MaxTotal and is below it (so at
	// most limits.MaxLimit).
	NotifyRemaining int64 `json:"notify_remaining,omitempty"`
	// ExcludeSeries and ExcludeWithinMonths exclude customers who were
	// issued a coupon of any of the listed series in the last
	// ExcludeWithinMonths months, 1 to MaxExcludeMonths. Both are set or
	// neither.
	ExcludeSeries       []string `json:"exclude_series,omitempty"`
	ExcludeWithinMonths int      `json:"exclude_within_months,omitempty"`
}

// MaxExcludeMonths bounds Issuance.ExcludeWithinMonths: a hundred years.
const MaxExcludeMonths = 1200

// QualifyAgain is what happens when a customer qualifies again for a series
// but may not be issued another coupon.
type QualifyAgain uint8

// The behaviours.
const (
	// SendNothing ignores the customer. It is the zero value.
	SendNothing QualifyAgain = iota
	// SendExisting sends the customer's existing valid coupon again.
	SendExisting
)

var qualifyAgainNames = []string{SendNothing: "send_nothing", SendExisting: "send_existing"}

// String returns "send_nothing" or "send_existing", or "QualifyAgain(n)".
func (v QualifyAgain) String() string { return enumString(qualifyAgainNames, v, "QualifyAgain") }

// MarshalText implements encoding.TextMarshaler; an unknown value fails.
func (v QualifyAgain) MarshalText() ([]byte, error) {
	return enumText(qualifyAgainNames, v, "QualifyAgain")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *QualifyAgain) UnmarshalText(b []byte) error {
	return parseEnum(qualifyAgainNames, b, "QualifyAgain", v)
}

// enumString, enumText and parseEnum implement String, MarshalText and
// UnmarshalText for the uint8 enums of this package; names[v] == "" marks an
// unused value.
func enumString[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}

func enumText[T ~uint8](names []string, v T, typ string) ([]byte, error) {
	if int(v) < len(names) && names[v] != "" {
		return []byte(names[v]), nil
	}
	return nil, errcode.New(errcode.InvalidArgument, typ, fmt.Sprintf("unknown %s %d; %s", typ, uint8(v), oneOf(names)))
}

func parseEnum[T ~uint8](names []string, b []byte, typ string, v *T) error {
	for i, n := range names {
		if n != "" && equalFoldASCII(n, b) {
			*v = T(i)
			return nil
		}
	}
	return errcode.New(errcode.InvalidArgument, typ, fmt.Sprintf("unknown %s %q; %s", typ, b, oneOf(names)))
}

// equalFoldASCII reports whether name and b are equal when ASCII letters are
// compared without case. Other bytes must be equal: Unicode case folding
// would accept look-alikes such as "ſ" for "s" or the Kelvin sign (U+212A) for
// "k".
func equalFoldASCII(name string, b []byte) bool {
	if len(name) != len(b) {
		return false
	}
	for i := range len(b) {
		if lowerASCII(name[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func known[T ~uint8](names []string, v T) bool { return int(v) < len(names) && names[v] != "" }

// checkEnum adds an error for field unless v is one of names: "is
// required" when v is zero and zero is no value, else "unknown <what> v";
// either way followed by the accepted names.
func checkEnum[T ~uint8](f *errcode.Fields, field string, names []string, v T, what string) {
	switch {
	case known(names, v):
	case v == 0:
		f.Add(errcode.InvalidConfig, field, "is required; "+oneOf(names))
	default:
		f.Add(errcode.InvalidConfig, field, fmt.Sprintf("unknown %s %d; %s", what, uint8(v), oneOf(names)))
	}
}

// oneOf lists the names of an enum for a message: "one of: a, b, c".
func oneOf(names []string) string {
	var b strings.Builder
	b.WriteString("one of: ")
	first := true
	for _, n := range names {
		if n == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		b.WriteString(n)
		first = false
	}
	return b.String()
}
