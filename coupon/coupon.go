package coupon

import (
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Coupon is one code in one series, with its state, its holder and its
// counters. It is a plain value: transitions take a Coupon and return a new
// one. A store keeps it as it is and uses Version for optimistic concurrency.
type Coupon struct {
	ID        string `json:"id"`        // unique coupon id, assigned by the caller
	SeriesID  string `json:"series_id"` // the series the code belongs to
	Code      string `json:"code"`      // the code as created (uploaded or generated)
	Canonical string `json:"canonical"` // the canonical form for lookups; computed by the caller, only stored here

	// Shared is true for a coupon of a code that the whole audience
	// shares (a common code): each customer it is issued to has a coupon of
	// their own with the same code. Stores key such coupons by holder too.
	Shared bool `json:"shared,omitempty"`

	// State is the stored state. Expiry is derived from the clock: use
	// StateAt for the state at a given time.
	State State `json:"state"`
	// Holder is the customer the coupon is issued to; "" when none (never
	// issued, or replaced by a reissue).
	Holder string `json:"holder,omitempty"`

	CreatedAt time.Time `json:"created_at"`          // when New made it
	IssuedAt  time.Time `json:"issued_at,omitzero"`  // last Issue or Reissue to a customer; zero when never issued
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never expires

	// Redemptions counts the confirmed, unreversed redemptions.
	Redemptions int `json:"redemptions"`
	// Holds counts the holds placed and neither confirmed nor released. A
	// lapsed hold still counts until ReleaseHold cleans it up.
	Holds int `json:"holds"`
	// Reversed is true once any redemption of the coupon was reversed.
	Reversed bool `json:"reversed,omitempty"`
	// LastStatusChange is when State last changed or a redemption was last
	// reversed.
	LastStatusChange time.Time `json:"last_status_change"`

	ReissuedFrom string `json:"reissued_from,omitempty"` // the coupon this one replaced by Reissue, if any
	ReissuedTo   string `json:"reissued_to,omitempty"`   // the coupon that replaced this one by Reissue, if any

	// IssueKey is the idempotency key of the issue that gave the coupon to
	// its first customer (couponkit.IssueRequest.IdempotencyKey); "" when
	// the issue had none. Stores keep it unique within the series.
	IssueKey string `json:"issue_key,omitempty"`

	// Version is 1 after New and grows by exactly 1 with every transition.
	Version int64 `json:"version"`
}

// StateAt returns the coupon's state at now: an Available or Issued coupon
// whose ExpiresAt is set and not after now is Expired; otherwise the stored
// State.
func (c Coupon) StateAt(now time.Time) State {
	if (c.State == Available || c.State == Issued) && !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return Expired
	}
	return c.State
}

// Usable reports whether the holder could redeem the coupon at now as far as
// its state goes: it is Issued and not expired. Capacity and the series'
// limits are checked elsewhere.
func (c Coupon) Usable(now time.Time) bool { return c.StateAt(now) == Issued }

// Unlimited is what UsesLeft returns for a coupon whose capacity sets no
// limit.
const Unlimited = -1

// UsesLeft returns how many more uses c allows under capacity, its uses in
// all (0: no limit, for which it returns Unlimited): capacity less its
// confirmed redemptions and its holds, and never below zero. A lapsed hold
// counts until it is released.
func (c Coupon) UsesLeft(capacity int) int {
	if capacity == 0 {
		return Unlimited
	}
	return max(0, capacity-c.Redemptions-c.Holds)
}

// UsedUp reports whether c's confirmed redemptions take every use of a
// limited capacity: no hold released can make it usable again.
func (c Coupon) UsedUp(capacity int) bool {
	return capacity > 0 && c.Redemptions >= capacity
}

