package coupon

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Location is where a redemption took place. Every part is optional.
type Location struct {
	Till    string `json:"till,omitempty"`
	Store   string `json:"store,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Concept string `json:"concept,omitempty"`
}

// Redemption records one use of a coupon: a confirmed redemption, or a hold
// that reserves a use until it is confirmed, released or lapses.
type Redemption struct {
	ID             string           `json:"id"` // assigned by the caller
	CouponID       string           `json:"coupon_id"`
	SeriesID       string           `json:"series_id"`
	Customer       string           `json:"customer"`        // the redeemer; need not be the holder
	IdempotencyKey string           `json:"idempotency_key"` // the POS transaction id; replays are detected by the engine
	Status         RedemptionStatus `json:"status"`

	At            time.Time `json:"at"`                       // when the hold was placed or the redemption made
	HoldExpiresAt time.Time `json:"hold_expires_at,omitzero"` // a hold lapses at this time; zero for a direct redemption
	ConfirmedAt   time.Time `json:"confirmed_at,omitzero"`    // when it became StatusRedeemed
	ReleasedAt    time.Time `json:"released_at,omitzero"`     // when a hold was released
	ReversedAt    time.Time `json:"reversed_at,omitzero"`     // when the redemption was reversed

	Location Location        `json:"location"`
	Bill     decimal.Decimal `json:"bill"`     // the bill amount, in Currency
	Discount decimal.Decimal `json:"discount"` // the discount granted, in Currency
	Currency string          `json:"currency"`

	// Lines, for a use made on a basket's lines, is a digest of the
	// basket (its currency and each line as given), by which a request
	// repeating the use is told from one with other lines; "" for a use
	// made on the bill alone.
	Lines string `json:"lines,omitempty"`
	// Parts split Discount over the basket's eligible lines, in the
	// basket's order, in minor units of Currency; they sum to Discount.
	// A partial return reads them. Empty for a use made on the bill alone.
	Parts []Part `json:"parts,omitempty"`
	// Reduced says that a budget of the series reduced the discount to
	// what was left of it.
	Reduced bool `json:"reduced,omitempty"`
	// Budget is what the use took of its series' budgets, in minor units
	// of the series' currency: giving the use back gives it back. Zero for
	// a series without a budget.
	Budget int64 `json:"budget,omitempty"`
	// Returns are the returns made of the redemption so far, in order
	// (see Return): partial returns and chargebacks, and a keyed whole
	// reversal. A whole reversal without a key adds none: the status
	// says it.
	Returns []Return `json:"returns,omitempty"`
}

// Part is one basket line's share of a redemption's discount, in minor
// units of the redemption's currency.
type Part struct {
	// Line is the line's id, and Quantity its units.
	Line     string `json:"line"`
	Quantity int64  `json:"quantity"`
	// Base is what the line came to before the discount, and Discount the
	// line's share of it.
	Base     int64 `json:"base"`
	Discount int64 `json:"discount"`
}

// HoldActive reports whether r is a hold that still reserves a use at now:
// it is Held and now is before HoldExpiresAt. Such a hold counts against
// limits.
func (r Redemption) HoldActive(now time.Time) bool {
	return r.Status == StatusHeld && now.Before(r.HoldExpiresAt)
}

// Event is one entry of the append-only history. Transitions fill every
// field but ID, which the caller assigns when it stores the event.
type Event struct {
	ID       string    `json:"id"`
	Kind     EventKind `json:"kind"`
	CouponID string    `json:"coupon_id"`
	SeriesID string    `json:"series_id"`
	Code     string    `json:"code"` // the coupon's code as created
	// Customer is whose history the event belongs to: the holder, or for
	// transfers the side named by Kind. "" for a coupon without holder.
	Customer string    `json:"customer,omitempty"`
	Actor    string    `json:"actor,omitempty"` // who made the change (operator, API client, POS); "" for the clock
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	// Counterparty is the other customer: the new holder on TransferredOut,
	// the old one on TransferReceived, and the redeemer on redemption events
	// when the redeemer is not the holder.
	Counterparty string `json:"counterparty,omitempty"`
	RedemptionID string `json:"redemption_id,omitempty"` // the redemption or hold concerned, if any

	// Reissue only.
	OldCode     string `json:"old_code,omitempty"`
	NewCode     string `json:"new_code,omitempty"`
	NewCouponID string `json:"new_coupon_id,omitempty"` // the replacement coupon
	Notify      bool   `json:"notify,omitempty"`        // a notification with the new code was asked for

	// Notifications only (see Notification).
	Remaining int64  `json:"remaining,omitempty"` // IssuanceThreshold: how many coupons the series has left to issue
	Channel   string `json:"channel,omitempty"`   // ReminderDue: the reminder's channel ("sms", "email")

	// Returns only (Returned, and Reversed when a return gave back the
	// use): what the return gave back (see Return): the share of the
	// discount it carried back (minor units of the redemption's currency),
	// what went back to the series' budgets (minor units of the series'
	// currency), and whether the use went back.
	Returned   int64 `json:"returned,omitempty"`
	BudgetBack int64 `json:"budget_back,omitempty"`
	UseBack    bool  `json:"use_back,omitempty"`
}

// Notification reports whether e asks for a message to someone: an
// issuance threshold reached (to the series' operator), an expiry reminder
// due (to the holder), or a reissue whose caller asked that the holder be
// sent the new code. A consumer of the event feed that sends messages acts
// on these and skips the rest.
func (e *Event) Notification() bool {
	switch e.Kind {
	case EventIssuanceThreshold, EventReminderDue:
		return true
	case EventReissued:
		return e.Notify
	}
	return false
}

// ThresholdEvent is the notification that a series has remaining coupons
// left to issue, reached at at: kind IssuanceThreshold, with no coupon and
// no customer, so that it is in no coupon's or customer's history. The
// caller assigns its ID.
func ThresholdEvent(seriesID string, remaining int64, at time.Time) Event {
	return Event{Kind: EventIssuanceThreshold, SeriesID: seriesID, At: at, Remaining: remaining,
		Reason: strconv.FormatInt(remaining, 10) + " coupons left to issue"}
}

// ReminderEvent is the notification that an expiry reminder on channel came
// due at due for c's holder: kind ReminderDue, for c and its holder, at
// due, with reason saying which reminder it is. The caller assigns its ID.
func ReminderEvent(c *Coupon, due time.Time, channel, reason string) Event {
	ev := c.event(EventReminderDue, due, "")
	ev.Channel, ev.Reason = channel, reason
	return ev
}

// LastUse returns the time the redemption gap counts from once the use
// with id except is given back (reversed, or its hold released): the time
// of the latest of the other uses in rs that still count, an unreversed
// redemption or a hold live at now; the zero time when there is none. rs
// are a customer's uses in a series.
func LastUse(rs []Redemption, except string, now time.Time) time.Time {
	var last time.Time
	for i := range rs {
		r := &rs[i]
		if r.ID == except || !(r.Status == StatusRedeemed || r.HoldActive(now)) {
			continue
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	return last
}
