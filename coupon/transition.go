package coupon

import (
	"strconv"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/shopspring/decimal"
)

// Every transition returns its inputs unchanged together with an
// *errcode.Error when it refuses.

// refuse returns an error with code about coupon c.
func refuse(code errcode.Code, c Coupon, msg string) *errcode.Error {
	return errcode.New(code, "", "coupon "+strconv.Quote(c.ID)+": "+msg)
}

// stateError reports that c, in state s, cannot be used for op.
func stateError(c Coupon, s State, op string) error {
	code := errcode.InvalidTransition
	switch s {
	case Available:
		code = errcode.NotIssued
	case Issued:
		code = errcode.AlreadyIssued
	case Redeemed:
		code = errcode.Redeemed
	case Expired:
		code = errcode.Expired
	case Revoked:
		code = errcode.Revoked
	}
	return refuse(code, c, "cannot "+op+" a coupon in state "+s.String())
}

// requireIssued refuses, for op, a coupon that is not Issued at at.
func requireIssued(c Coupon, at time.Time, op string) error {
	if s := c.StateAt(at); s != Issued {
		return stateError(c, s, op)
	}
	return nil
}

// Issue gives an Available coupon to customer at at: it becomes Issued with
// Holder, IssuedAt and ExpiresAt set. expiresAt is the expiry the series
// computes (zero: never); the coupon keeps its own earlier expiry if it has
// one. The event is Issued, for customer.
//
// Refused: empty customer or an expiresAt not after at (InvalidArgument);
// Revoked (Revoked), Expired at at (Expired), Issued or Redeemed
// (AlreadyIssued).
func Issue(c Coupon, customer string, at, expiresAt time.Time, actor string) (Coupon, Event, error) {
	var f errcode.Fields
	if customer == "" {
		f.Add(errcode.InvalidArgument, "customer", "is empty")
	}
	if !expiresAt.IsZero() && !at.Before(expiresAt) {
		f.Add(errcode.InvalidArgument, "expiresAt", "is not after the issue time")
	}
	if err := f.Err(); err != nil {
		return c, Event{}, err
	}
	switch s := c.StateAt(at); s {
	case Available:
	case Redeemed:
		return c, Event{}, refuse(errcode.AlreadyIssued, c, "cannot issue a coupon in state redeemed")
	default:
		return c, Event{}, stateError(c, s, "issue")
	}
	out := c
	out.Holder = customer
	out.IssuedAt = at
	out.ExpiresAt = earliest(c.ExpiresAt, expiresAt)
	out = moved(out, Issued, at)
	return out, out.event(EventIssued, at, actor), nil
}

// RedeemParams describes one use of a coupon, for [Redeem] and [PlaceHold].
type RedeemParams struct {
	ID             string // the new Redemption's id, assigned by the caller; required
	Customer       string // the redeemer
	IdempotencyKey string
	Actor          string
	Location       Location
	Bill           decimal.Decimal // not negative
	Discount       decimal.Decimal // not negative
	Currency       string
	// Capacity is the most uses the code allows in all (confirmed
	// redemptions plus holds); 0 means unlimited.
	Capacity int
	// Lines, Parts, Reduced and Budget are recorded as given (see
	// Redemption); Parts is not copied.
	Lines   string
	Parts   []Part
	Reduced bool
	Budget  int64
}

func (p RedeemParams) validate(f *errcode.Fields) {
	if p.ID == "" {
		f.Add(errcode.InvalidArgument, "ID", "is empty")
	}
	if p.Capacity < 0 {
		f.Add(errcode.InvalidArgument, "Capacity", "is negative")
	}
	if p.Bill.IsNegative() {
		f.Add(errcode.InvalidArgument, "Bill", "is negative")
	}
	if p.Discount.IsNegative() {
		f.Add(errcode.InvalidArgument, "Discount", "is negative")
	}
}

// CanUse reports why c cannot take one more use (a redemption or a hold) at
// at under capacity, its uses in all (0: no limit), as Redeem and PlaceHold
// refuse it: not Issued at at (Revoked, Expired, NotIssued for Available,
// Redeemed), every use redeemed (Redeemed), or the remaining ones held
// (LimitReached). It returns nil when c can.
func CanUse(c Coupon, at time.Time, capacity int) error {
	return checkUse(c, at, capacity, "use")
}

