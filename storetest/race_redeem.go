package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// The redemption races: goroutines redeeming, holding, confirming, reversing
// and revoking at once, at every level of the redemption limits.

// Anyone may redeem, code level 5, one use per customer: racing customers
// take exactly five uses of the code.
func raceCodeLevel(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("code", round), func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 5
	})
	c := e.issue(s.ID, "h")
	outs := e.redeemRace(p, round, func(int) string { return c.Code }, func(i int) string { return fmt.Sprintf("r%d", i/2) })
	checkRedeemRace(t, e, s.ID, outs, 5, fmt.Sprintf("%d customers racing at a code with code level 5", p/2),
		either(deniedFor(limits.CodeLimit), isCode(errcode.Redeemed)))
	if got := e.stored(c.ID); got.State != coupon.Redeemed || got.Redemptions != 5 {
		t.Errorf("the code is used up after 5: %+v", got)
	}
}

func raceSingleUse(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("single", round))
	c := e.issue(s.ID, "h")
	outs := e.redeemRace(p, round, func(int) string { return c.Code }, func(int) string { return "h" })
	checkRedeemRace(t, e, s.ID, outs, 1, "a holder's tills racing at a single-use coupon",
		either(deniedFor(limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed), isCode(errcode.Redeemed)))
}

func raceCustomerLevel(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("customer", round), func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
	})
	c := e.issue(s.ID, "h")
	outs := e.redeemRace(p, round, func(int) string { return c.Code }, func(int) string { return "r0" })
	checkRedeemRace(t, e, s.ID, outs, 3, "one customer racing at a code with customer level 3", deniedFor(limits.CustomerLimit))
}

func raceSeriesLevel(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("series", round), func(s *series.Series) { s.Redemption.MaxPerSeries = 5 })
	codes := make([]string, p/2+1)
	for j := range codes {
		codes[j] = e.issue(s.ID, fmt.Sprintf("r%d", j)).Code
	}
	outs := e.redeemRace(p, round, func(i int) string { return codes[i/2] }, func(i int) string { return fmt.Sprintf("r%d", i/2) })
	checkRedeemRace(t, e, s.ID, outs, 5, fmt.Sprintf("%d customers each redeeming their own coupon in a series with series level 5", p/2),
		deniedFor(limits.SeriesLimit))
}

func raceRedemptionGap(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("gap", round), func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MinGap = time.Hour
	})
	codes := make([]string, p/2+1)
	for j := range codes {
		codes[j] = e.issue(s.ID, "g").Code
	}
	outs := e.redeemRace(p, round, func(i int) string { return codes[i/2] }, func(int) string { return "g" })
	checkRedeemRace(t, e, s.ID, outs, 1, "one customer redeeming many coupons of a series with a 1-hour gap at once", deniedFor(limits.RedemptionGap))
}

func raceHolds(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("holds", round), func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 4
	})
	c := e.issue(s.ID, "h")
	outs := run(p, func(i int) redeemOutcome {
		k := pairKey(round, i)
		r, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, fmt.Sprintf("r%d", i/2), k, "100"), TTL: time.Hour})
		return redeemOutcome{key: k, res: r, err: err}
	})
	checkRedeemRace(t, e, s.ID, outs, 4, "holds racing at a code with code level 4",
		either(deniedFor(limits.CodeLimit), refusedFor(errcode.HeldElsewhere)))
	// Confirm every hold at once, twice each: each confirms once.
	var holds []string
	for _, o := range outs {
		if o.err == nil && !o.res.Replayed {
			holds = append(holds, o.res.Redemption.ID)
		}
	}
	confirmed := run(2*len(holds), func(i int) error {
		_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: holds[i/2]}, Actor: "checkout"})
		return err
	})
	for _, err := range confirmed {
		wantOK(t, err, "confirming a live hold, concurrently with the other confirmations")
	}
	checkUses(t, e, s.ID, 4, "after confirming the holds")
	if got := e.stored(c.ID); got.State != coupon.Redeemed || got.Redemptions != 4 || got.Holds != 0 {
		t.Errorf("four confirmed holds use up the code: %+v", got)
	}
}

func raceCommonNonHolders(t *testing.T, e *env, p, round int) {
	s := e.createSeries(baseSeries(raceName("shared", round), commonSrc(fmt.Sprintf("SHARED%d", round)), func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
	}))
	e.issue(s.ID, "h")
	outs := e.redeemRace(p, round, func(int) string { return s.Source.Code }, func(i int) string { return fmt.Sprintf("r%d", i/2) })
	checkRedeemRace(t, e, s.ID, outs, p/2, fmt.Sprintf("%d non-holders redeeming a common code at once each get a coupon of their own, once", p/2),
		func(error) bool { return false })
	perHolder := map[string]int{}
	for _, c := range e.seriesCoupons(s.ID) {
		perHolder[c.Holder]++
	}
	for h, n := range perHolder {
		if n != 1 {
			t.Errorf("customer %s has %d coupons of the common code, want 1", h, n)
		}
	}
}

