package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
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
	// With Lines, its amount is the lines' total: zero, or that total.
	Bill series.Money `json:"bill"`
	// Lines, when given, are the bill's lines, in the bill's currency
	// (see package basket): the series' product rules select the
	// eligible ones, the discount applies to them alone, and the
	// redemption records its split per line (coupon.Redemption.Parts).
	// At most basket.MaxLines.
	Lines []basket.Line `json:"lines,omitempty"`
	// Place is where the request is made.
	Place limits.Place `json:"place,omitzero"`
	// Actor is who makes the request (a till, an operator), recorded on
	// the coupon's history.
	Actor string `json:"actor,omitempty"`
}

// RedeemResult is a redemption (or hold) and the coupon after it, their
// times in the series' time zone, as Redeem, Hold, Confirm and Reverse
// answer them, and as they answer a repeated request.
type RedeemResult struct {
	Redemption coupon.Redemption `json:"redemption"`
	Coupon     coupon.Coupon     `json:"coupon"`
	// Discount is what the redemption takes off the bill, in the bill's
	// currency.
	Discount series.Money `json:"discount"`
	// Replayed is true when the idempotency key had been used with the same
	// parameters: the result is the first one, and nothing changed.
	Replayed bool `json:"replayed,omitempty"`
	// Return, for a return (Reverse with Lines, Amount, Chargeback or an
	// idempotency key), is the return as recorded on the redemption: what
	// it asked and what it gave back.
	Return coupon.Return `json:"return,omitzero"`
}

// Check is what a redemption would do now: the coupon it would use (its
// times in the series' time zone) and the discount it would give, with,
// for a request with lines, its split per line, and whether a budget of
// the series reduced it.
type Check struct {
	Coupon   coupon.Coupon `json:"coupon"`
	Discount series.Money  `json:"discount"`
	Parts    []coupon.Part `json:"parts,omitempty"`
	Reduced  bool          `json:"reduced,omitempty"`
}

// useSnapshot is what a redemption, hold or validation reads: the series of
// the code and its time zone, the coupon selectUse chose, and the counters
// of that coupon's uses, read after the choice.
type useSnapshot struct {
	s        *series.Series
	loc      *time.Location
	c        coupon.Coupon // the coupon to use; with insert, the one the redeemer would be issued
	insert   bool          // c is the redeemer's own coupon of a shared code, to be made by the write
	customer Customer
	keys     *[4]store.CounterKey // the counters of c's uses, as useKeys orders them
	counts   *[4]store.Count      // and their values
	spent    [2]store.Count       // the budgets' counters (budgetKeys), for a series with a budget
	rates    series.Rates
}

// useplan is what a redemption, hold or validation decides from its
// snapshot: the coupon, whether the coupon's state lets it take a use, the
// rules' decision with the facts it was made on, and the discount. It is
// allowed when both the coupon and the rules allow it; the write then makes
// the records (useChange).
type useplan struct {
	s        *series.Series
	c        coupon.Coupon
	insert   bool   // c is the redeemer's own coupon of a shared code, made by the write
	customer string // the redeemer's id
	keys     *[4]store.CounterKey
	state    error // the coupon's own refusal (coupon.CanUse); nil when it can take a use
	d        limits.Decision
	rc       limits.RedemptionCounts
	q        limits.RedemptionRequest
	bill     series.Money
	discount series.Money
	capacity int
	co       checkout // the basket and the budgets
}

// allowed reports whether the coupon, the rules, the basket and the
// budgets allow the use.
func (p *useplan) allowed() bool { return p.state == nil && p.d.Allowed() && len(p.co.refs) == 0 }

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
func (e *Engine) Validate(ctx context.Context, req RedeemRequest) (_ Check, err error) {
	ctx, o := e.begin(ctx, observe.Validate, req.Code)
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return Check{}, err
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return Check{}, err
	}
	now := e.now()
	snap, err := e.readUse(ctx, &req, cust, now, new(readBuf))
	if err != nil {
		return Check{}, err
	}
	var p useplan
	if err := decideUse(&p, &snap, &req, now); err != nil {
		return Check{}, err
	}
	if p.allowed() {
		return Check{Coupon: p.c.In(snap.loc), Discount: p.discount, Parts: p.co.parts, Reduced: p.co.reduced}, nil
	}
	if p.state != nil && !stateRefusal(p.state) {
		return Check{}, p.state
	}
	until, err := e.heldUntil(ctx, &p)
	if err != nil {
		return Check{}, err
	}
	return Check{Coupon: p.c.In(snap.loc)}, &refusal.Error{Refusals: p.refusals(until)}
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
	ctx, o := e.begin(ctx, observe.Redeem, req.Code)
	res, err := e.use(ctx, req, 0)
	o.end(&err)
	return res, err
}

