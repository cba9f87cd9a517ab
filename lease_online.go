package couponkit

import (
	"context"
	"errors"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
)

// Online use by a till: a till that reaches the central asks it to decide
// each use, with every level exact, and the central records the use once
// per (till, key), whichever way (online or from the journal) it comes
// first.

func (r *TillRedeemRequest) validate() error {
	err := first(
		required("Till", r.Till), input.Text("Till", input.ID, r.Till),
		required("Key", r.Key), input.Text("Key", input.Key, r.Key), input.Text("Key", input.Key, r.Till+"/"+r.Key),
		required("SeriesID", r.SeriesID), idArg("SeriesID", r.SeriesID),
		required("Code", r.Code), input.Text("Code", input.Code, r.Code),
		input.Text("Customer", input.ID, r.Customer), required("At", timeText(r.At)), input.Time("At", r.At),
		idArg("LeaseID", r.LeaseID),
	)
	if err == nil && r.NoLease && r.LeaseID != "" {
		err = errcode.New(errcode.InvalidArgument, "NoLease", "names no lease, with LeaseID set")
	}
	if err == nil && r.Bill.Amount.IsNegative() {
		err = errcode.New(errcode.InvalidArgument, "Bill", "must not be negative")
	}
	return err
}

// RedeemAtTill decides a till's use online, at the central's clock, with
// every level exact, as Redeem does. The use draws on the lease the till
// names (req.LeaseID) when it is the till's open lease of the series with
// a use left, or, when the till names none and does not set NoLease, on
// its open lease of the series that has uses left and ends first (counted
// on it, lease.Use, not on the series' use counter again: the lease
// counted it when it was granted), so a series fully leased out still
// serves the tills that hold it; otherwise it makes an ordinary
// redemption, counted on the series under its limit. A till that may
// have used its leases offline names the lease its journal would draw on,
// or NoLease, so that an online use never takes a lease use the till has
// spent offline and not uploaded yet (whose entry would then find the
// lease full). The redemption's
// idempotency key is req.Till+"/"+req.Key and its actor "till "+req.Till,
// as for the till's journal entries.
//
// The use is recorded as a lease.Entry with Online set, in the same change
// as the redemption, so that (Till, Key) is recorded once whichever of the
// online call and the journal comes first: a repeat of the call, or a call
// whose key the journal already recorded, is answered with that record
// (Replayed) and counts nothing again; the same key with another series,
// code, customer or bill is refused with an error matching
// errcode.ErrKeyMismatch. ApplyJournal answers a journal entry whose key
// has an online record the same way.
//
// A refused use changes nothing and returns the refusal, as Redeem does
// (a *refusal.Error, or the coupon's state, or ErrCouponNotFound for a
// code the customer may not use).
func (e *Engine) RedeemAtTill(ctx context.Context, req TillRedeemRequest) (_ TillRedeemResult, err error) {
	ctx, o := e.begin(ctx, observe.RedeemAtTill, req.Code)
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return TillRedeemResult{}, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return TillRedeemResult{}, err
	}
	var out TillRedeemResult
	err = e.retry(ctx, func() error {
		rec, err := ls.TillEntry(ctx, req.Till, req.Key)
		if err == nil {
			return e.answerRecorded(ctx, &rec, &req, &out)
		}
		if !errors.Is(err, errcode.ErrNotFound) {
			return err
		}
		return e.redeemOnline(ctx, ls, &req, &out)
	})
	return out, err
}

// answerRecorded answers an online call whose key is recorded: with the
// record and its redemption, when it is the same sale.
func (e *Engine) answerRecorded(ctx context.Context, rec *lease.Entry, req *TillRedeemRequest, out *TillRedeemResult) error {
	want := lease.Entry{SeriesID: req.SeriesID, Code: req.Code, Customer: req.Customer, Bill: req.Bill}
	if rec.Reverses != "" || !rec.SameSale(&want) {
		return errcode.New(errcode.KeyMismatch, "Key", "the idempotency key was used for another sale; use a new key for a new request")
	}
	*out = TillRedeemResult{Entry: *rec, Replayed: true}
	if rec.RedemptionID == "" {
		return nil
	}
	r, err := e.st.Redemption(ctx, rec.RedemptionID)
	if err != nil {
		return err
	}
	s, err := e.series(ctx, r.SeriesID)
	if err != nil {
		return err
	}
	loc, err := e.location(s)
	if err != nil {
		return err
	}
	out.Redemption, err = e.replay(ctx, r, loc)
	return err
}