func raceRedeemReverseRevoke(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("mixed", round), func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
	})
	c := e.issue(s.ID, "h")
	r0 := e.redeem(c.Code, "h", fmt.Sprintf("round%d-first", round))
	type out struct {
		op      int // 0 redeem, 1 reverse, 2 revoke
		err     error
		revoked int
		failed  errcode.Code
	}
	outs := run(p, func(i int) out {
		switch i % 3 {
		case 0:
			_, err := e.e.Redeem(e.ctx, redeemReq(c.Code, "h", fmt.Sprintf("round%d-k%d", round, i), "10"))
			return out{op: 0, err: err}
		case 1:
			_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r0.Redemption.ID}})
			return out{op: 1, err: err}
		}
		res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{c.Code}})
		o := out{op: 2, err: err, revoked: res.RevokedCount}
		for _, f := range res.Failed {
			o.failed = f.Code
		}
		return o
	})
	redeemed, reversed, revoked := 0, 0, 0
	for _, o := range outs {
		if errors.Is(o.err, errcode.ErrConflict) {
			t.Errorf("a racing operation got a Conflict, which the engine must retry away: %v", o.err)
			continue
		}
		switch o.op {
		case 0:
			if o.err == nil {
				redeemed++
			} else if !either(isCode(errcode.Revoked), isCode(errcode.Redeemed), deniedFor(limits.CustomerLimit), isCode(errcode.LimitReached))(o.err) {
				t.Errorf("a redemption racing a reversal and revocations: unexpected error %v", o.err)
			}
		case 1:
			if o.err == nil {
				reversed++
			} else if !errors.Is(o.err, errcode.ErrAlreadyReversed) {
				t.Errorf("a reversal racing others: unexpected error %v", o.err)
			}
		case 2:
			switch {
			case o.err != nil:
				t.Errorf("a revocation racing redemptions: unexpected error %v", o.err)
			case o.revoked == 1:
				revoked++
			case o.failed != errcode.Redeemed && o.failed != errcode.CouponNotFound:
				t.Errorf("a revocation that did not revoke reports 405 (redeemed) or 682 (already revoked): %d", o.failed)
			}
		}
	}
	checkRedeemReverseRevoke(t, e, s, c, redeemed, reversed, revoked)
}

// checkRedeemReverseRevoke checks the outcome of raceRedeemReverseRevoke
// on coupon c of series s, given how many of its redemptions, reversals
// and revocations succeeded.
func checkRedeemReverseRevoke(t *testing.T, e *env, s series.Series, c coupon.Coupon, redeemed, reversed, revoked int) {
	t.Helper()
	if reversed != 1 {
		t.Errorf("exactly one of the racing reversals of one redemption succeeds: %d", reversed)
	}
	got := e.stored(c.ID)
	switch {
	case revoked > 1:
		t.Errorf("a coupon is revoked once: %d revocations succeeded", revoked)
	case revoked == 1:
		if redeemed != 0 || got.State != coupon.Revoked || got.Redemptions != 0 {
			t.Errorf("a coupon revoked in the race had no unreversed redemption: %d redemptions succeeded, stored %+v", redeemed, got)
		}
	default:
		if got.State == coupon.Revoked {
			t.Errorf("the coupon is stored Revoked but no revocation reported it")
		}
		if redeemed > 3 || got.Redemptions != redeemed {
			t.Errorf("after the race the coupon counts %d redemptions; %d succeeded, at most 3 allowed", got.Redemptions, redeemed)
		}
	}
	checkUses(t, e, s.ID, redeemed, "redeem, reverse and revoke racing on one coupon")
	revEvents := 0
	for _, ev := range e.history(c.ID) {
		if ev.Kind == coupon.EventRevoked {
			revEvents++
		}
	}
	if revEvents != revoked {
		t.Errorf("one Revoked event per revocation: %d events, %d revocations", revEvents, revoked)
	}
}

// raceReverseOne reverses one redemption from every goroutine: one
// reversal, every other AlreadyReversed.
func raceReverseOne(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("reverse", round))
	c := e.issue(s.ID, "h")
	r := e.redeem(c.Code, "h", "k")
	errs := run(p, func(i int) error {
		req := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}}
		if i%2 == 1 {
			req = couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code, IdempotencyKey: "k"}}
		}
		_, err := e.e.Reverse(e.ctx, req)
		return err
	})
	reversed := 0
	for _, err := range errs {
		switch {
		case err == nil:
			reversed++
		case !errors.Is(err, errcode.ErrAlreadyReversed):
			t.Errorf("%d reversals of one redemption at once: a loser must get AlreadyReversed (1113), got %v", p, err)
		}
	}
	if reversed != 1 {
		t.Errorf("%d reversals of one redemption at once: %d succeeded, want exactly 1", p, reversed)
	}
	checkUses(t, e, s.ID, 0, "after racing reversals")
}