// Validate reports every way c breaks the rules a stored coupon keeps, as
// InvalidArgument errors naming the field (joined when there are several):
// the ids and codes are set; the state is valid; counters are not negative;
// an Available coupon has no holder, redemption or hold; an Issued one has a
// holder; a Redeemed one has a redemption; a Revoked one has no redemption or
// hold; a stored Expired one has an expiry; a replaced one has no holder.
// Stores may call it on what they read; transitions keep it true.
func (c Coupon) Validate() error {
	var f errcode.Fields
	bad := func(field, msg string) { f.Add(errcode.InvalidArgument, field, msg) }
	for _, p := range []struct{ field, v string }{
		{"ID", c.ID}, {"SeriesID", c.SeriesID}, {"Code", c.Code}, {"Canonical", c.Canonical},
	} {
		if p.v == "" {
			bad(p.field, "is empty")
		}
	}
	if !c.State.Valid() {
		bad("State", nameProblem(stateNames, uint8(c.State), "state"))
	}
	if c.Redemptions < 0 {
		bad("Redemptions", "is negative")
	}
	if c.Holds < 0 {
		bad("Holds", "is negative")
	}
	if c.Version < 1 {
		bad("Version", "is less than 1")
	}
	switch c.State {
	case Available:
		if c.Holder != "" || c.Redemptions != 0 || c.Holds != 0 {
			bad("State", "an available coupon has no holder, redemption or hold")
		}
	case Issued:
		if c.Holder == "" {
			bad("Holder", "an issued coupon has a holder")
		}
	case Redeemed:
		if c.Redemptions < 1 {
			bad("Redemptions", "a redeemed coupon has a redemption")
		}
	case Expired:
		if c.ExpiresAt.IsZero() {
			bad("ExpiresAt", "an expired coupon has an expiry")
		}
	case Revoked:
		if c.Redemptions != 0 || c.Holds != 0 {
			bad("State", "a revoked coupon has no redemption or hold")
		}
	}
	if c.ReissuedTo != "" && c.Holder != "" {
		bad("Holder", "a reissued coupon belongs to no one")
	}
	if c.ID != "" && (c.ReissuedTo == c.ID || c.ReissuedFrom == c.ID) {
		bad("ReissuedTo", "a coupon cannot replace itself")
	}
	return f.Err()
}

// NewParams describes a coupon to create.
type NewParams struct {
	ID, SeriesID, Code, Canonical string // all required
	// ExpiresAt is the code's own expiry (an uploaded code may carry one);
	// zero for none. When set it must be after the creation time.
	ExpiresAt time.Time
	Actor     string // who created it, for the event
}

// New returns a fresh Available coupon created at at, with Version 1, and its
// Created event (Customer empty). Missing fields are reported together as
// InvalidArgument errors.
func New(p NewParams, at time.Time) (Coupon, Event, error) {
	var f errcode.Fields
	for _, q := range []struct{ field, v string }{
		{"ID", p.ID}, {"SeriesID", p.SeriesID}, {"Code", p.Code}, {"Canonical", p.Canonical},
	} {
		if q.v == "" {
			f.Add(errcode.InvalidArgument, q.field, "is empty")
		}
	}
	if !p.ExpiresAt.IsZero() && !at.Before(p.ExpiresAt) {
		f.Add(errcode.InvalidArgument, "ExpiresAt", "is not after the creation time")
	}
	if err := f.Err(); err != nil {
		return Coupon{}, Event{}, err
	}
	c := Coupon{
		ID: p.ID, SeriesID: p.SeriesID, Code: p.Code, Canonical: p.Canonical,
		State: Available, CreatedAt: at, ExpiresAt: p.ExpiresAt,
		LastStatusChange: at, Version: 1,
	}
	return c, c.event(EventCreated, at, p.Actor), nil
}

// event returns an event of kind about c, for c's holder.
func (c Coupon) event(kind EventKind, at time.Time, actor string) Event {
	return Event{
		Kind: kind, CouponID: c.ID, SeriesID: c.SeriesID, Code: c.Code,
		Customer: c.Holder, Actor: actor, At: at,
	}
}

// moved returns c with state s and Version+1, recording at as the status
// change time when the state changes.
func moved(c Coupon, s State, at time.Time) Coupon {
	if c.State != s {
		c.State = s
		c.LastStatusChange = at
	}
	c.Version++
	return c
}

// earliest returns the earlier of two expiry times, where zero means never.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
