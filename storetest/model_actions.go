package storetest

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// The model test's actions: each draws its arguments, runs one engine
// operation and the model's version of it, and compares the two results.

func (mc *machine) issue(t *rapid.T) {
	s, cust := mc.drawSeries(t), drawCustomer(t, "customer")
	key := rapid.SampledFrom([]string{"", "", "crm-1", "crm-2"}).Draw(t, "key")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Issue(%s to %s, key %q) at %s", s.s.Name, cust, key, now.Format(time.DateTime))
	req := couponkit.IssueRequest{SeriesID: s.id(), Customer: couponkit.ByID(cust), IdempotencyKey: key}
	if k, used := mc.m.issued[[2]string{s.id(), key}]; used {
		// A key used before: the first coupon, as it is now, or a
		// mismatch; nothing changes either way.
		res, err := mc.e.e.Issue(mc.e.ctx, req)
		if k.customer != cust {
			mc.expect(t, op, err, fail(errcode.KeyMismatch))
			return
		}
		mc.expect(t, op, err, ok())
		if !res.Replayed {
			t.Fatalf("%s: the model replays coupon %s; the engine answers %+v", op, k.couponID, res)
		}
		match(t, op+": the replayed coupon", res.Coupon, *mc.m.coupons[k.couponID])
		return
	}
	o := mc.m.planIssue(s, cust, now)
	res, err := mc.e.e.Issue(mc.e.ctx, req)
	mc.expect(t, op, err, o.want)
	if err != nil {
		return
	}
	if o.resent != nil {
		if !res.Resent {
			t.Fatalf("%s: the model re-sends the customer's coupon %s; the engine issued %s", op, o.resent.ID, res.Coupon.ID)
		}
		match(t, op+": the re-sent coupon", res.Coupon, *o.resent)
		return
	}
	if res.Resent {
		t.Fatalf("%s: the engine re-sent a coupon; the model issues a new one", op)
	}
	mc.checkFresh(t, op, res.Coupon, o.fresh, o.pool, s)
	c := mc.m.applyIssue(s, cust, res.Coupon, o.fresh, now)
	if key != "" {
		c.IssueKey = key
		mc.m.issued[[2]string{s.id(), key}] = issuedByKey{c.ID, cust}
	}
	match(t, op+": the issued coupon", res.Coupon, *c)
}

// checkFresh checks that the coupon the engine chose for an issue or a
// reissue is one the rules allow: any Available coupon of the pool, or a
// newly minted code unlike every other.
func (mc *machine) checkFresh(t *rapid.T, op string, got coupon.Coupon, fresh string, pool []*coupon.Coupon, s *mseries) {
	t.Helper()
	switch fresh {
	case "pool":
		if !slices.ContainsFunc(pool, func(c *coupon.Coupon) bool { return c.ID == got.ID }) {
			t.Fatalf("%s: the engine drew coupon %s (%s), not one of the %d available in the pool", op, got.ID, got.Code, len(pool))
		}
	default:
		if mc.m.coupons[got.ID] != nil {
			t.Fatalf("%s: the new coupon reuses the id of coupon %s", op, got.ID)
		}
		if fresh == "mint" {
			if len(got.Code) != s.s.Source.Length || got.Canonical != got.Code || len(mc.m.byCode(got.Code)) > 0 {
				t.Fatalf("%s: a minted code must be a new %d-character canonical code: %q", op, s.s.Source.Length, got.Code)
			}
		}
	}
}

// use redeems or holds a code of any series, on a basket now and then;
// useB one of series B, mostly on a basket.
func (mc *machine) use(t *rapid.T, hold bool) { mc.useCode(t, mc.drawCode(t), hold) }

func (mc *machine) useB(t *rapid.T, hold bool) { mc.useCode(t, mc.drawCodeOf(t, mc.m.b), hold) }

