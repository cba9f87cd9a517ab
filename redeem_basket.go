package couponkit

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// BasketRequest applies several codes to one basket as one transaction.
type BasketRequest struct {
	// Codes are the codes as typed, at most basket.MaxCoupons, each once.
	Codes []string `json:"codes"`
	// Customer is the redeemer.
	Customer CustomerRef `json:"customer"`
	// IdempotencyKey names the transaction (the POS transaction id).
	// Each coupon's redemption is recorded under the key derived from it,
	// IdempotencyKey+"/"+code (BasketKey). Required by RedeemBasket.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Currency is the basket's currency; Lines its lines (see package
	// basket), at least one.
	Currency string        `json:"currency"`
	Lines    []basket.Line `json:"lines"`
	// Place is where the request is made; Actor who makes it.
	Place limits.Place `json:"place,omitzero"`
	Actor string       `json:"actor,omitempty"`
}

// BasketKey is the idempotency key under which a basket transaction with
// key records the redemption of code: key+"/"+code.
func BasketKey(key, code string) string { return key + "/" + code }

// BasketCoupon is what became of one coupon of a basket: its decision and,
// when the basket was applied, its redemption and the coupon after it. The
// redemption's parts are the decision's (one slice).
type BasketCoupon struct {
	Decision   basket.Decision   `json:"decision"`
	Redemption coupon.Redemption `json:"redemption,omitzero"`
	Coupon     coupon.Coupon     `json:"coupon,omitzero"`
}

// BasketResult is the outcome of a basket transaction.
type BasketResult struct {
	// Coupons hold one entry per code, in the order they were applied
	// (series.Stacking.Priority, then code).
	Coupons []BasketCoupon `json:"coupons"`
	// Discount is the discounts' sum, in the basket's currency.
	Discount series.Money `json:"discount"`
	// Replayed is true when the key had been used for the same codes and
	// basket: the result is the first one, and nothing changed.
	Replayed bool `json:"replayed,omitempty"`
}

// BasketRefusedError is a basket transaction refused because one coupon
// or more was: nothing was written. Decisions hold every coupon's
// decision, the refused ones with their refusals. It matches under
// errors.Is the errcode sentinel of every refusal's code.
type BasketRefusedError struct {
	Decisions []basket.Decision
}