// use redeems or, with a positive ttl, holds: it reads the snapshot
// (readUse), decides (decideUse) and writes the use (writeUse), or answers
// a refused plan (refuseUse), again on a stale snapshot.
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
		snap, err := e.readUse(ctx, &req, cust, now, &b.read)
		if err != nil {
			return err
		}
		var plan useplan
		p := &plan
		if err := decideUse(p, &snap, &req, now); err != nil {
			return err
		}
		if !p.allowed() {
			return e.refuseUse(ctx, p, &req, ttl, now, &out)
		}
		return e.writeUse(ctx, b, p, &req, ttl, now, &out)
	})
	return out, err
}

// readUse reads what a use of req's code by cust at now is decided on: the
// coupons of the code and their series, then, once selectUse has chosen
// the coupon, the counters of its uses, read through rb, which reaches the
// store; callers on the hot path pass one they reuse.
func (e *Engine) readUse(ctx context.Context, req *RedeemRequest, cust Customer, now time.Time, rb *readBuf) (useSnapshot, error) {
	if cr, ok := e.st.(store.CodeReader); ok {
		if snap, done, err := e.readUseOnce(ctx, cr, req, cust, now, rb); done {
			return snap, err
		}
	}
	cs, sp, err := e.lookupCode(ctx, req.SeriesID, req.Code, rb.found[:0])
	if err != nil {
		return useSnapshot{}, err
	}
	s, err := e.single(ctx, cs, sp, req.Code)
	if err != nil {
		return useSnapshot{}, err
	}
	return e.snapshotOf(ctx, s, cs, nil, 0, req, cust, now, rb)
}

// selectUse chooses, among the coupons cs of code in series s, the one a
// use by customer at at (in the series' time zone) takes, or refuses the
// use before any counter is read. A unique code has one coupon. A shared
// (common) code has one per customer: the redeemer's own or, when anyone
// may redeem and the code was issued to someone, the coupon the redeemer
// would be issued now (insert), which the write makes. A code the redeemer
// may not use is refused as a code that does not exist, so that a stranger
// learns nothing from it; a series not open at at refuses every use.
func selectUse(s *series.Series, cs []coupon.Coupon, code, customer string, at time.Time) (c coupon.Coupon, insert bool, err error) {
	c = cs[0]
	if s.Source.SharedCode() {
		c, insert = pickShared(s, cs, customer, at)
	}
	if !s.Redemption.AnyoneMayRedeem && c.Holder != customer {
		return coupon.Coupon{}, false, codeNotFound(code)
	}
	if err := checkOpen(s, at); err != nil {
		return coupon.Coupon{}, false, err
	}
	return c, insert, nil
}

// pickShared chooses the coupon of a shared code that a use by customer
// takes: their own, or, when anyone may redeem and the code was issued to
// someone, the coupon ownCoupon describes (insert). Otherwise the first,
// which the decision refuses as never issued or not the holder's.
func pickShared(s *series.Series, cs []coupon.Coupon, customer string, at time.Time) (coupon.Coupon, bool) {
	issued := false
	for _, c := range cs {
		if c.Holder == customer {
			return c, false
		}
		issued = issued || !c.IssuedAt.IsZero()
	}
	if !issued || !s.Redemption.AnyoneMayRedeem {
		return cs[0], false
	}
	return ownCoupon(s, &cs[0], customer, at), true
}

