package couponkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// when the basket was applied, its redemption and the coupon after it.
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

// basketTx is one attempt's reading and deciding of a basket transaction:
// per coupon, its derived request, snapshot and plan, in the request's
// order, then the stacked result.
type basketTx struct {
	reqs   []RedeemRequest
	snaps  []useSnapshot
	plans  []useplan
	res    *basket.Result
	order  []int // order[j] is the index of the coupon of res.Decisions[j]
	digest string
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
	if err := e.admit(req.validate()); err != nil {
		return BasketResult{}, err
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return BasketResult{}, err
	}
	var out BasketResult
	err = e.retry(ctx, func() error {
		now := e.now()
		tx, err := e.decideBasketTx(ctx, req, cust, now)
		if err != nil {
			return err
		}
		refused := false
		for i := range tx.plans {
			refused = refused || !tx.plans[i].allowed()
		}
		if !write {
			if refused {
				return tx.refusal()
			}
			out = tx.result(nil, nil)
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

// validate checks the request's fields; the lines are checked by
// basket.Stack.
func (r *BasketRequest) validate() error {
	switch {
	case len(r.Codes) == 0:
		return errcode.New(errcode.InvalidArgument, "Codes", "name at least one code")
	case len(r.Codes) > basket.MaxCoupons:
		return errcode.New(errcode.TooMany, "Codes", "at most "+strconv.Itoa(basket.MaxCoupons)+" codes")
	case len(r.Lines) == 0:
		return errcode.New(errcode.InvalidArgument, "Lines", "a basket has at least one line")
	}
	for i, c := range r.Codes {
		if slices.Contains(r.Codes[:i], c) {
			return errcode.New(errcode.InvalidArgument, "Codes["+strconv.Itoa(i)+"]", "code "+c+" is named twice")
		}
		q := r.coupon(c)
		if err := q.validate(); err != nil {
			return err
		}
	}
	return nil
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

// decideBasketTx reads every coupon of req, decides each as a single use
// would, then stacks them on the basket and decides each plan's basket and
// budgets again from its stacked decision.
func (e *Engine) decideBasketTx(ctx context.Context, req *BasketRequest, cust Customer, now time.Time) (*basketTx, error) {
	n := len(req.Codes)
	tx := &basketTx{reqs: make([]RedeemRequest, n), snaps: make([]useSnapshot, n), plans: make([]useplan, n)}
	coupons := make([]basket.Coupon, n)
	bufs := make([]readBuf, n)
	total := linesTotal(req.Lines, req.Currency)
	for i, code := range req.Codes {
		tx.reqs[i] = req.coupon(code)
		snap, err := e.readUse(ctx, &tx.reqs[i], cust, now, &bufs[i])
		if err != nil {
			return nil, err
		}
		tx.snaps[i] = snap
		p := &tx.plans[i]
		// The rules are decided on the bill the lines come to; the
		// basket and budgets on the stacked decision, below.
		bill := tx.reqs[i]
		bill.Lines, bill.Bill.Amount = nil, total
		if err := decideUse(p, &tx.snaps[i], &bill, now); err != nil {
			return nil, err
		}
		var b basket.Budget
		if snap.s.Budget.Capped() {
			if b, err = budgetLeft(p, &tx.snaps[i]); err != nil {
				return nil, err
			}
		}
		coupons[i] = basket.CouponOf(p.c.Code, snap.s, b)
	}
	bk := &basket.Basket{Currency: req.Currency, Lines: req.Lines}
	res, err := basket.Stack(bk, coupons, tx.snaps[0].rates)
	if err != nil {
		return nil, err
	}
	tx.res = res
	tx.digest = basketDigest(bk) + "/" + codesDigest(coupons)
	tx.order = make([]int, n)
	for j := range res.Decisions {
		i := slices.IndexFunc(coupons, func(c basket.Coupon) bool { return c.Code == res.Decisions[j].Code })
		tx.order[j] = i
		p := &tx.plans[i]
		p.co = checkout{lines: tx.digest, guards: p.co.guards}
		if err := decideCheckout(p, &tx.snaps[i], &res.Decisions[j]); err != nil {
			return nil, err
		}
	}
	return tx, nil
}

// linesTotal is what the lines come to: the sum of quantity times unit
// price, in the currency's minor units (the lines are checked by
// basket.Stack).
func linesTotal(lines []basket.Line, currency string) decimal.Decimal {
	var t decimal.Decimal
	for i := range lines {
		t = t.Add(lines[i].UnitPrice.Mul(decimal.NewFromInt(lines[i].Quantity)))
	}
	mu := int32(series.MinorUnits(currency))
	return decimal.New(t.Shift(mu).IntPart(), -mu)
}

// codesDigest is a digest of the coupons' codes, in any order: 64 bits of
// SHA-256, in hex.
func codesDigest(cs []basket.Coupon) string {
	codes := make([]string, len(cs))
	for i := range cs {
		codes[i] = cs[i].Code
	}
	slices.Sort(codes)
	h := sha256.New()
	for _, c := range codes {
		h.Write([]byte(strconv.Itoa(len(c)) + ":" + c))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// refusal is the error of a transaction some coupon of which is refused:
// every coupon's decision, a refused one with the refusals of its plan
// (its state, rules, basket and budgets).
func (tx *basketTx) refusal() error {
	ds := make([]basket.Decision, len(tx.res.Decisions))
	for j, d := range tx.res.Decisions {
		p := &tx.plans[tx.order[j]]
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

// result is the transaction's result, with the redemptions and coupons
// written (indexed as the request's codes) when given.
func (tx *basketTx) result(rs []coupon.Redemption, cs []coupon.Coupon) BasketResult {
	out := BasketResult{Coupons: make([]BasketCoupon, len(tx.res.Decisions))}
	for j, d := range tx.res.Decisions {
		i := tx.order[j]
		out.Coupons[j].Decision = d
		if rs != nil {
			loc := tx.snaps[i].loc
			out.Coupons[j].Redemption, out.Coupons[j].Coupon = rs[i].In(loc), cs[i].In(loc)
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
	n := len(tx.plans)
	rs, cs := make([]coupon.Redemption, n), make([]coupon.Coupon, n)
	var ch store.Change
	for i := range tx.plans {
		b := e.getChange()
		c, r, err := useChange(b, &tx.plans[i], &tx.reqs[i], 0, now, e)
		if err == nil {
			rs[i], cs[i] = r, c
			ch.NewCoupons = append(ch.NewCoupons, b.ch.NewCoupons...)
			ch.Coupons = append(ch.Coupons, b.ch.Coupons...)
			ch.NewRedemptions = append(ch.NewRedemptions, b.ch.NewRedemptions...)
			ch.Events = append(ch.Events, b.ch.Events...)
			ch.Bumps = mergeBumps(ch.Bumps, b.ch.Bumps)
		}
		e.putChange(b)
		if err != nil {
			return err
		}
	}
	if err := e.st.Apply(ctx, &ch); err != nil {
		var ex *store.ExistsError
		if !errors.As(err, &ex) {
			return err
		}
		if replayed, rerr := e.replayBasket(ctx, tx, now, out); replayed || rerr != nil {
			return rerr
		}
		return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
	}
	*out = tx.result(rs, cs)
	return nil
}

// mergeBumps appends bumps to dst, adding a bump of a key dst holds to
// that bump: a change bumps each counter once (store.Change.Validate). A
// bump of Delta k under a guard is k guarded increments, so the sum keeps
// every coupon's guard (the guards of one counter are the same: its
// series' rules).
func mergeBumps(dst, bumps []store.Bump) []store.Bump {
	for _, b := range bumps {
		i := slices.IndexFunc(dst, func(d store.Bump) bool { return d.Key == b.Key })
		if i < 0 {
			dst = append(dst, b)
			continue
		}
		dst[i].Delta += b.Delta
	}
	return dst
}

// replayBasket looks for the transaction's redemptions under their
// derived keys. When it finds none it reports false. Otherwise it reports
// true and sets *out to the first result, or returns ErrKeyMismatch when
// the key was used for other codes, another basket, customer or place.
func (e *Engine) replayBasket(ctx context.Context, tx *basketTx, now time.Time, out *BasketResult) (bool, error) {
	n := len(tx.plans)
	rs, cs := make([]coupon.Redemption, n), make([]coupon.Coupon, n)
	found := 0
	for i := range tx.plans {
		p := &tx.plans[i]
		if p.insert {
			continue
		}
		r, err := e.st.RedemptionByKey(ctx, p.c.ID, tx.reqs[i].IdempotencyKey)
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
		want := p.params(&tx.reqs[i])
		if err := sameUse(&r, &want, false, now); err != nil {
			return true, err
		}
		if cs[i], err = e.st.Coupon(ctx, r.CouponID); err != nil {
			return true, err
		}
		rs[i] = r
	}
	switch {
	case found == 0:
		return false, nil
	case found < n:
		return true, keyMismatch("Codes", "other codes")
	}
	*out = tx.result(rs, cs)
	for j := range out.Coupons {
		// The first result's decisions: what each redemption recorded.
		d := &out.Coupons[j].Decision
		r := &out.Coupons[j].Redemption
		d.Applied, d.Refusals, d.Discount, d.Reduced = true, nil, r.Discount, r.Reduced
		d.Minor = r.Discount.Shift(int32(series.MinorUnits(r.Currency))).IntPart()
		d.Parts = make([]basket.Part, len(r.Parts))
		for k, x := range r.Parts {
			d.Parts[k] = basket.Part{Line: x.Line, Quantity: x.Quantity, Base: x.Base, Discount: x.Discount}
		}
	}
	var sum int64
	for j := range out.Coupons {
		sum += out.Coupons[j].Decision.Minor
	}
	out.Discount.Amount = decimal.New(sum, -int32(series.MinorUnits(tx.res.Currency)))
	out.Replayed = true
	return true, nil
}
