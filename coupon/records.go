package coupon

import (
	"time"

	"github.com/shopspring/decimal"
)

// Location is where a redemption took place. Every part is optional.
type Location struct {
	Till, Store, Zone, Concept string
}

// Redemption records one use of a coupon: a confirmed redemption, or a hold
// that reserves a use until it is confirmed, released or lapses.
type Redemption struct {
	ID             string // assigned by the caller
	CouponID       string
	SeriesID       string
	Customer       string // the redeemer; need not be the holder
	IdempotencyKey string // the POS transaction id; replays are detected by the engine
	Status         RedemptionStatus

	At            time.Time // when the hold was placed or the redemption made
	HoldExpiresAt time.Time // a hold lapses at this time; zero for a direct redemption
	ConfirmedAt   time.Time // when it became StatusRedeemed
	ReleasedAt    time.Time // when a hold was released
	ReversedAt    time.Time // when the redemption was reversed

	Location Location
	Bill     decimal.Decimal // the bill amount, in Currency
	Discount decimal.Decimal // the discount granted, in Currency
	Currency string
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
	ID       string
	Kind     EventKind
	CouponID string
	SeriesID string
	Code     string // the coupon's code as created
	// Customer is whose history the event belongs to: the holder, or for
	// transfers the side named by Kind. "" for a coupon without holder.
	Customer string
	Actor    string // who made the change (operator, API client, POS); "" for the clock
	At       time.Time
	Reason   string
	// Counterparty is the other customer: the new holder on TransferredOut,
	// the old one on TransferReceived, and the redeemer on redemption events
	// when the redeemer is not the holder.
	Counterparty string
	RedemptionID string // the redemption or hold concerned, if any

	// Reissue only.
	OldCode, NewCode string
	NewCouponID      string // the replacement coupon
	Notify           bool   // a notification with the new code was asked for
}