// checkUse refuses a new use of c at at: c must be Issued, and a limited
// capacity must have a use neither redeemed nor held.
func checkUse(c Coupon, at time.Time, capacity int, op string) error {
	if err := requireIssued(c, at, op); err != nil {
		return err
	}
	switch {
	case c.UsedUp(capacity):
		return refuse(errcode.Redeemed, c, "every allowed use is redeemed")
	case c.UsesLeft(capacity) == 0:
		return &errcode.Error{Code: errcode.LimitReached, Field: "Capacity",
			Message: "coupon " + strconv.Quote(c.ID) + ": every remaining use is held"}
	}
	return nil
}

func (p RedeemParams) record(c Coupon, status RedemptionStatus, at time.Time) Redemption {
	return Redemption{
		ID: p.ID, CouponID: c.ID, SeriesID: c.SeriesID, Customer: p.Customer,
		IdempotencyKey: p.IdempotencyKey, Status: status, At: at,
		Location: p.Location, Bill: p.Bill, Discount: p.Discount, Currency: p.Currency,
		Lines: p.Lines, Parts: p.Parts, Reduced: p.Reduced, Budget: p.Budget,
	}
}

// useEvent returns the event of kind for redemption r of c.
func useEvent(c Coupon, r Redemption, kind EventKind, at time.Time, actor string) Event {
	ev := c.event(kind, at, actor)
	ev.RedemptionID = r.ID
	if r.Customer != c.Holder {
		ev.Counterparty = r.Customer
	}
	return ev
}

// usedUp returns the state of an Issued coupon c under capacity: Redeemed
// once its confirmed redemptions take every use.
func usedUp(c Coupon, capacity int) State {
	if c.UsedUp(capacity) {
		return Redeemed
	}
	return Issued
}

// Redeem confirms one use of c at once: Redemptions grows by one and the
// returned Redemption has StatusRedeemed. When the confirmed redemptions
// reach p.Capacity the coupon becomes Redeemed. The event is Redeemed, for
// the holder.
//
// Refused: bad params (InvalidArgument); c not Issued at at (Revoked,
// Expired, NotIssued for Available, Redeemed); every use redeemed
// (Redeemed) or the remaining ones held (LimitReached).
func Redeem(c Coupon, at time.Time, p RedeemParams) (Coupon, Redemption, Event, error) {
	var f errcode.Fields
	p.validate(&f)
	if err := f.Err(); err != nil {
		return c, Redemption{}, Event{}, err
	}
	if err := checkUse(c, at, p.Capacity, "redeem"); err != nil {
		return c, Redemption{}, Event{}, err
	}
	r := p.record(c, StatusRedeemed, at)
	r.ConfirmedAt = at
	out := c
	out.Redemptions++
	out = moved(out, usedUp(out, p.Capacity), at)
	return out, r, useEvent(out, r, EventRedeemed, at, p.Actor), nil
}

// PlaceHold reserves one use of c until holdExpiresAt: Holds grows by one and
// the returned Redemption has StatusHeld. The state does not change. The
// event is Held, for the holder.
//
// Refused as [Redeem], and when holdExpiresAt is not after at
// (InvalidArgument).
func PlaceHold(c Coupon, at, holdExpiresAt time.Time, p RedeemParams) (Coupon, Redemption, Event, error) {
	var f errcode.Fields
	p.validate(&f)
	if !at.Before(holdExpiresAt) {
		f.Add(errcode.InvalidArgument, "holdExpiresAt", "is not after the hold time")
	}
	if err := f.Err(); err != nil {
		return c, Redemption{}, Event{}, err
	}
	if err := checkUse(c, at, p.Capacity, "hold"); err != nil {
		return c, Redemption{}, Event{}, err
	}
	r := p.record(c, StatusHeld, at)
	r.HoldExpiresAt = holdExpiresAt
	out := c
	out.Holds++
	out = moved(out, out.State, at)
	return out, r, useEvent(out, r, EventHeld, at, p.Actor), nil
}