func (mc *machine) useCode(t *rapid.T, code string, hold bool) {
	cust := mc.drawUser(t, code, "customer")
	k := rapid.SampledFrom([]string{"k1", "k2", "k3"}).Draw(t, "key")
	b := mc.drawBasketFor(t, code)
	var ttl time.Duration
	name := "Redeem"
	if hold {
		ttl = rapid.SampledFrom([]time.Duration{10 * time.Minute, time.Hour}).Draw(t, "ttl")
		name = "Hold"
	}
	now := mc.e.clk.Now()
	op := fmt.Sprintf("%s(%s by %s, key %s%s) at %s", name, code, cust, k, b.label(), now.Format(time.DateTime))
	p := mc.m.use(code, cust, k, b, hold, now)
	req := b.request(code, cust, k)
	var res couponkit.RedeemResult
	var err error
	if hold {
		res, err = mc.e.e.Hold(mc.e.ctx, couponkit.HoldRequest{RedeemRequest: req, TTL: ttl})
	} else {
		res, err = mc.e.e.Redeem(mc.e.ctx, req)
	}
	mc.expect(t, op, err, p.want)
	if err != nil {
		return
	}
	if p.replay != nil {
		if !res.Replayed {
			t.Fatalf("%s: the key was used on this coupon: the model replays redemption %s; the engine made %s", op, p.replay.ID, res.Redemption.ID)
		}
		match(t, op+": the replayed redemption", res.Redemption, *p.replay)
		match(t, op+": the replayed coupon", res.Coupon, *mc.m.coupons[p.replay.CouponID])
		match(t, op+": the replayed discount", res.Discount, series.Money{Amount: p.replay.Discount, Currency: p.replay.Currency})
		return
	}
	if res.Replayed {
		t.Fatalf("%s: the engine replayed redemption %s; the model makes a new one", op, res.Redemption.ID)
	}
	if mc.m.reds[res.Redemption.ID] != nil {
		t.Fatalf("%s: the new redemption reuses id %s", op, res.Redemption.ID)
	}
	if p.insert && mc.m.coupons[res.Coupon.ID] != nil {
		t.Fatalf("%s: a non-holder's own coupon of the common code must be new; the engine used %s", op, res.Coupon.ID)
	}
	if msg := mc.m.checkDigest(p.co.basket, res.Redemption.Lines); msg != "" {
		t.Fatalf("%s: %s", op, msg)
	}
	if p.co.reduced {
		mc.stats[name+": ok, reduced by a budget"]++
	}
	r := mc.m.applyUse(p, cust, k, ttl, res.Redemption.ID, res.Coupon.ID, now)
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
	match(t, op+": the discount", res.Discount, cents(p.co.discount))
}

func (mc *machine) validate(t *rapid.T) { mc.validateCode(t, mc.drawCode(t)) }

func (mc *machine) validateB(t *rapid.T) { mc.validateCode(t, mc.drawCodeOf(t, mc.m.b)) }

func (mc *machine) validateCode(t *rapid.T, code string) {
	cust := mc.drawUser(t, code, "customer")
	b := mc.drawBasketFor(t, code)
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Validate(%s by %s%s) at %s", code, cust, b.label(), now.Format(time.DateTime))
	p := mc.m.plan(code, cust, b, now)
	chk, err := mc.e.e.Validate(mc.e.ctx, b.request(code, cust, "v"))
	mc.expect(t, op, err, p.want)
	if err != nil {
		return
	}
	want := couponkit.Check{Coupon: *p.c, Discount: cents(p.co.discount), Parts: p.co.parts, Reduced: p.co.reduced}
	match(t, op+": the check", chk, want)
}

func (mc *machine) confirm(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusHeld)
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Confirm(%s) at %s", id, now.Format(time.DateTime))
	w, r, replay := mc.m.confirm(id, now)
	res, err := mc.e.e.Confirm(mc.e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: id}, Actor: "checkout"})
	mc.expect(t, op, err, w)
	if err != nil {
		return
	}
	if res.Replayed != replay {
		t.Fatalf("%s: Replayed is %v, the model says %v", op, res.Replayed, replay)
	}
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
}

func (mc *machine) release(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusHeld)
	now := mc.e.clk.Now()
	w := mc.m.releaseHold(id, now)
	mc.expect(t, fmt.Sprintf("Release(%s) at %s", id, now.Format(time.DateTime)), mc.e.e.Release(mc.e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: id}, Actor: "till"}), w)
}

func (mc *machine) reverse(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusRedeemed)
	req := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: id}, Actor: "support"}
	if rapid.Bool().Draw(t, "by code and key") {
		req = couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: "NOPE42", IdempotencyKey: "k1"}}
		if r := mc.m.reds[id]; r != nil {
			req = couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: mc.m.coupons[r.CouponID].Code, IdempotencyKey: r.IdempotencyKey}}
		}
	}
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Reverse(%+v) at %s", req, now.Format(time.DateTime))
	w, r := mc.m.reverse(req.Redemption.ID, req.Redemption.Code, req.Redemption.IdempotencyKey, now)
	res, err := mc.e.e.Reverse(mc.e.ctx, req)
	mc.expect(t, op, err, w)
	if err != nil {
		return
	}
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
}

