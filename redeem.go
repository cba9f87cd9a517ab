package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// RedeemRequest is one use of a code at a till.
type RedeemRequest struct {
	// Code is the code as the customer or cashier typed it.
	Code string `json:"code"`
	// SeriesID names the series; needed only when the code exists in
	// several series.
	SeriesID string `json:"series_id,omitempty"`
	// Customer is the redeemer.
	Customer CustomerRef `json:"customer"`
	// IdempotencyKey identifies this use of this coupon, typically the POS
	// transaction id: repeating a request with the same key for the same
	// coupon returns the first result and changes nothing. Required by
	// Redeem and Hold.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Bill is the bill; an empty currency means the series' currency.
	Bill series.Money `json:"bill"`
	// Place is where the request is made.
	Place limits.Place `json:"place,omitzero"`
	// Actor is who makes the request (a till, an operator), recorded on
	// the coupon's history.
	Actor string `json:"actor,omitempty"`
}

// RedeemResult is a redemption (or hold) and the coupon after it.
type RedeemResult struct {
	Redemption coupon.Redemption `json:"redemption"`
	Coupon     coupon.Coupon     `json:"coupon"`
	// Discount is what the redemption takes off the bill, in the bill's
	// currency.
	Discount series.Money `json:"discount"`
	// Replayed is true when the idempotency key had been used with the same
	// parameters: the result is the first one, and nothing changed.
	Replayed bool `json:"replayed,omitempty"`
}

// Check is what a redemption would do now: the coupon it would use and the
// discount it would give.
type Check struct {
	Coupon   coupon.Coupon `json:"coupon"`
	Discount series.Money  `json:"discount"`
}

// useplan is everything a redemption decides from its snapshot.
type useplan struct {
	s        *series.Series
	c        coupon.Coupon
	insert   bool           // c is the redeemer's own coupon of a shared code, made now
	issue    []coupon.Event // the Issued event of an inserted coupon
	issued   []store.Bump   // and the issue counters it bumps
	keys     *[4]store.CounterKey
	d        limits.Decision
	rc       limits.RedemptionCounts
	q        limits.RedemptionRequest
	bill     series.Money
	discount series.Money
	capacity int
}

// Validate is a dry run of Redeem: it evaluates every rule and changes
// nothing. It refuses as Redeem would at this instant, with the same
// *refusal.Error, and otherwise returns the coupon the redemption would use
// and the discount it would give. The idempotency key is not needed. It
// reads the store as it is: a hold whose time to live has passed but that
// no one has released yet still counts, where Redeem would release it first.
//
// Who may call it: anyone who has the code. To a customer who does not hold
// the coupon (where the series does not let anyone redeem) a live code
// answers exactly as an unknown one does, with no holder data.
func (e *Engine) Validate(ctx context.Context, req RedeemRequest) (Check, error) {
	if err := e.admit(req.validate()); err != nil {
		return Check{}, err
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return Check{}, err
	}
	now := e.now()
	var p useplan
	if err := e.plan(ctx, &req, cust, now, &p, new(readBuf)); err != nil {
		return Check{}, err
	}
	if _, _, _, err := coupon.Redeem(p.c, now, coupon.RedeemParams{ID: "check", Customer: cust.ID, Capacity: p.capacity}); err != nil || !p.d.Allowed() {
		if err != nil && !stateRefusal(err) {
			return Check{}, err
		}
		until, err := e.heldUntil(ctx, &p)
		if err != nil {
			return Check{}, err
		}
		return Check{Coupon: p.c}, &refusal.Error{Refusals: p.refusals(until)}
	}
	return Check{Coupon: p.c, Discount: p.discount}, nil
}

// Redeem uses a coupon once, under every redemption rule of its series. A
// refusal (the coupon's state or the series' rules) is a *refusal.Error
// listing each fact once; it matches the errcode sentinels of its codes
// (ErrRevoked, ErrExpired, ErrRedeemed, ErrHeldElsewhere, ErrLimitReached,
// ...). A code the redeemer may not use (not the holder, where the series
// does not let anyone redeem) is refused as an unknown code is
// (ErrCouponNotFound), so a stranger learns nothing from it.
//
// The idempotency key names this use of this coupon. The same key with the
// same customer, bill and place returns the first result with Replayed set
// and changes nothing; with another customer, bill or place, or for a hold,
// it is refused with ErrKeyMismatch naming the parameter that differs.
func (e *Engine) Redeem(ctx context.Context, req RedeemRequest) (RedeemResult, error) {
	return e.use(ctx, req, 0)
}