// findHold refuses r unless it is a hold of c that c still counts.
func findHold(c Coupon, r Redemption) error {
	if r.CouponID != c.ID || r.Status != StatusHeld || c.Holds < 1 {
		return refuse(errcode.RedemptionNotFound, c, "no hold "+strconv.Quote(r.ID))
	}
	return nil
}

// ConfirmHold turns hold r of c into a redemption at at: Holds shrinks and
// Redemptions grows by one, r gets StatusRedeemed and ConfirmedAt, and the
// coupon becomes Redeemed when the confirmed redemptions reach capacity (0:
// unlimited). The event is HoldConfirmed, for the holder.
//
// Refused: negative capacity (InvalidArgument); r not a held use of c
// (RedemptionNotFound); c not Issued at at (Expired, ...); every use already
// redeemed, possible only when capacity shrank (Redeemed); the hold lapsed
// at or before at (HoldExpired).
func ConfirmHold(c Coupon, r Redemption, at time.Time, capacity int, actor string) (Coupon, Redemption, Event, error) {
	if capacity < 0 {
		return c, r, Event{}, errcode.New(errcode.InvalidArgument, "capacity", "is negative")
	}
	if err := findHold(c, r); err != nil {
		return c, r, Event{}, err
	}
	if err := requireIssued(c, at, "confirm a hold on"); err != nil {
		return c, r, Event{}, err
	}
	if c.UsedUp(capacity) {
		return c, r, Event{}, refuse(errcode.Redeemed, c, "every allowed use is redeemed")
	}
	if !r.HoldActive(at) {
		return c, r, Event{}, refuse(errcode.HoldExpired, c, "hold "+strconv.Quote(r.ID)+" lapsed")
	}
	out := c
	out.Holds--
	out.Redemptions++
	out = moved(out, usedUp(out, capacity), at)
	rr := r
	rr.Status = StatusRedeemed
	rr.ConfirmedAt = at
	return out, rr, useEvent(out, rr, EventHoldConfirmed, at, actor), nil
}

// ReleaseHold gives hold r of c back unused: Holds shrinks by one, r gets
// StatusReleased and ReleasedAt. A lapsed hold may be released (that is how
// lapsed holds are cleaned up), whatever the coupon's state. The event is
// HoldReleased, for the holder.
//
// Refused: r not a held use of c (RedemptionNotFound).
func ReleaseHold(c Coupon, r Redemption, at time.Time, actor, reason string) (Coupon, Redemption, Event, error) {
	if err := findHold(c, r); err != nil {
		return c, r, Event{}, err
	}
	out := c
	out.Holds--
	out = moved(out, out.State, at)
	rr := r
	rr.Status = StatusReleased
	rr.ReleasedAt = at
	ev := useEvent(out, rr, EventHoldReleased, at, actor)
	ev.Reason = reason
	return out, rr, ev, nil
}

// Reverse undoes redemption r of c: Redemptions shrinks by one, Reversed is
// set, r gets StatusReversed and ReversedAt, and a Redeemed coupon is Issued
// again. A coupon past its expiry may have a redemption reversed; it stays
// expired. The event is Reversed, for the holder.
//
// Refused: r not a redemption of c (RedemptionNotFound); r already reversed
// (AlreadyReversed); c Revoked (Revoked; cannot happen to a coupon revoked by
// this package, which has no redemption); c replaced by a reissue
// (AlreadyReissued).
func Reverse(c Coupon, r Redemption, at time.Time, actor, reason string) (Coupon, Redemption, Event, error) {
	switch {
	case r.CouponID != c.ID:
		return c, r, Event{}, refuse(errcode.RedemptionNotFound, c, "no redemption "+strconv.Quote(r.ID))
	case r.Status == StatusReversed:
		return c, r, Event{}, refuse(errcode.AlreadyReversed, c, "redemption "+strconv.Quote(r.ID)+" already reversed")
	case r.Status != StatusRedeemed || c.Redemptions < 1:
		return c, r, Event{}, refuse(errcode.RedemptionNotFound, c, "no confirmed redemption "+strconv.Quote(r.ID))
	case c.State == Revoked:
		return c, r, Event{}, stateError(c, Revoked, "reverse a redemption of")
	case c.ReissuedTo != "":
		return c, r, Event{}, refuse(errcode.AlreadyReissued, c, "replaced by "+strconv.Quote(c.ReissuedTo)+"; its redemptions cannot be reversed")
	}
	out := c
	out.Redemptions--
	out.Reversed = true
	out.LastStatusChange = at
	s := out.State
	if s == Redeemed {
		s = Issued
	}
	out = moved(out, s, at)
	rr := r
	rr.Status = StatusReversed
	rr.ReversedAt = at
	ev := useEvent(out, rr, EventReversed, at, actor)
	ev.Reason = reason
	return out, rr, ev, nil
}