// ownCoupon is the coupon of the shared code of c that customer is issued
// at at (in the series' time zone) when they first redeem it: Issued to
// them at at, expiring as the series says, without an id yet. The write
// makes it (issueOwn), so that the redeemer now holds the common code.
func ownCoupon(s *series.Series, c *coupon.Coupon, customer string, at time.Time) coupon.Coupon {
	return coupon.Coupon{
		SeriesID: s.ID, Code: c.Code, Canonical: c.Canonical, Shared: true,
		State: coupon.Issued, Holder: customer, CreatedAt: at, IssuedAt: at,
		ExpiresAt: s.ExpiresAt(at, at.Location()), LastStatusChange: at, Version: 2,
	}
}

// decideUse decides a use of the snapshot's coupon by req at now: the
// bill and discount, the rules' decision over the counters read, and
// whether the coupon's own state lets it take a use. It reads nothing: an
// error is a bill the series cannot take.
func decideUse(p *useplan, snap *useSnapshot, req *RedeemRequest, now time.Time) error {
	return decideUseOf(p, snap, req, now, false)
}

// decideUseOf is decideUse; with stacked, for a coupon of a basket
// transaction, whose discount and budgets are decided again on its stacked
// decision (decideBasketTx), it does not compute the bill's discount and
// budgets that decision replaces (the bill's conversion, which can fail,
// is still checked; a per-unit discount, which needs the lines, is
// computed on them by the stack).
func decideUseOf(p *useplan, snap *useSnapshot, req *RedeemRequest, now time.Time, stacked bool) error {
	s := snap.s
	*p = useplan{s: s, c: snap.c, insert: snap.insert, customer: snap.customer.ID, keys: snap.keys, bill: req.Bill, capacity: s.UseCapacity()}
	if p.bill.Currency == "" {
		p.bill.Currency = s.Discount.Currency
	}
	var bd *basket.Decision
	if len(req.Lines) > 0 {
		var err error
		if bd, err = decideBasket(p, snap, req); err != nil {
			return err
		}
	}
	inSeries, err := s.Discount.ConvertBill(p.bill, snap.rates)
	if err != nil {
		return err
	}
	if bd == nil && !stacked {
		if p.discount, err = s.Discount.Apply(p.bill, snap.rates); err != nil {
			return err
		}
	}
	counts := snap.counts
	p.rc = limits.RedemptionCounts{Code: counts[0].N, CustomerCode: counts[1].N, Series: counts[2].N, CustomerLast: counts[3].Last}
	cust := &snap.customer
	p.q = limits.RedemptionRequest{
		At: now.In(snap.loc), Place: req.Place, Bill: inSeries,
		Customer: limits.CustomerFacts{Registered: cust.Registered, Transactions: cust.Transactions},
		Holder:   p.c.Holder == cust.ID,
		Issued:   !p.c.IssuedAt.IsZero(),
	}
	p.d = limits.EvaluateRedemption(&s.Redemption, &p.rc, &p.q)
	p.state = coupon.CanUse(p.c, now, p.capacity)
	if bd != nil || s.Budget.Capped() && !stacked {
		return decideCheckout(p, snap, bd)
	}
	return nil
}

// params are the parameters of the use p decides for req, but for the
// redemption's id, which the write gives.
func (p *useplan) params(req *RedeemRequest) coupon.RedeemParams {
	return coupon.RedeemParams{
		Customer: p.customer, IdempotencyKey: req.IdempotencyKey, Actor: req.Actor,
		Location: coupon.Location(req.Place), Bill: p.bill.Amount, Discount: p.discount.Amount,
		Currency: p.bill.Currency, Capacity: p.capacity,
		Lines: p.co.lines, Parts: p.co.parts, Reduced: p.co.reduced, Budget: p.co.spend,
	}
}

