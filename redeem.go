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

// HoldRequest is a redemption request for a use to reserve, with how long
// the hold lives.
type HoldRequest struct {
	RedeemRequest
	// TTL is the hold's time to live; it must be positive.
	TTL time.Duration `json:"ttl"`
}

// Hold reserves one use of a coupon for req.TTL, for a cart not yet paid.
// The hold counts against every limit until it is confirmed (Confirm),
// released (Release) or lapses. Errors are those of Redeem; repeating the
// key of a hold that was released answers ErrHoldReleased, and of one that
// lapsed ErrHoldExpired.
func (e *Engine) Hold(ctx context.Context, req HoldRequest) (RedeemResult, error) {
	ttl := req.TTL
	if ttl <= 0 {
		return RedeemResult{}, errcode.New(errcode.InvalidArgument, "TTL", "a hold needs a positive time to live")
	}
	if err := e.holdEnd(ttl); err != nil {
		return RedeemResult{}, err
	}
	return e.use(ctx, req.RedeemRequest, ttl)
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
		b := e.change()
		defer e.release(b)
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
//
// It copies what it reads of the plan, so that the plan, which the hot path
// keeps on the stack, does not escape: only a refusal pays for the copies.
func (p *useplan) refusals(heldUntil time.Time) []refusal.Refusal {
	d, rc, q := p.d, p.rc, p.q
	return refusal.ForUse(&refusal.Use{
		Coupon: p.c, Capacity: p.capacity, HeldUntil: heldUntil,
		Decision: &d, Rules: &p.s.Redemption, Counts: &rc, Request: &q,
		Bill: p.bill, Currency: p.s.Discount.Currency,
	})
}

// heldUntil returns when the last hold on the plan's coupon lapses, when
// holds take its last uses (the only case a refusal reports it); the zero
// time otherwise.
func (e *Engine) heldUntil(ctx context.Context, p *useplan) (time.Time, error) {
	if p.capacity == 0 || p.c.Holds == 0 || p.c.Redemptions+p.c.Holds < p.capacity || p.insert {
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

// holdLive refuses a hold that was released (ErrHoldReleased) or lapsed
// (ErrHoldExpired), whether or not the lapse was cleaned up yet.
func holdLive(r *coupon.Redemption, now time.Time) error {
	switch {
	case r.HoldExpiresAt.IsZero():
		return nil
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return errcode.New(errcode.HoldReleased, "IdempotencyKey", "the hold was released at "+r.ReleasedAt.Format(time.RFC3339))
	case r.Status == coupon.StatusReleased, r.Status == coupon.StatusHeld && !r.HoldActive(now):
		return errcode.New(errcode.HoldExpired, "IdempotencyKey", "the hold lapsed at "+r.HoldExpiresAt.Format(time.RFC3339))
	}
	return nil
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
	p.capacity = int(s.Redemption.CodeLimit())
	if s.Source.SharedCode() {
		p.capacity = int(s.Redemption.CustomerLimit())
	}
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

// UseRef names one use of a coupon (a redemption or a hold): by its id, or
// by the code and the idempotency key it was made with, so that a till need
// not keep ids. SeriesID is needed only when the code exists in several
// series.
//
// Who may call the operations that take one (Confirm, Release, Reverse):
// the checkout or back office that made the use; the id and the key are its
// own. Customer is optional; when given, it must be the customer the use
// was made for, and a use of another customer is reported as not found
// (ErrRedemptionNotFound), exactly as a use that does not exist.
type UseRef struct {
	ID             string      `json:"id,omitempty"`
	Code           string      `json:"code,omitempty"`
	SeriesID       string      `json:"series_id,omitempty"`
	IdempotencyKey string      `json:"idempotency_key,omitempty"`
	Customer       CustomerRef `json:"customer,omitzero"`
}

// ConfirmRequest names a hold to confirm.
type ConfirmRequest struct {
	Hold  UseRef `json:"hold"`
	Actor string `json:"actor,omitempty"`
}

// ReleaseRequest names a hold to give back.
type ReleaseRequest struct {
	Hold   UseRef `json:"hold"`
	Actor  string `json:"actor,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Confirm turns a hold into a redemption. Confirming a confirmed hold
// returns it again (Replayed). A hold whose time to live has passed is
// refused with ErrHoldExpired, whether or not it was already released by a
// cleanup; a hold that was released is refused with ErrHoldReleased.
func (e *Engine) Confirm(ctx context.Context, req ConfirmRequest) (RedeemResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err := e.retry(ctx, func() error {
		now := e.now()
		r, c, s, err := e.useOf(ctx, &req.Hold)
		if err != nil {
			return err
		}
		if r.HoldExpiresAt.IsZero() {
			return errcode.New(errcode.RedemptionNotFound, "Hold", "redemption "+r.ID+" is not a hold")
		}
		switch {
		case r.Status == coupon.StatusRedeemed || r.Status == coupon.StatusReversed:
			out, err = e.replay(ctx, r)
			return err
		case r.Status == coupon.StatusHeld && !r.HoldActive(now):
			if err := e.releaseHold(ctx, r, c, now, req.Actor, "hold lapsed"); err != nil {
				return err
			}
			return holdLive(&r, now)
		}
		if err := holdLive(&r, now); err != nil {
			return err
		}
		capacity := int(s.Redemption.CodeLimit())
		if s.Source.SharedCode() {
			capacity = int(s.Redemption.CustomerLimit())
		}
		c2, r2, ev, err := coupon.ConfirmHold(c, r, now, capacity, req.Actor)
		if err != nil {
			return err
		}
		ev.ID = e.newID()
		err = e.st.Apply(ctx, &store.Change{
			Coupons:     []store.CouponUpdate{{Coupon: c2, ExpectVersion: c.Version}},
			Redemptions: []store.RedemptionUpdate{{Redemption: r2, ExpectStatus: coupon.StatusHeld}},
			Events:      []coupon.Event{ev},
		})
		out = RedeemResult{Redemption: r2, Coupon: c2, Discount: series.Money{Amount: r2.Discount, Currency: r2.Currency}}
		return err
	})
	return out, err
}

// Release gives a hold back: the use it reserved is free again, and the
// redemption gap counts from the customer's use before it, as a reversal's
// does. Releasing a
// hold that is already released, or lapsed, changes nothing and succeeds, so
// a release can be retried; releasing a confirmed hold is refused with
// ErrInvalidTransition (reverse the redemption instead).
func (e *Engine) Release(ctx context.Context, req ReleaseRequest) error {
	if err := e.admit(req.validate()); err != nil {
		return err
	}
	reason := req.Reason
	if reason == "" {
		reason = "released"
	}
	return e.retry(ctx, func() error {
		r, c, _, err := e.useOf(ctx, &req.Hold)
		if err != nil {
			return err
		}
		switch {
		case r.HoldExpiresAt.IsZero():
			return errcode.New(errcode.RedemptionNotFound, "Hold", "redemption "+r.ID+" is not a hold")
		case r.Status == coupon.StatusReleased:
			return nil
		case r.Status != coupon.StatusHeld:
			return errcode.New(errcode.InvalidTransition, "Hold", "the hold was confirmed; reverse the redemption instead")
		}
		return e.releaseHold(ctx, r, c, e.now(), req.Actor, reason)
	})
}

// ReleaseLapsedHolds releases every hold whose time to live has passed and
// returns how many it released. Lapsed holds are also released on demand
// when they stand in the way of a redemption; this sweep keeps counters
// honest for reports.
func (e *Engine) ReleaseLapsedHolds(ctx context.Context) (int, error) {
	if err := e.admit(nil); err != nil {
		return 0, err
	}
	return e.releaseLapsed(ctx, store.RedemptionQuery{}, e.now())
}

func (e *Engine) releaseLapsed(ctx context.Context, q store.RedemptionQuery, now time.Time) (int, error) {
	q.Status, q.HoldExpiresBefore, q.Limit = coupon.StatusHeld, now, 256
	n := 0
	for round := 0; ; round++ {
		if round == e.attempts {
			return n, &store.ConflictError{Kind: "redemption", ID: "lapsed holds keep changing"}
		}
		hs, err := e.st.ListRedemptions(ctx, q)
		if err != nil {
			return n, err
		}
		for _, r := range hs {
			c, err := e.st.Coupon(ctx, r.CouponID)
			if err != nil {
				return n, err
			}
			switch err := e.releaseHold(ctx, r, c, now, "", "hold lapsed"); {
			case err == nil:
				n++
			case !errors.Is(err, errcode.ErrConflict):
				return n, err
			}
		}
		if len(hs) < q.Limit {
			return n, nil
		}
	}
}

func (e *Engine) releaseHold(ctx context.Context, r coupon.Redemption, c coupon.Coupon, now time.Time, actor, reason string) error {
	if staleUse(r, c) {
		return &store.ConflictError{Kind: "redemption", ID: r.ID} // released or confirmed concurrently
	}
	c2, r2, ev, err := coupon.ReleaseHold(c, r, now, actor, reason)
	if err != nil {
		return err
	}
	ev.ID = e.newID()
	bumps, err := e.undoUse(ctx, &r, &c, now)
	if err != nil {
		return err
	}
	return e.st.Apply(ctx, &store.Change{
		Coupons:     []store.CouponUpdate{{Coupon: c2, ExpectVersion: c.Version}},
		Redemptions: []store.RedemptionUpdate{{Redemption: r2, ExpectStatus: coupon.StatusHeld}},
		Bumps:       bumps,
		Events:      []coupon.Event{ev},
	})
}

// useOf reads the use a UseRef names, with its coupon and series. A use of
// another customer than the ref's is reported as not found.
func (e *Engine) useOf(ctx context.Context, ref *UseRef) (coupon.Redemption, coupon.Coupon, series.Series, error) {
	id, err := e.useID(ctx, ref)
	if err != nil {
		return coupon.Redemption{}, coupon.Coupon{}, series.Series{}, err
	}
	r, c, s, err := e.redemption(ctx, id)
	if err != nil || ref.Customer.IsZero() {
		return r, c, s, err
	}
	cust, err := e.customers.Resolve(ctx, ref.Customer)
	if err != nil {
		return r, c, s, err
	}
	if r.Customer != cust.ID {
		return r, c, s, errcode.New(errcode.RedemptionNotFound, "ID", "no such redemption")
	}
	return r, c, s, nil
}

// redemption reads a redemption with its coupon and series.
func (e *Engine) redemption(ctx context.Context, id string) (coupon.Redemption, coupon.Coupon, series.Series, error) {
	r, err := e.st.Redemption(ctx, id)
	if err != nil {
		if errors.Is(err, errcode.ErrNotFound) {
			err = errcode.New(errcode.RedemptionNotFound, "RedemptionID", "no redemption "+id)
		}
		return r, coupon.Coupon{}, series.Series{}, err
	}
	c, err := e.st.Coupon(ctx, r.CouponID)
	if err != nil {
		return r, c, series.Series{}, err
	}
	if staleUse(r, c) {
		return r, c, series.Series{}, &store.ConflictError{Kind: "redemption", ID: id}
	}
	s, err := e.st.Series(ctx, c.SeriesID)
	return r, c, s, err
}

// staleUse reports whether r was read before a concurrent confirmation,
// release or reversal of it that its coupon c, read after, already shows:
// a hold or redemption its coupon no longer counts. The transitions would
// refuse it as not found; reading both again gives the true answer.
func staleUse(r coupon.Redemption, c coupon.Coupon) bool {
	return r.Status == coupon.StatusHeld && c.Holds < 1 || r.Status == coupon.StatusRedeemed && c.Redemptions < 1
}

// ReverseRequest names a redemption to reverse.
type ReverseRequest struct {
	Redemption UseRef `json:"redemption"`
	Actor      string `json:"actor,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Reverse undoes one redemption: the use is given back to every limit and
// the coupon is usable again, with Reversed set and LastStatusChange now.
// The redemption gap then counts from the customer's latest unreversed use
// or live hold in the series, as if the reversed one had not been made. A
// redemption is reversed once; again is ErrAlreadyReversed.
func (e *Engine) Reverse(ctx context.Context, req ReverseRequest) (RedeemResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err := e.retry(ctx, func() error {
		r, c, _, err := e.useOf(ctx, &req.Redemption)
		if err != nil {
			return err
		}
		now := e.now()
		c2, r2, ev, err := coupon.Reverse(c, r, now, req.Actor, req.Reason)
		if err != nil {
			return err
		}
		ev.ID = e.newID()
		bumps, err := e.undoUse(ctx, &r, &c, now)
		if err != nil {
			return err
		}
		err = e.st.Apply(ctx, &store.Change{
			Coupons:     []store.CouponUpdate{{Coupon: c2, ExpectVersion: c.Version}},
			Redemptions: []store.RedemptionUpdate{{Redemption: r2, ExpectStatus: coupon.StatusRedeemed}},
			Bumps:       bumps,
			Events:      []coupon.Event{ev},
		})
		out = RedeemResult{Redemption: r2, Coupon: c2, Discount: series.Money{Amount: r2.Discount, Currency: r2.Currency}}
		return err
	})
	return out, err
}

// useID returns the id of the use a UseRef names.
func (e *Engine) useID(ctx context.Context, ref *UseRef) (string, error) {
	if ref.ID != "" {
		return ref.ID, nil
	}
	if ref.Code == "" || ref.IdempotencyKey == "" {
		return "", errcode.New(errcode.InvalidArgument, "ID", "give the id, or the code and the idempotency key")
	}
	cs, _, err := e.lookupCode(ctx, ref.SeriesID, ref.Code, nil)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		r, err := e.st.RedemptionByKey(ctx, c.ID, ref.IdempotencyKey)
		if err == nil {
			return r.ID, nil
		}
		if !errors.Is(err, errcode.ErrNotFound) {
			return "", err
		}
	}
	return "", errcode.New(errcode.RedemptionNotFound, "IdempotencyKey", "no use of "+ref.Code+" with key "+ref.IdempotencyKey)
}

// seriesLocation returns the time zone of the series with the given id.
func (e *Engine) seriesLocation(ctx context.Context, seriesID string) (*time.Location, error) {
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return nil, err
	}
	return e.location(s)
}

// location returns the series' time zone, loaded once per zone name.
func (e *Engine) location(s *series.Series) (*time.Location, error) {
	if l, ok := e.locs.Load(s.TimeZone); ok {
		return l.(*time.Location), nil
	}
	l, err := s.Location()
	if err != nil {
		return nil, err
	}
	e.locs.Store(s.TimeZone, l)
	return l, nil
}