func (e *BasketRefusedError) Error() string {
	var b strings.Builder
	b.WriteString("basket refused:")
	for _, d := range e.Decisions {
		if d.Applied {
			continue
		}
		b.WriteString(" ")
		b.WriteString(d.Code)
		b.WriteString(": ")
		b.WriteString((&refusal.Error{Refusals: d.Refusals}).Error())
		b.WriteString(";")
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap returns one *refusal.Error per refused coupon.
func (e *BasketRefusedError) Unwrap() []error {
	var out []error
	for _, d := range e.Decisions {
		if !d.Applied {
			out = append(out, &refusal.Error{Refusals: d.Refusals})
		}
	}
	return out
}

// basketTx is a basket transaction: per coupon, its derived request and,
// for the attempt under way, its snapshot, plan and buffers, in the
// request's order; then the stacked result. It is made once per call and
// read and decided again by each attempt; the engine keeps it for the next
// call (getBasketTx), so nothing a result holds points into it.
type basketTx struct {
	cs      []txCoupon
	coupons []basket.Coupon // the coupons, as basket.Stack takes them
	order   []int           // order[j] is the index of the coupon of res.Decisions[j]
	lines   basket.Basket
	total   decimal.Decimal // what the lines come to (linesTotal)
	res     *basket.Result  // stk's: it holds until the next Stack
	stk     basket.Stacker
	// digest is what the redemptions record in Lines (txDigest), of the
	// basket's digest, bdigest.
	digest  string
	bdigest [32]byte
	ch      store.Change // the write's change
}

// txCoupon is one coupon of a basket transaction.
type txCoupon struct {
	req  RedeemRequest
	snap useSnapshot
	plan useplan
	buf  changeBuf // what the coupon's read and write hand the store
	r    coupon.Redemption
	c    coupon.Coupon
}

// getBasketTx takes a transaction of n coupons from the engine's pool, or
// makes one. Every field is set before it is read.
func (e *Engine) getBasketTx(n int) *basketTx {
	tx, _ := e.baskets.Get().(*basketTx)
	if tx == nil || cap(tx.cs) < n {
		tx = &basketTx{cs: make([]txCoupon, n), coupons: make([]basket.Coupon, n), order: make([]int, n)}
	}
	tx.cs, tx.coupons, tx.order = tx.cs[:n], tx.coupons[:n], tx.order[:n]
	return tx
}

// putBasketTx gives tx back to the pool, without the caller's lines and
// the result's parts.
func (e *Engine) putBasketTx(tx *basketTx) {
	tx.lines, tx.res = basket.Basket{}, nil
	tx.stk.Reset()
	for i := range tx.cs {
		tx.cs[i].req.Lines, tx.cs[i].plan.co.parts, tx.cs[i].r.Parts = nil, nil, nil
	}
	e.baskets.Put(tx)
}

// newBasketTx fills tx with the transaction of req: the request of each of
// its codes, the lines' total and digest. It checks the request's fields;
// the lines are checked by basket.Stack.
func newBasketTx(tx *basketTx, req *BasketRequest) error {
	for i, c := range req.Codes {
		if slices.Contains(req.Codes[:i], c) {
			return errcode.New(errcode.InvalidArgument, "Codes["+strconv.Itoa(i)+"]", "code "+c+" is named twice")
		}
		tx.cs[i].req = req.coupon(c)
		if err := tx.cs[i].req.validate(); err != nil {
			return err
		}
	}
	tx.lines = basket.Basket{Currency: req.Currency, Lines: req.Lines}
	tx.total = linesTotal(req.Lines, req.Currency)
	appendBasketDigest(tx.bdigest[:0], &tx.lines)
	return nil
}

// validate checks the request's number of codes and lines.
func (r *BasketRequest) validate() error {
	switch {
	case len(r.Codes) == 0:
		return errcode.New(errcode.InvalidArgument, "Codes", "name at least one code")
	case len(r.Codes) > basket.MaxCoupons:
		return errcode.New(errcode.TooMany, "Codes", "at most "+strconv.Itoa(basket.MaxCoupons)+" codes")
	case len(r.Lines) == 0:
		return errcode.New(errcode.InvalidArgument, "Lines", "a basket has at least one line")
	}
	return nil
}

// RedeemBasket applies several codes to one basket, all or nothing, under
// one transaction key. Every coupon is read and decided as Redeem decides
// it (state, rules, budgets), and the coupons are stacked on the basket
// with basket.Stack (priority order; exclusive, group and MaxPerBill; each
// discount on what the previous ones left). Only when every coupon is
// applied are they written, in one store change: each coupon's redemption
// under BasketKey(key, code), its use counters and budgets bumped under
// their guards, its coupon updated and its event. Otherwise nothing is
// written and the error is a *BasketRefusedError holding every coupon's
// decision. A write that loses a race is decided again on a fresh read.
//
// Idempotency: a repeat is found through the derived keys. Each
// redemption records, in coupon.Redemption.Lines, the basket's digest and
// the digest of the transaction's codes; when a request's coupons are
// refused, or its write collides on a key, the redemptions under their
// derived keys are read. The same codes, basket, customer and place
// return the first result with Replayed set; a key found with other codes
// (some codes recorded, others not, or a recorded code set that differs)
// is refused with ErrKeyMismatch on "Codes", with another basket on
// "Lines", as Redeem refuses. A request that shares no code with the
// first transaction under its key cannot be told from a new one.
func (e *Engine) RedeemBasket(ctx context.Context, req BasketRequest) (_ BasketResult, err error) {
	ctx, o := e.begin(ctx, observe.RedeemBasket, "")
	defer o.end(&err)
	if req.IdempotencyKey == "" {
		return BasketResult{}, errcode.New(errcode.InvalidArgument, "IdempotencyKey", "is required")
	}
	return e.basket(ctx, &req, true)
}

// ValidateBasket is a dry run of RedeemBasket: it reads and decides as
// RedeemBasket does and writes nothing. It answers the result the
// transaction would have, or the *BasketRefusedError it would get. The
// idempotency key is not needed, and repeats are not looked for.
func (e *Engine) ValidateBasket(ctx context.Context, req BasketRequest) (_ BasketResult, err error) {
	ctx, o := e.begin(ctx, observe.ValidateBasket, "")
	defer o.end(&err)
	return e.basket(ctx, &req, false)
}

// basket validates req, then, in the engine's retry loop, reads and
// decides every coupon and, with write, writes them or answers a repeat.
func (e *Engine) basket(ctx context.Context, req *BasketRequest, write bool) (BasketResult, error) {
	if err := req.validate(); err != nil {
		return BasketResult{}, err
	}
	tx := e.getBasketTx(len(req.Codes))
	defer e.putBasketTx(tx)
	if err := e.admit(newBasketTx(tx, req)); err != nil {
		return BasketResult{}, err
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return BasketResult{}, err
	}
	var out BasketResult
	err = e.retry(ctx, func() error {
		now := e.now()
		if err := e.decideBasketTx(ctx, tx, cust, now); err != nil {
			return err
		}
		refused := false
		for i := range tx.cs {
			refused = refused || !tx.cs[i].plan.allowed()
		}
		if !write {
			if refused {
				return tx.refusal()
			}
			out = tx.result(false)
			return nil
		}
		if refused {
			if replayed, err := e.replayBasket(ctx, tx, now, &out); replayed || err != nil {
				return err
			}
			return tx.refusal()
		}
		return e.writeBasket(ctx, tx, now, &out)
	})
	return out, err
}

// coupon is the single-coupon request of code within r.
func (r *BasketRequest) coupon(code string) RedeemRequest {
	key := ""
	if r.IdempotencyKey != "" {
		key = BasketKey(r.IdempotencyKey, code)
	}
	return RedeemRequest{
		Code: code, Customer: r.Customer, IdempotencyKey: key,
		Bill: series.Money{Currency: r.Currency}, Lines: r.Lines, Place: r.Place, Actor: r.Actor,
	}
}

// decideBasketTx reads every coupon of tx, decides each as a single use
// would, then stacks them on the basket and decides each plan's basket and
// budgets again from its stacked decision.
func (e *Engine) decideBasketTx(ctx context.Context, tx *basketTx, cust Customer, now time.Time) error {
	for i := range tx.cs {
		x := &tx.cs[i]
		snap, err := e.readUse(ctx, &x.req, cust, now, &x.buf.read)
		if err != nil {
			return err
		}
		x.snap = snap
		p := &x.plan
		// The rules are decided on the bill the lines come to; the
		// basket and budgets on the stacked decision, below.
		bill := x.req
		bill.Lines, bill.Bill.Amount = nil, tx.total
		if err := decideUseOf(p, &x.snap, &bill, now, true); err != nil {
			return err
		}
		var b basket.Budget
		if snap.s.Budget.Capped() {
			if b, err = budgetLeft(p, &x.snap); err != nil {
				return err
			}
		}
		tx.coupons[i] = basket.CouponOf(p.c.Code, snap.s, b)
	}
	res, err := tx.stk.Stack(&tx.lines, tx.coupons, tx.cs[0].snap.rates)
	if err != nil {
		return err
	}
	tx.res = res
	tx.digest = txDigest(tx.bdigest[:], tx.coupons)
	for j := range res.Decisions {
		i := slices.IndexFunc(tx.coupons, func(c basket.Coupon) bool { return c.Code == res.Decisions[j].Code })
		tx.order[j] = i
		p := &tx.cs[i].plan
		p.co = checkout{lines: tx.digest, guards: p.co.guards}
		if err := decideCheckout(p, &tx.cs[i].snap, &res.Decisions[j]); err != nil {
			return err
		}
	}
	return nil
}

// linesTotal is what the lines come to: the sum of quantity times unit
// price, in the currency's minor units (the lines are checked by
// basket.Stack).
func linesTotal(lines []basket.Line, currency string) decimal.Decimal {
	mu := int32(series.MinorUnits(currency))
	bk := basket.Basket{Currency: currency, Lines: lines}
	if t, ok := bk.Total(); ok {
		return decimal.New(t, -mu)
	}
	var t decimal.Decimal
	for i := range lines {
		t = t.Add(lines[i].UnitPrice.Mul(decimal.NewFromInt(lines[i].Quantity)))
	}
	return decimal.New(t.Shift(mu).IntPart(), -mu)
}

// refusal is the error of a transaction some coupon of which is refused:
// every coupon's decision, a refused one with the refusals of its plan
// (its state, rules, basket and budgets).
func (tx *basketTx) refusal() error {
	ds := make([]basket.Decision, len(tx.res.Decisions))
	for j, d := range tx.res.Decisions {
		p := &tx.cs[tx.order[j]].plan
		if !p.allowed() {
			if p.state != nil && !stateRefusal(p.state) {
				return p.state
			}
			d.Applied, d.Refusals = false, p.refusals(time.Time{})
		}
		ds[j] = d
	}
	return &BasketRefusedError{Decisions: ds}
}

// result is the transaction's result, with, when written is set, the
// redemptions and coupons written.
func (tx *basketTx) result(written bool) BasketResult {
	out := BasketResult{Coupons: make([]BasketCoupon, len(tx.res.Decisions))}
	for j := range tx.res.Decisions {
		x := &tx.cs[tx.order[j]]
		bc := &out.Coupons[j]
		bc.Decision = tx.res.Decisions[j]
		if written {
			loc := x.snap.loc
			bc.Redemption, bc.Coupon = x.r.In(loc), x.c.In(loc)
		}
	}
	out.Discount = series.Money{Amount: decimal.New(tx.res.Minor, -int32(series.MinorUnits(tx.res.Currency))), Currency: tx.res.Currency}
	return out
}

// writeBasket writes every coupon's use in one change: the changes
// useChange makes for each, their bumps of one counter merged into one
// (two coupons of one series share its series and customer counters).
// A collision on a key replays or makes the next attempt read again.
func (e *Engine) writeBasket(ctx context.Context, tx *basketTx, now time.Time, out *BasketResult) error {
	ch := &tx.ch
	*ch = store.Change{NewCoupons: ch.NewCoupons[:0], Coupons: ch.Coupons[:0], NewRedemptions: ch.NewRedemptions[:0],
		Events: ch.Events[:0], Bumps: ch.Bumps[:0]}
	for i := range tx.cs {
		x := &tx.cs[i]
		b := &x.buf
		c, r, err := useChange(b, &x.plan, &x.req, 0, now, e)
		if err != nil {
			return err
		}
		x.r, x.c = r, c
		ch.NewCoupons = append(ch.NewCoupons, b.ch.NewCoupons...)
		ch.Coupons = append(ch.Coupons, b.ch.Coupons...)
		ch.NewRedemptions = append(ch.NewRedemptions, b.ch.NewRedemptions...)
		ch.Events = append(ch.Events, b.ch.Events...)
		ch.Bumps = mergeBumps(ch.Bumps, b.ch.Bumps)
		b.ch = store.Change{}
	}
	if err := e.st.Apply(ctx, ch); err != nil {
		var ex *store.ExistsError
		if !errors.As(err, &ex) {
			return err
		}
		if replayed, rerr := e.replayBasket(ctx, tx, now, out); replayed || rerr != nil {
			return rerr
		}
		return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
	}
	*out = tx.result(true)
	return nil
}

// mergeBumps appends bumps to dst, adding a bump of a key dst holds to
// that bump: a change bumps each counter once (store.Change.Validate). A
// bump of Delta k under a guard is k guarded increments, so the sum keeps
// every coupon's guard (the guards of one counter are the same: its
// series' rules).
func mergeBumps(dst, bumps []store.Bump) []store.Bump {
next:
	for _, b := range bumps {
		for i := range dst {
			// The counter first: most keys differ there, and it is
			// cheaper than the strings.
			if k := &dst[i].Key; k.Counter == b.Key.Counter && *k == b.Key {
				dst[i].Delta += b.Delta
				continue next
			}
		}
		dst = append(dst, b)
	}
	return dst
}

// replayBasket looks for the transaction's redemptions under their
// derived keys. When it finds none it reports false. Otherwise it reports
// true and sets *out to the first result, or returns ErrKeyMismatch when
// the key was used for other codes, another basket, customer or place.
func (e *Engine) replayBasket(ctx context.Context, tx *basketTx, now time.Time, out *BasketResult) (bool, error) {
	found := 0
	for i := range tx.cs {
		x := &tx.cs[i]
		p := &x.plan
		if p.insert {
			continue
		}
		r, err := e.st.RedemptionByKey(ctx, p.c.ID, x.req.IdempotencyKey)
		if errors.Is(err, errcode.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		found++
		if r.Lines != tx.digest {
			basketPart, _, _ := strings.Cut(r.Lines, "/")
			if want, _, _ := strings.Cut(tx.digest, "/"); basketPart == want {
				return true, keyMismatch("Codes", "other codes")
			}
			return true, keyMismatch("Lines", "another basket")
		}
		want := p.params(&x.req)
		if err := sameUse(&r, &want, false, now); err != nil {
			return true, err
		}
		if x.c, err = e.st.Coupon(ctx, r.CouponID); err != nil {
			return true, err
		}
		x.r = r
	}
	switch {
	case found == 0:
		return false, nil
	case found < len(tx.cs):
		return true, keyMismatch("Codes", "other codes")
	}
	*out = tx.result(true)
	replayed(out, tx.res.Currency)
	return true, nil
}

// replayed makes out, the result of a transaction found written, the
// first result: each coupon's decision is what its redemption recorded.
func replayed(out *BasketResult, currency string) {
	var sum int64
	for j := range out.Coupons {
		d := &out.Coupons[j].Decision
		r := &out.Coupons[j].Redemption
		d.Applied, d.Refusals, d.Discount, d.Reduced = true, nil, r.Discount, r.Reduced
		d.Minor = r.Discount.Shift(int32(series.MinorUnits(r.Currency))).IntPart()
		d.Parts = r.Parts
		sum += d.Minor
	}
	out.Discount.Amount = decimal.New(sum, -int32(series.MinorUnits(currency)))
	out.Replayed = true
}