func matchRevoke(t *rapid.T, op string, res couponkit.RevokeResult, w revokeWant) {
	t.Helper()
	var revoked []revokedRec
	for _, r := range res.Revoked {
		revoked = append(revoked, revokedRec{r.CouponID, r.Code, r.Holder})
	}
	if res.Total != w.total || res.RevokedCount != len(w.revoked) {
		t.Fatalf("%s: total %d revoked %d; the model says %d and %d", op, res.Total, res.RevokedCount, w.total, len(w.revoked))
	}
	match(t, op+": the revoked coupons", revoked, w.revoked)
	match(t, op+": the failures", failures(res), w.failed)
}

func (mc *machine) revokeCode(t *rapid.T) {
	code := mc.drawCode(t)
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Revoke(code %s) at %s", code, now.Format(time.DateTime))
	w := mc.m.revokeCode(code, now)
	res, err := mc.e.e.Revoke(mc.e.ctx, couponkit.RevokeRequest{Codes: []string{code}, Actor: "ops"})
	mc.expect(t, op, err, w.want)
	if err == nil {
		matchRevoke(t, op, res, w)
	}
}

func (mc *machine) revokeCustomer(t *rapid.T) {
	s, cust := mc.drawSeries(t), drawCustomer(t, "customer")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Revoke(%s of %s) at %s", s.s.Name, cust, now.Format(time.DateTime))
	w := mc.m.revokeCustomer(s, cust, now)
	res, err := mc.e.e.Revoke(mc.e.ctx, couponkit.RevokeRequest{SeriesID: s.id(), Customer: couponkit.ByID(cust), Actor: "ops"})
	mc.expect(t, op, err, w.want)
	if err == nil {
		matchRevoke(t, op, res, w)
	}
}

func (mc *machine) transfer(t *rapid.T) {
	code := mc.drawCode(t)
	from, to := mc.drawUser(t, code, "from"), drawCustomer(t, "to")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Transfer(%s from %s to %s) at %s", code, from, to, now.Format(time.DateTime))
	w, c := mc.m.transfer(code, from, to, now)
	moved, err := mc.e.e.Transfer(mc.e.ctx, couponkit.TransferRequest{Code: code, From: couponkit.ByID(from), To: couponkit.ByID(to)})
	mc.expect(t, op, err, w)
	if err == nil {
		match(t, op+": the coupon", moved, *c)
	}
}

func (mc *machine) reissue(t *rapid.T) {
	code := mc.drawCode(t)
	notify := rapid.Bool().Draw(t, "notify")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Reissue(%s) at %s", code, now.Format(time.DateTime))
	o := mc.m.planReissue(code, now)
	res, err := mc.e.e.Reissue(mc.e.ctx, couponkit.ReissueRequest{Code: code, Notify: notify, Actor: "support"})
	mc.expect(t, op, err, o.want)
	if err != nil {
		return
	}
	mc.checkFresh(t, op, res.New, o.fresh, o.pool, o.s)
	old, fresh := mc.m.applyReissue(o, res.New, notify, now)
	match(t, op+": the old coupon", res.Old, *old)
	match(t, op+": the new coupon", res.New, *fresh)
}

func (mc *machine) expire(t *rapid.T) {
	now := mc.e.clk.Now()
	want := mc.m.expireDue(now)
	n, err := mc.e.e.ExpireDue(mc.e.ctx)
	if err != nil || n != want {
		t.Fatalf("ExpireDue at %s: the engine marked %d (%v); the model %d", now.Format(time.DateTime), n, err, want)
	}
}

func (mc *machine) sweep(t *rapid.T) {
	now := mc.e.clk.Now()
	want := mc.m.releaseLapsed(now, func(*coupon.Redemption) bool { return true })
	n, err := mc.e.e.ReleaseLapsedHolds(mc.e.ctx)
	if err != nil || n != want {
		t.Fatalf("ReleaseLapsedHolds at %s: the engine released %d (%v); the model %d", now.Format(time.DateTime), n, err, want)
	}
}

func (mc *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Minute, 20 * time.Minute, 45 * time.Minute, 3 * time.Hour, 24 * time.Hour}).Draw(t, "advance")
	mc.e.clk.Advance(d)
}