func (e *Engine) use(ctx context.Context, req RedeemRequest, ttl time.Duration) (RedeemResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return RedeemResult{}, err
	}
	if req.IdempotencyKey == "" {
		return RedeemResult{}, errcode.New(errcode.InvalidArgument, "IdempotencyKey", "is required")
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err = e.retry(ctx, func() error {
		b := e.getChange()
		defer e.putChange(b)
		now := e.now()
		var plan useplan
		p := &plan
		if err := e.plan(ctx, &req, cust, now, p, &b.read); err != nil {
			return err
		}
		rid, eid := e.idPair()
		params := coupon.RedeemParams{
			ID: rid, Customer: cust.ID, IdempotencyKey: req.IdempotencyKey, Actor: req.Actor,
			Location: coupon.Location(req.Place), Bill: p.bill.Amount, Discount: p.discount.Amount,
			Currency: p.bill.Currency, Capacity: p.capacity,
		}
		var c coupon.Coupon
		var r coupon.Redemption
		var ev coupon.Event
		var err error
		if ttl == 0 {
			c, r, ev, err = coupon.Redeem(p.c, now, params)
		} else {
			c, r, ev, err = coupon.PlaceHold(p.c, now, now.Add(ttl), params)
		}
		if err != nil || !p.d.Allowed() {
			// A request that repeats a key returns the first result, even
			// when one more use would now be refused.
			if replayed, rerr := e.replayKey(ctx, p, &params, ttl > 0, now, &out); replayed || rerr != nil {
				return rerr
			}
			if err != nil && !stateRefusal(err) {
				return err
			}
			if err != nil && !errors.Is(err, errcode.ErrLimitReached) {
				// The coupon's own state refuses (revoked, expired, not
				// issued, used up): releasing holds would change nothing.
				return &refusal.Error{Refusals: p.refusals(time.Time{})}
			}
			return e.deny(ctx, p, now)
		}
		ev.ID = eid
		ch := &b.ch
		b.reds[0] = r
		ch.NewRedemptions = b.reds[:1]
		ch.Bumps = guardedBumps(b.bumps[:0], p.d.Guards(), p.keys[:], now)
		if p.insert {
			ch.NewCoupons = []coupon.Coupon{c}
			ch.Events = append(append(b.events[:0], p.issue...), ev)
			ch.Bumps = append(ch.Bumps, p.issued...)
		} else {
			b.coupons[0] = store.CouponUpdate{Coupon: c, ExpectVersion: p.c.Version}
			ch.Coupons = b.coupons[:1]
			b.events[0] = ev
			ch.Events = b.events[:1]
		}
		if err := e.st.Apply(ctx, ch); err != nil {
			var ex *store.ExistsError
			if !errors.As(err, &ex) {
				return err
			}
			// The key was used before (the store's unique key on it refused
			// this use), or the same key or the redeemer's own shared
			// coupon was written concurrently: replay, or let the next
			// attempt see what was written.
			if replayed, rerr := e.replayKey(ctx, p, &params, ttl > 0, now, &out); replayed || rerr != nil {
				return rerr
			}
			return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
		}
		loc := p.q.At.Location()
		out = RedeemResult{Redemption: r.In(loc), Coupon: c.In(loc), Discount: p.discount}
		return nil
	})
	return out, err
}

// stateRefusal reports whether err is the coupon state machine refusing a
// use for a reason the refusal model explains from the coupon itself
// (revoked, expired, not issued, used up, uses held).
func stateRefusal(err error) bool {
	switch errcode.CodeOf(err) {
	case errcode.Revoked, errcode.Expired, errcode.NotIssued, errcode.Redeemed, errcode.LimitReached, errcode.AlreadyIssued:
		return true
	}
	return false
}

// deny returns the refusal of a plan, unless lapsed holds of the series were
// holding the uses it needs: then it releases them and asks for a retry.
func (e *Engine) deny(ctx context.Context, p *useplan, now time.Time) error {
	if p.insert {
		// The plan would make the redeemer's own coupon of a shared code. If
		// a concurrent request made it meanwhile (the same request sent
		// twice, say), this one must see it: its key may replay.
		cs, err := e.st.CouponsByCode(ctx, p.s.ID, p.c.Canonical)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Holder == p.c.Holder {
				return &store.ConflictError{Kind: "coupon", ID: c.ID}
			}
		}
	}
	n, err := e.releaseLapsed(ctx, store.RedemptionQuery{SeriesID: p.s.ID}, now)
	if err != nil {
		return err
	}
	if n > 0 {
		return &store.ConflictError{Kind: "redemption", ID: "lapsed holds released"}
	}
	until, err := e.heldUntil(ctx, p)
	if err != nil {
		return err
	}
	return &refusal.Error{Refusals: p.refusals(until)}
}