// Revoke makes c permanently unusable. Available, Issued and Expired coupons
// may be revoked; the holder stays recorded. The event is Revoked, for the
// holder ("" when none).
//
// Refused: c already Revoked (CouponNotFound, as the revoke API reports an
// already revoked code); c with an unreversed redemption or a hold not yet
// released (Redeemed).
func Revoke(c Coupon, at time.Time, actor, reason string) (Coupon, Event, error) {
	switch {
	case c.State == Revoked:
		return c, Event{}, refuse(errcode.CouponNotFound, c, "already revoked")
	case c.Redemptions > 0 || c.State == Redeemed:
		return c, Event{}, refuse(errcode.Redeemed, c, "has an unreversed redemption")
	case c.Holds > 0:
		return c, Event{}, refuse(errcode.Redeemed, c, "has a hold")
	}
	out := moved(c, Revoked, at)
	ev := out.event(EventRevoked, at, actor)
	ev.Reason = reason
	return out, ev, nil
}

// Expire records the expiry of an Available or Issued coupon whose ExpiresAt
// is set and not after at: its stored State becomes Expired (the sweep). The
// event is Expired, for the holder, with no actor.
//
// Refused with InvalidTransition for any other coupon (already Expired,
// Redeemed, Revoked, or not yet expired at at).
func Expire(c Coupon, at time.Time) (Coupon, Event, error) {
	if c.State == Expired || c.StateAt(at) != Expired {
		return c, Event{}, refuse(errcode.InvalidTransition, c, "nothing to expire in state "+c.StateAt(at).String())
	}
	out := moved(c, Expired, at)
	return out, out.event(EventExpired, at, ""), nil
}

// Transfer moves an Issued coupon from its holder to customer to. allowed
// says whether the series allows transfer. The state and counters do not
// change. It returns two events: TransferredOut for the old holder and
// TransferReceived for the new one, each naming the other as Counterparty.
//
// Refused: empty to, or to already the holder (InvalidArgument); c not Issued
// at at (Revoked, Expired, NotIssued, Redeemed); !allowed
// (TransferNotAllowed); a hold not yet released (InvalidTransition).
func Transfer(c Coupon, to string, at time.Time, actor string, allowed bool) (Coupon, []Event, error) {
	if to == "" {
		return c, nil, errcode.New(errcode.InvalidArgument, "to", "is empty")
	}
	if err := requireIssued(c, at, "transfer"); err != nil {
		return c, nil, err
	}
	switch {
	case !allowed:
		return c, nil, refuse(errcode.TransferNotAllowed, c, "the series does not allow transfer")
	case c.Holds > 0:
		return c, nil, refuse(errcode.InvalidTransition, c, "cannot transfer a coupon with a hold")
	case to == c.Holder:
		return c, nil, errcode.New(errcode.InvalidArgument, "to", "already holds the coupon")
	}
	out := c
	out.Holder = to
	out = moved(out, out.State, at)
	outEv := c.event(EventTransferredOut, at, actor)
	outEv.Counterparty = to
	inEv := out.event(EventTransferReceived, at, actor)
	inEv.Counterparty = c.Holder
	return out, []Event{outEv, inEv}, nil
}