// redeemOnline decides and writes a use not recorded yet: on the till's
// lease when it has one with uses left, else on the series. A refused use
// writes nothing.
func (e *Engine) redeemOnline(ctx context.Context, ls store.LeaseStore, req *TillRedeemRequest, out *TillRedeemResult) error {
	now := e.now()
	l, onLease, err := onlineLease(ctx, ls, req)
	if err != nil {
		return err
	}
	rreq := RedeemRequest{Code: req.Code, SeriesID: req.SeriesID, Customer: ByID(req.Customer),
		IdempotencyKey: req.Till + "/" + req.Key, Bill: req.Bill, Actor: "till " + req.Till}
	b := new(changeBuf)
	var p useplan
	if err := e.planEntry(ctx, &rreq, now, onLease, false, &b.read, &p); err != nil {
		return err
	}
	if !p.allowed() {
		var first RedeemResult
		if err := e.refuseUse(ctx, &p, &rreq, 0, now, &first); err != nil {
			return err
		}
		// The key's redemption exists: recorded meanwhile with its entry
		// (both are written in one change), which answers the call; or
		// made by another caller than a till.
		rec, err := ls.TillEntry(ctx, req.Till, req.Key)
		if err == nil {
			return e.answerRecorded(ctx, &rec, req, out)
		}
		if !errors.Is(err, errcode.ErrNotFound) {
			return err
		}
		return errcode.New(errcode.KeyMismatch, "Key", "the idempotency key "+rreq.IdempotencyKey+" was used by another caller")
	}
	c, r, err := useChange(b, &p, &rreq, 0, now, e)
	if err != nil {
		return err
	}
	rec := lease.Entry{Till: req.Till, Key: req.Key, SeriesID: p.s.ID, Code: req.Code, Customer: req.Customer,
		Bill: req.Bill, Discount: p.discount, At: req.At, Applied: now, Counted: lease.OnSeries,
		RedemptionID: r.ID, Online: true, Budget: r.Budget}
	if onLease {
		used, err := l.Use(lease.Slice{Uses: 1}, now)
		if err != nil {
			return err
		}
		rec.LeaseID, rec.Counted = l.ID, lease.OnLease
		b.ch.Bumps = dropCounter(b.ch.Bumps, limits.SeriesUses)
		b.ch.Leases = []store.LeaseWrite{{Lease: used, ExpectVersion: l.Version}}
	}
	b.ch.TillEntries = []lease.Entry{rec}
	if err := e.st.Apply(ctx, &b.ch); err != nil {
		var ex *store.ExistsError
		if errors.As(err, &ex) {
			// The same key was recorded meanwhile (online or from the
			// journal): the next attempt answers that record.
			return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
		}
		return err
	}
	loc := p.q.At.Location()
	*out = TillRedeemResult{Redemption: RedeemResult{Redemption: r.In(loc), Coupon: c.In(loc), Discount: p.discount}, Entry: rec}
	return nil
}

// onlineLease returns the lease an online use req is counted on, and
// whether there is one: the lease the till named when it is the till's
// of the series, open, with a use left; none when the till named one
// that is not, or none (NoLease); else the till's open lease of the
// series with uses left that ends first.
func onlineLease(ctx context.Context, ls store.LeaseStore, req *TillRedeemRequest) (lease.Lease, bool, error) {
	switch {
	case req.NoLease:
		return lease.Lease{}, false, nil
	case req.LeaseID == "":
		return tillLease(ctx, ls, req.Till, req.SeriesID)
	}
	l, err := ls.Lease(ctx, req.LeaseID)
	if errors.Is(err, errcode.ErrNotFound) {
		return lease.Lease{}, false, nil
	}
	if err != nil {
		return lease.Lease{}, false, err
	}
	ok := l.Till == req.Till && l.SeriesID == req.SeriesID && l.Status == lease.Open && l.Left().Uses > 0
	return l, ok, nil
}

// tillLease returns the till's open lease of the series with uses left
// that ends first (the lowest id among those ending together), and
// whether there is one.
func tillLease(ctx context.Context, ls store.LeaseStore, till, seriesID string) (lease.Lease, bool, error) {
	leases, err := ls.Leases(ctx, store.LeaseQuery{Till: till, SeriesID: seriesID, Status: lease.Open})
	if err != nil {
		return lease.Lease{}, false, err
	}
	var best lease.Lease
	found := false
	for _, l := range leases {
		if l.Left().Uses > 0 && (!found || l.End.Before(best.End)) {
			best, found = l, true
		}
	}
	return best, found, nil
}