// refusals explains the plan's refusal; heldUntil is when the last live hold
// on its coupon lapses.
func (p *useplan) refusals(heldUntil time.Time) []refusal.Refusal {
	return refusal.ForUse(&refusal.Use{
		Coupon: p.c, Capacity: p.capacity, HeldUntil: heldUntil,
		Decision: &p.d, Rules: &p.s.Redemption, Counts: &p.rc, Request: &p.q,
		Bill: p.bill, Currency: p.s.Discount.Currency,
	})
}

// heldUntil returns when the last hold on the plan's coupon lapses, when
// holds take its last uses (the only case a refusal reports it); the zero
// time otherwise.
func (e *Engine) heldUntil(ctx context.Context, p *useplan) (time.Time, error) {
	if p.insert || p.c.Holds == 0 || p.c.UsesLeft(p.capacity) != 0 {
		return time.Time{}, nil
	}
	hs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{CouponID: p.c.ID, Status: coupon.StatusHeld})
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	for _, h := range hs {
		if h.HoldExpiresAt.After(until) {
			until = h.HoldExpiresAt
		}
	}
	return until, nil
}

// replayKey looks for the use of the plan's coupon with the idempotency key
// of want. When there is one it reports true and either sets *out to that
// first result or, when the key was used with other parameters or names a
// hold that is no longer live, returns the typed error that says so. A
// coupon the plan would make (the redeemer's own of a shared code) has no
// uses yet.
func (e *Engine) replayKey(ctx context.Context, p *useplan, want *coupon.RedeemParams, hold bool, now time.Time, out *RedeemResult) (bool, error) {
	if p.insert {
		return false, nil
	}
	r, err := e.st.RedemptionByKey(ctx, p.c.ID, want.IdempotencyKey)
	if errors.Is(err, errcode.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := sameUse(&r, want, hold, now); err != nil {
		return true, err
	}
	*out, err = e.replay(ctx, r)
	return true, err
}

// sameUse checks that a repeated request is the use r recorded: the same
// kind (hold or redemption), customer, bill and place, and, for a hold, one
// still live or confirmed.
func sameUse(r *coupon.Redemption, want *coupon.RedeemParams, hold bool, now time.Time) error {
	mismatch := func(field, what string) error {
		return errcode.New(errcode.KeyMismatch, field, "the idempotency key was used for "+what+"; use a new key for a new request")
	}
	wasHold := !r.HoldExpiresAt.IsZero()
	switch {
	case wasHold && !hold:
		return mismatch("IdempotencyKey", "a hold, not a redemption")
	case !wasHold && hold:
		return mismatch("IdempotencyKey", "a redemption, not a hold")
	case r.Customer != want.Customer:
		return mismatch("Customer", "another customer")
	case r.Currency != want.Currency || !r.Bill.Equal(want.Bill):
		return mismatch("Bill", "a bill of "+r.Bill.String()+" "+r.Currency)
	case r.Location != want.Location:
		return mismatch("Place", "another place")
	}
	return holdLive(r, now)
}

func (e *Engine) replay(ctx context.Context, r coupon.Redemption) (RedeemResult, error) {
	c, err := e.st.Coupon(ctx, r.CouponID)
	if err != nil {
		return RedeemResult{}, err
	}
	return RedeemResult{Redemption: r, Coupon: c, Discount: series.Money{Amount: r.Discount, Currency: r.Currency}, Replayed: true}, nil
}

// plan reads the snapshot a redemption decides on and evaluates the rules.
// The counter keys and values are read through rb, which reaches the store;
// callers on the hot path pass one they reuse.
func (e *Engine) plan(ctx context.Context, req *RedeemRequest, cust Customer, now time.Time, p *useplan, rb *readBuf) error {
	cs, sp, err := e.lookupCode(ctx, req.SeriesID, req.Code, rb.found[:0])
	if err != nil {
		return err
	}
	s, err := e.single(ctx, cs, sp, req.Code)
	if err != nil {
		return err
	}
	loc, err := e.location(s)
	if err != nil {
		return err
	}
	*p = useplan{s: s}
	if err := e.pickCoupon(p, cs, cust.ID, now, loc, req.Actor); err != nil {
		return err
	}
	if !s.Redemption.AnyoneMayRedeem && p.c.Holder != cust.ID {
		// Not the redeemer's to use: answered as a code that does not
		// exist, so that a stranger learns nothing from it.
		return codeNotFound(req.Code)
	}
	if err := checkOpen(s, now.In(loc)); err != nil {
		return err
	}
	p.bill = req.Bill
	if p.bill.Currency == "" {
		p.bill.Currency = s.Discount.Currency
	}
	inSeries, err := s.Discount.ConvertBill(p.bill, e.rates)
	if err != nil {
		return err
	}
	if p.discount, err = s.Discount.Apply(p.bill, e.rates); err != nil {
		return err
	}
	rb.keys = useKeys(s.ID, store.CodeScope(&p.c), cust.ID)
	p.keys = &rb.keys
	rb.counts = [4]store.Count{}
	counts := rb.counts[:]
	if err := e.st.Counters(ctx, rb.keys[:], counts); err != nil {
		return err
	}
	p.rc = limits.RedemptionCounts{Code: counts[0].N, CustomerCode: counts[1].N, Series: counts[2].N, CustomerLast: counts[3].Last}
	p.q = limits.RedemptionRequest{
		At: now.In(loc), Place: req.Place, Bill: inSeries,
		Customer: limits.CustomerFacts{Registered: cust.Registered, Transactions: cust.Transactions},
		Holder:   p.c.Holder == cust.ID,
		Issued:   !p.c.IssuedAt.IsZero(),
	}
	p.d = limits.EvaluateRedemption(&s.Redemption, &p.rc, &p.q)
	p.capacity = s.UseCapacity()
	return nil
}

// pickCoupon chooses the coupon a redemption uses. A unique code has one. A
// shared (common) code has one coupon per customer: the redeemer's own, or,
// when anyone may redeem and the code was issued to someone, a new one
// issued to the redeemer in the same change.
func (e *Engine) pickCoupon(p *useplan, cs []coupon.Coupon, customer string, now time.Time, loc *time.Location, actor string) error {
	p.c = cs[0]
	if !p.s.Source.SharedCode() {
		return nil
	}
	issued := false
	for _, c := range cs {
		if c.Holder == customer {
			p.c = c
			return nil
		}
		issued = issued || !c.IssuedAt.IsZero()
	}
	if !issued || !p.s.Redemption.AnyoneMayRedeem {
		return nil // the decision says NeverIssued or NotHolder
	}
	fresh, _, err := e.newCoupon(p.s, cs[0].Code, cs[0].Canonical, actor, now)
	if err != nil {
		return err
	}
	var ev coupon.Event
	if p.c, ev, err = coupon.Issue(fresh, customer, now, p.s.ExpiresAt(now, loc), actor); err != nil {
		return err
	}
	// The redeemer now holds the common code: that counts as an issue of it
	// to them. No guard: anyone may redeem, and the store's unique key
	// (series, code, holder) already keeps it to one coupon each, even for a
	// customer who was issued the code before and transferred it away.
	ev.ID, ev.Reason = e.newID(), "redeemed a shared code"
	keys := issueKeys(p.s.ID, customer)
	p.insert, p.issue = true, []coupon.Event{ev}
	p.issued = []store.Bump{{Key: keys[0], Delta: 1, At: now}, {Key: keys[1], Delta: 1, At: now}}
	return nil
}

// changeBuf is a reusable Change with room for the common shapes, so that
// the hot paths do not allocate one per operation. Stores do not keep a
// Change after Apply (see store.Change).
type changeBuf struct {
	ch      store.Change
	coupons [2]store.CouponUpdate
	reds    [1]coupon.Redemption
	bumps   [6]store.Bump
	events  [2]coupon.Event

	read readBuf
}

// readBuf holds what a redemption reads: memory handed to the store, which
// therefore cannot be on the stack.
type readBuf struct {
	found  [2]coupon.Coupon // the coupons of the code
	keys   [4]store.CounterKey
	counts [4]store.Count
}

// getChange takes a changeBuf from the pool, or makes one.
func (e *Engine) getChange() *changeBuf {
	if b, ok := e.changes.Get().(*changeBuf); ok {
		return b
	}
	return new(changeBuf)
}

// putChange returns b to the pool. Only the Change is cleared: every user
// writes each array entry it puts in the Change or reads back, so stale
// entries are never seen, and clearing them all would cost more than a
// redemption's other writes together.
func (e *Engine) putChange(b *changeBuf) {
	b.ch = store.Change{}
	e.changes.Put(b)
}