// raceConfirmOne confirms one hold from every goroutine: one confirmation,
// every other a replay of it.
func raceConfirmOne(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("confirm", round))
	c := e.issue(s.ID, "h")
	h, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, "h", "cart", "10"), TTL: time.Hour})
	mustOK(t, err, "Hold")
	outs := run(p, func(int) redeemOutcome {
		r, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "checkout"})
		return redeemOutcome{key: "cart", res: r, err: err}
	})
	first := 0
	for _, o := range outs {
		switch {
		case o.err != nil:
			t.Errorf("%d confirmations of one live hold at once: each must succeed (the first confirms, the others replay it), got %v", p, o.err)
		case !o.res.Replayed:
			first++
		}
	}
	if first != 1 {
		t.Errorf("%d confirmations of one hold at once: %d confirmed it, want exactly 1 (the others replay)", p, first)
	}
	checkUses(t, e, s.ID, 1, "after racing confirmations")
}

// raceLapsedHolds races redemptions that each need the use a lapsed hold
// keeps: every one of them may release it, one wins the use.
func raceLapsedHolds(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("lapsed", round), func(s *series.Series) { s.Redemption.MaxPerSeries = 1 })
	held := e.issue(s.ID, "h")
	e.hold(held.Code, "h", "cart", time.Minute)
	codes := make([]string, p/2+1)
	for j := range codes {
		codes[j] = e.issue(s.ID, fmt.Sprintf("r%d", j)).Code
	}
	e.clk.Advance(time.Minute)
	outs := e.redeemRace(p, round, func(i int) string { return codes[i/2] }, func(i int) string { return fmt.Sprintf("r%d", i/2) })
	checkRedeemRaceKeys(t, e, s.ID, outs, 1, fmt.Sprintf("%d customers racing for the one use of a series that a lapsed hold keeps", p/2),
		deniedFor(limits.SeriesLimit), false)
}

// raceLastUse races, for several customers at once, reversals of their
// earlier redemptions, releases of their holds and new redemptions under a
// 5-minute gap that the uses before the race block until they are given
// back. Afterwards each customer's last use, which the gap counts from, is
// the time of their latest unreversed use or live hold, as the records say.
func raceLastUse(t *testing.T, e *env, p, round int) {
	const reversals, releases, redemptions = 3, 2, 3
	const per = reversals + releases + redemptions
	s := e.gen(raceName("last-use", round), func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MinGap = 5 * time.Minute
	})
	custs := make([]string, max(1, p/per))
	type setup struct {
		code        string
		reds, holds []string
	}
	prep := make([]setup, len(custs))
	for i := range custs {
		custs[i] = fmt.Sprintf("r%d", i)
		prep[i].code = e.issue(s.ID, custs[i]).Code
	}
	// Each customer's uses, 6 minutes apart: three redemptions, then two
	// holds; the race starts 2 minutes after the last.
	for k := range reversals + releases {
		if k > 0 {
			e.clk.Advance(6 * time.Minute)
		}
		for i, cust := range custs {
			req := redeemReq(prep[i].code, cust, fmt.Sprintf("round%d-pre%d", round, k), "10")
			if k < reversals {
				prep[i].reds = append(prep[i].reds, e.redeem(prep[i].code, cust, req.IdempotencyKey).Redemption.ID)
				continue
			}
			h, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: req, TTL: 24 * time.Hour})
			mustOK(t, err, "Hold")
			prep[i].holds = append(prep[i].holds, h.Redemption.ID)
		}
	}
	e.clk.Advance(2 * time.Minute)
	errs := run(len(custs)*per, func(i int) error {
		cust, pr, k := custs[i/per], &prep[i/per], i%per
		switch {
		case k < reversals:
			_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: pr.reds[k]}})
			return err
		case k < reversals+releases:
			return e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: pr.holds[k-reversals]}, Actor: "till"})
		}
		_, err := e.e.Redeem(e.ctx, redeemReq(pr.code, cust, fmt.Sprintf("round%d-new%d", round, i), "10"))
		if errors.As(err, new(*refusal.Error)) {
			wantDenied(t, err, reasons(limits.RedemptionGap), "a redemption racing reversals may only be refused by the gap")
			return nil
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("racing reversals, releases and redemptions of one customer: operation %d failed: %v (code %d)", i%per, err, errcode.CodeOf(err))
		}
	}
	rs := e.records(s.ID)
	checkUses(t, e, s.ID, -1, "after racing reversals, releases and redemptions")
	e.wantLastUse(t, s.ID, rs, "after racing reversals, releases and redemptions")
}