// ReissueParams describes a reissue.
type ReissueParams struct {
	Actor  string // who reissued, for the audit event
	Notify bool   // a notification with the new code was asked for
	// External is true when the series' codes come from an outside provider;
	// those cannot be reissued.
	External bool
	// ExpiresAt is the expiry the series computes for the fresh coupon (zero:
	// never); the fresh coupon keeps its own earlier expiry if it has one.
	ExpiresAt time.Time
}

// Reissue replaces old, which its holder can no longer use, by fresh, an
// Available coupon of the same series (the caller picks it from the pool, and
// reports PoolEmpty when there is none). old keeps its code for audit but
// belongs to no one and records ReissuedTo; an old Issued coupon past its
// expiry is recorded Expired. fresh becomes Issued to old's holder with
// ReissuedFrom set. A chain is reissued once: neither a replaced coupon nor a
// replacement can be reissued. The one event is Reissued, for the holder,
// with OldCode, NewCode, NewCouponID, Actor and Notify.
//
// Refused: p.ExpiresAt not after at (InvalidArgument); old Issued at at
// (StillUsable) or Available (NotIssued); old already reissued or itself a
// reissue (AlreadyReissued); p.External (ExternalProvider); old without
// holder (NotIssued); fresh not an Available coupon of old's series, or old
// itself (InvalidArgument, every failure reported).
func Reissue(old, fresh Coupon, at time.Time, p ReissueParams) (Coupon, Coupon, Event, error) {
	if !p.ExpiresAt.IsZero() && !at.Before(p.ExpiresAt) {
		return old, fresh, Event{}, errcode.New(errcode.InvalidArgument, "ExpiresAt", "is not after the reissue time")
	}
	switch s := old.StateAt(at); s {
	case Issued:
		return old, fresh, Event{}, refuse(errcode.StillUsable, old, "can still be used")
	case Available:
		return old, fresh, Event{}, stateError(old, s, "reissue")
	}
	switch {
	case old.ReissuedTo != "":
		return old, fresh, Event{}, refuse(errcode.AlreadyReissued, old, "already reissued as "+strconv.Quote(old.ReissuedTo))
	case old.ReissuedFrom != "":
		return old, fresh, Event{}, refuse(errcode.AlreadyReissued, old, "is itself a reissue of "+strconv.Quote(old.ReissuedFrom))
	case p.External:
		return old, fresh, Event{}, refuse(errcode.ExternalProvider, old, "codes from an outside provider cannot be reissued")
	case old.Holder == "":
		return old, fresh, Event{}, refuse(errcode.NotIssued, old, "has no holder to reissue to")
	}
	var f errcode.Fields
	if fresh.ID == "" || fresh.ID == old.ID {
		f.Add(errcode.InvalidArgument, "fresh.ID", "is empty or the old coupon's")
	}
	if fresh.SeriesID != old.SeriesID {
		f.Add(errcode.InvalidArgument, "fresh.SeriesID", "is not the old coupon's series")
	}
	if fresh.StateAt(at) != Available {
		f.Add(errcode.InvalidArgument, "fresh.State", "is "+fresh.StateAt(at).String()+", not available")
	}
	if fresh.ReissuedFrom != "" || fresh.ReissuedTo != "" {
		f.Add(errcode.InvalidArgument, "fresh.ReissuedFrom", "is part of a reissue already")
	}
	if err := f.Err(); err != nil {
		return old, fresh, Event{}, err
	}

	newOld := old
	newOld.Holder = ""
	newOld.ReissuedTo = fresh.ID
	newOld = moved(newOld, old.StateAt(at), at)

	newFresh := fresh
	newFresh.Holder = old.Holder
	newFresh.IssuedAt = at
	newFresh.ExpiresAt = earliest(fresh.ExpiresAt, p.ExpiresAt)
	newFresh.ReissuedFrom = old.ID
	newFresh = moved(newFresh, Issued, at)

	ev := old.event(EventReissued, at, p.Actor)
	ev.OldCode = old.Code
	ev.NewCode = fresh.Code
	ev.NewCouponID = fresh.ID
	ev.Notify = p.Notify
	return newOld, newFresh, ev, nil
}