// writeUse writes the use plan p allows: the change useChange makes, in
// b. A collision with a use written meanwhile replays it, or makes the next
// attempt read again.
func (e *Engine) writeUse(ctx context.Context, b *changeBuf, p *useplan, req *RedeemRequest, ttl time.Duration, now time.Time, out *RedeemResult) error {
	c, r, err := useChange(b, p, req, ttl, now, e)
	if err != nil {
		return err
	}
	if err := e.st.Apply(ctx, &b.ch); err != nil {
		var ex *store.ExistsError
		if !errors.As(err, &ex) {
			return err
		}
		// The key was used before (the store's unique key on it refused
		// this use), or the same key or the redeemer's own shared
		// coupon was written concurrently: replay, or let the next
		// attempt see what was written.
		want := p.params(req)
		if replayed, rerr := e.replayKey(ctx, p, &want, ttl > 0, now, out); replayed || rerr != nil {
			return rerr
		}
		return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
	}
	loc := p.q.At.Location()
	*out = RedeemResult{Redemption: r.In(loc), Coupon: c.In(loc), Discount: p.discount}
	return nil
}

// useChange fills b's Change with what the allowed plan p writes, its ids
// taken from ids: the redemption (or, with a positive ttl, the hold) and
// its event, a bump of each counter of the use under the rules' guard, and
// the coupon's update or, with insert, the redeemer's own coupon of the
// shared code, made and issued now (issueOwn). It returns the coupon after
// the use and the redemption. It reads and writes nothing else.
func useChange(b *changeBuf, p *useplan, req *RedeemRequest, ttl time.Duration, now time.Time, ids idSource) (coupon.Coupon, coupon.Redemption, error) {
	c := p.c
	ch := &b.ch
	var issued coupon.Event
	if p.insert {
		var err error
		if c, issued, err = issueOwn(&p.c, req.Actor, now, ids); err != nil {
			return c, coupon.Redemption{}, err
		}
	}
	rid, eid := ids.idPair()
	params := p.params(req)
	params.ID = rid
	var c2 coupon.Coupon
	var r coupon.Redemption
	var ev coupon.Event
	var err error
	if ttl == 0 {
		c2, r, ev, err = coupon.Redeem(c, now, params)
	} else {
		c2, r, ev, err = coupon.PlaceHold(c, now, now.Add(ttl), params)
	}
	if err != nil {
		return c2, r, err
	}
	ev.ID = eid
	b.reds[0] = r
	ch.NewRedemptions = b.reds[:1]
	ch.Bumps = budgetBumps(guardedBumps(b.bumps[:0], p.d.Guards(), p.keys[:], now), p, now)
	if p.insert {
		// The redeemer now holds the common code: that counts as an issue
		// of it to them. No guard: anyone may redeem, and the store's
		// unique key (series, code, holder) already keeps it to one coupon
		// each, even for a customer who was issued the code before and
		// transferred it away.
		b.fresh[0] = c2
		ch.NewCoupons = b.fresh[:1]
		b.events[0], b.events[1] = issued, ev
		ch.Events = b.events[:2]
		keys := issueKeys(p.s.ID, c.Holder)
		ch.Bumps = append(ch.Bumps, store.Bump{Key: keys[0], Delta: 1, At: now}, store.Bump{Key: keys[1], Delta: 1, At: now})
	} else {
		b.coupons[0] = store.CouponUpdate{Coupon: c2, ExpectVersion: p.c.Version}
		ch.Coupons = b.coupons[:1]
		b.events[0] = ev
		ch.Events = b.events[:1]
	}
	return c2, r, nil
}

// issueOwn makes the redeemer's own coupon of a shared code that own (from
// ownCoupon) describes, with its ids from ids: created and issued to its
// holder at now, with the Issued event.
func issueOwn(own *coupon.Coupon, actor string, now time.Time, ids idSource) (coupon.Coupon, coupon.Event, error) {
	fresh, _, err := coupon.New(coupon.NewParams{ID: ids.nextID(), SeriesID: own.SeriesID, Code: own.Code, Canonical: own.Canonical, Actor: actor}, now)
	if err != nil {
		return coupon.Coupon{}, coupon.Event{}, err
	}
	fresh.Shared = true
	c, ev, err := coupon.Issue(fresh, own.Holder, now, own.ExpiresAt, actor)
	if err != nil {
		return c, ev, err
	}
	ev.ID, ev.Reason = ids.nextID(), "redeemed a shared code"
	return c, ev, nil
}
