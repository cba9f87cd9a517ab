package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// A race runs one round: it sets up a fresh series in e, races
// h.caps.Parallelism goroutines at it and checks the outcome.
type race struct {
	name string
	fn   func(t *testing.T, e *env, p, round int)
}

var races = []race{
	{"CodeLevel", raceCodeLevel},
	{"SingleUse", raceSingleUse},
	{"CustomerLevel", raceCustomerLevel},
	{"SeriesLevel", raceSeriesLevel},
	{"RedemptionGap", raceRedemptionGap},
	{"HoldsAtCodeLevel", raceHolds},
	{"IssuePerSeries", raceIssueSeries},
	{"IssuePerCustomer", raceIssueCustomer},
	{"IssueGap", raceIssueGap},
	{"IssueCommonCode", raceIssueCommon},
	{"IssueFromPool", raceIssuePool},
	{"IssueSameKey", raceIssueSameKey},
	{"CommonCodeByNonHolders", raceCommonNonHolders},
	{"RedeemReverseRevoke", raceRedeemReverseRevoke},
	{"ReverseOneRedemption", raceReverseOne},
	{"ConfirmOneHold", raceConfirmOne},
	{"ReleaseLapsedHolds", raceLapsedHolds},
	{"StoreGuard", raceStoreGuard},
	{"IssueMintedOncePerCustomer", raceIssueMinted},
	{"LastUseAfterReversals", raceLastUse},
}

func (h *harness) races(t *testing.T) {
	p := h.caps.Parallelism
	for _, r := range races {
		t.Run(r.name, func(t *testing.T) {
			e := h.env(t)
			e.addCustomers(raceCustomers(p)...)
			for round := range h.caps.RaceRounds {
				r.fn(t, e, p, round)
				if t.Failed() {
					t.Logf("failed in round %d of %d with %d goroutines", round+1, h.caps.RaceRounds, p)
					return
				}
			}
		})
	}
}

// raceCustomers are the customers racing goroutines act for: "r0".."r<p>"
// and the holders "h" and "g".
func raceCustomers(p int) []string {
	out := []string{"h", "g"}
	for i := range p + 1 {
		out = append(out, fmt.Sprintf("r%d", i))
	}
	return out
}

// run starts n goroutines together and returns their results in order.
func run[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

type redeemOutcome struct {
	key string
	res couponkit.RedeemResult
	err error
}

// pairKey gives goroutines 2k and 2k+1 the same idempotency key: the second
// of each pair is a till retrying the first's request.
func pairKey(round, i int) string { return fmt.Sprintf("round%d-k%d", round, i/2) }

// checkRedeemRace checks the outcomes of a redemption race: exactly allowed
// distinct redemptions succeeded; requests sharing an idempotency key got
// one redemption (the first made it, the others replayed it) or all
// failed; every failure is one loser accepts; then the stored state agrees
// (see checkUses).
func checkRedeemRace(t *testing.T, e *env, seriesID string, outs []redeemOutcome, allowed int, rule string, loser func(error) bool) {
	t.Helper()
	checkRedeemRaceKeys(t, e, seriesID, outs, allowed, rule, loser, true)
}

// checkRedeemRaceKeys is checkRedeemRace; sameAnswer asks that requests
// sharing a key all succeed or all fail, which holds when nothing in the
// race frees a use: a request refused before a use was freed may be
// retried with success.
func checkRedeemRaceKeys(t *testing.T, e *env, seriesID string, outs []redeemOutcome, allowed int, rule string, loser func(error) bool, sameAnswer bool) {
	t.Helper()
	byKey := map[string][]redeemOutcome{}
	firsts := map[string]int{} // redemption id -> non-replayed successes
	for _, o := range outs {
		byKey[o.key] = append(byKey[o.key], o)
		if o.err != nil {
			if errors.Is(o.err, errcode.ErrConflict) {
				t.Errorf("%s: a loser got a Conflict, which the engine must retry away: %v", rule, o.err)
			} else if !loser(o.err) {
				t.Errorf("%s: a loser got an unexpected error: %v (code %d)", rule, o.err, errcode.CodeOf(o.err))
			}
			continue
		}
		id := o.res.Redemption.ID
		if _, ok := firsts[id]; !ok {
			firsts[id] = 0
		}
		if !o.res.Replayed {
			firsts[id]++
		}
	}
	if len(firsts) != allowed {
		t.Errorf("%s: %d distinct redemptions succeeded, want exactly %d", rule, len(firsts), allowed)
	}
	for id, n := range firsts {
		if n != 1 {
			t.Errorf("%s: redemption %s was returned %d times as a first (not replayed) result, want once", rule, id, n)
		}
	}
	for k, os := range byKey {
		ok, failed := 0, 0
		ids := map[string]bool{}
		for _, o := range os {
			if o.err == nil {
				ok++
				ids[o.res.Redemption.ID] = true
			} else {
				failed++
			}
		}
		if len(ids) > 1 {
			t.Errorf("%s: requests with idempotency key %s made %d redemptions, want one", rule, k, len(ids))
		}
		if sameAnswer && ok > 0 && failed > 0 {
			t.Errorf("%s: requests with idempotency key %s got different answers: %d succeeded, %d failed (%v)", rule, k, ok, failed, os)
		}
	}
	checkUses(t, e, seriesID, allowed, rule)
}

// checkUses checks the stored state of a series after a race: every
// counter equals the number of unreversed redemption records and live
// holds it counts, each coupon's counts equal its records, and each record
// has its event.
func checkUses(t *testing.T, e *env, seriesID string, wantUses int, rule string) {
	t.Helper()
	ctx := e.ctx
	rs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: seriesID})
	mustOK(t, err, "ListRedemptions")
	live := 0
	perCoupon := map[string][2]int{} // coupon -> redeemed, held
	perCustCode := map[[2]string]int{}
	perCust := map[string]int{}
	for _, r := range rs {
		if r.Status != coupon.StatusRedeemed && r.Status != coupon.StatusHeld {
			continue
		}
		live++
		n := perCoupon[r.CouponID]
		if r.Status == coupon.StatusRedeemed {
			n[0]++
		} else {
			n[1]++
		}
		perCoupon[r.CouponID] = n
		perCustCode[[2]string{r.CouponID, r.Customer}]++
		perCust[r.Customer]++
	}
	if wantUses >= 0 && live != wantUses {
		t.Errorf("%s: %d unreversed redemptions and live holds are stored, want %d", rule, live, wantUses)
	}
	sc, err := e.e.Counters(ctx, seriesID)
	mustOK(t, err, "Counters")
	if sc.Uses != int64(live) {
		t.Errorf("%s: Engine.Counters reports %d uses, but %d redemption records are live: a use was lost or counted twice", rule, sc.Uses, live)
	}
	if c := e.count(key(limits.SeriesUses, seriesID, "", "")); c.N != int64(live) {
		t.Errorf("%s: the series uses counter is %d, the live records %d", rule, c.N, live)
	}
	cs := e.seriesCoupons(seriesID)
	byID := map[string]coupon.Coupon{}
	codeUses := map[codeScope]int{}
	events := 0
	for _, c := range cs {
		byID[c.ID] = c
		n := perCoupon[c.ID]
		if c.Redemptions != n[0] || c.Holds != n[1] {
			t.Errorf("%s: coupon %s counts %d redemptions and %d holds, its records %d and %d", rule, c.Code, c.Redemptions, c.Holds, n[0], n[1])
		}
		codeUses[codeScopeOf(&c)] += n[0] + n[1]
		for _, ev := range e.history(c.ID) {
			if ev.Kind == coupon.EventRedeemed || ev.Kind == coupon.EventHeld {
				events++
			}
		}
	}
	for code, n := range codeUses {
		if c := e.count(codeCounterKey(limits.CodeUses, seriesID, code, "")); c.N != int64(n) {
			t.Errorf("%s: the code uses counter of %s is %d, its live records %d", rule, code, c.N, n)
		}
	}
	for k, n := range perCustCode {
		c := byID[k[0]]
		if got := e.count(codeCounterKey(limits.CustomerCodeUses, seriesID, codeScopeOf(&c), k[1])); got.N != int64(n) {
			t.Errorf("%s: the customer code uses counter of %s for %s is %d, its live records %d", rule, c.Code, k[1], got.N, n)
		}
	}
	for cust, n := range perCust {
		if got := e.count(key(limits.CustomerSeriesUses, seriesID, "", cust)); got.N != int64(n) {
			t.Errorf("%s: the customer series uses counter of %s is %d, its live records %d", rule, cust, got.N, n)
		}
	}
	if events != len(rs) {
		t.Errorf("%s: %d Redeemed or Held events for %d redemption records: every redemption and hold appends its event exactly once", rule, events, len(rs))
	}
	e.wantLastUse(t, seriesID, rs, rule)
}

// deniedFor accepts a refusal whose refusals are all rules among rs.
func deniedFor(rs ...limits.Reason) func(error) bool {
	cs := make([]errcode.Code, len(rs))
	for i, r := range rs {
		cs[i] = r.Code()
	}
	return refusedFor(cs...)
}

// refusedFor accepts a refusal whose refusals all have codes among cs.
func refusedFor(cs ...errcode.Code) func(error) bool {
	return func(err error) bool {
		var d *refusal.Error
		if !errors.As(err, &d) || len(d.Refusals) == 0 {
			return false
		}
		for _, r := range d.Refusals {
			if !slices.Contains(cs, r.Code) {
				return false
			}
		}
		return true
	}
}

// either accepts what any of fs accepts.
func either(fs ...func(error) bool) func(error) bool {
	return func(err error) bool {
		for _, f := range fs {
			if f(err) {
				return true
			}
		}
		return false
	}
}

func isCode(c errcode.Code) func(error) bool {
	return func(err error) bool { return errors.Is(err, &errcode.Error{Code: c}) }
}

func (e *env) redeemRace(p, round int, code func(i int) string, customer func(i int) string) []redeemOutcome {
	return run(p, func(i int) redeemOutcome {
		k := pairKey(round, i)
		r, err := e.e.Redeem(e.ctx, redeemReq(code(i), customer(i), k, "100"))
		return redeemOutcome{key: k, res: r, err: err}
	})
}

func raceName(name string, round int) string { return fmt.Sprintf("%s-%d", name, round) }

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

type issueRaceOutcome struct {
	res couponkit.IssueResult
	err error
}

// checkIssueRace checks an issuance race: exactly allowed issues succeeded,
// each with its own coupon, the losers were refused as loser accepts, and
// the issuance counters equal the coupons stored.
func checkIssueRace(t *testing.T, e *env, seriesID string, outs []issueRaceOutcome, allowed int, rule string, loser func(error) bool) {
	t.Helper()
	ok := map[string]bool{}
	perCust := map[string]int64{}
	for _, o := range outs {
		if o.err != nil {
			if errors.Is(o.err, errcode.ErrConflict) {
				t.Errorf("%s: a loser got a Conflict, which the engine must retry away: %v", rule, o.err)
			} else if !loser(o.err) {
				t.Errorf("%s: a loser got an unexpected error: %v (code %d)", rule, o.err, errcode.CodeOf(o.err))
			}
			continue
		}
		if ok[o.res.Coupon.ID] {
			t.Errorf("%s: coupon %s was issued twice", rule, o.res.Coupon.ID)
		}
		ok[o.res.Coupon.ID] = true
		perCust[o.res.Coupon.Holder]++
	}
	if len(ok) != allowed {
		t.Errorf("%s: %d issues succeeded, want exactly %d", rule, len(ok), allowed)
	}
	issued := 0
	codes := map[string]bool{}
	for _, c := range e.seriesCoupons(seriesID) {
		if c.State == coupon.Issued {
			issued++
			if !ok[c.ID] {
				t.Errorf("%s: coupon %s is stored Issued but no caller was told", rule, c.ID)
			}
			if codes[c.Canonical+"/"+store.Slot(&c)] {
				t.Errorf("%s: code %s issued twice", rule, c.Code)
			}
			codes[c.Canonical+"/"+store.Slot(&c)] = true
		}
	}
	if issued != allowed {
		t.Errorf("%s: %d coupons are stored Issued, want %d", rule, issued, allowed)
	}
	if n := e.counters(seriesID); n.Issued != int64(allowed) {
		t.Errorf("%s: the series issued counter is %d, want %d", rule, n.Issued, allowed)
	}
	e.wantSequenceMatches(t, seriesID, rule)
	for cust, n := range perCust {
		if got := e.count(key(limits.CustomerIssued, seriesID, "", cust)); got.N != n {
			t.Errorf("%s: the issued counter of %s is %d, its coupons %d", rule, cust, got.N, n)
		}
	}
}

func (e *env) issueRace(p int, seriesID string, customer func(i int) string) []issueRaceOutcome {
	return run(p, func(i int) issueRaceOutcome {
		r, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(customer(i))})
		return issueRaceOutcome{r, err}
	})
}

func raceIssueSeries(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("issue-series", round), func(s *series.Series) { s.Issuance.MaxTotal = 5 })
	outs := e.issueRace(p, s.ID, func(i int) string { return fmt.Sprintf("r%d", i) })
	checkIssueRace(t, e, s.ID, outs, 5, fmt.Sprintf("%d customers racing for a series with at most 5 issues", p), deniedFor(limits.SeriesIssueLimit))
}

func raceIssueCustomer(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("issue-customer", round), func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 })
	outs := e.issueRace(p, s.ID, func(int) string { return "r0" })
	checkIssueRace(t, e, s.ID, outs, 3, "one customer issued concurrently from a series with at most 3 per customer", deniedFor(limits.CustomerIssueLimit))
}

func raceIssueGap(t *testing.T, e *env, p, round int) {
	s := e.gen(raceName("issue-gap", round), func(s *series.Series) { s.Issuance.MinGap = 24 * time.Hour })
	outs := e.issueRace(p, s.ID, func(int) string { return "r0" })
	checkIssueRace(t, e, s.ID, outs, 1, "one customer issued concurrently from a series with a 1-day issue gap", deniedFor(limits.IssueGap))
}

func raceIssueCommon(t *testing.T, e *env, p, round int) {
	s := e.createSeries(baseSeries(raceName("issue-common", round), commonSrc(fmt.Sprintf("COMMON%d", round))))
	outs := e.issueRace(p, s.ID, func(i int) string { return fmt.Sprintf("r%d", i%4) })
	checkIssueRace(t, e, s.ID, outs, 4, "four customers each issued a common code concurrently many times get it once each",
		deniedFor(limits.CommonCodeIssued))
}

func raceIssuePool(t *testing.T, e *env, p, round int) {
	s := e.createSeries(baseSeries(raceName("pool", round), uploadSrc()))
	codes := make([]string, p)
	for i := range codes {
		codes[i] = fmt.Sprintf("POOL-%d-%d", round, i)
	}
	e.upload(s.ID, codes...)
	outs := e.issueRace(p, s.ID, func(i int) string { return fmt.Sprintf("r%d", i) })
	checkIssueRace(t, e, s.ID, outs, p, fmt.Sprintf("%d customers issued concurrently from a pool of %d codes each get one", p, p), func(error) bool { return false })
	_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("h")})
	wantCode(t, err, errcode.PoolEmpty, "the pool is empty after the race")
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

// raceStoreGuard races guarded bumps of one counter straight at the store.
func raceStoreGuard(t *testing.T, e *env, p, round int) {
	id := raceName("guard", round)
	e.seedSeries(id)
	c := rawIssued(id+"-c", id, "G", "g")
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{c}})
	k := key(limits.SeriesUses, id, "", "")
	const limit = 7
	errs := run(p, func(i int) error {
		ev := rawEvent(fmt.Sprintf("%s-e%d", id, i), coupon.EventRedeemed, c, "g", t0)
		return e.st.Apply(e.ctx, &store.Change{
			Bumps:  []store.Bump{{Key: k, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}}},
			Events: []coupon.Event{ev},
		})
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errcode.ErrGuardFailed):
			t.Errorf("a bump refused by its guard must fail with GuardFailed: %v", err)
		}
	}
	if ok != limit {
		t.Errorf("%d concurrent guarded bumps of a counter with limit %d: %d succeeded", p, limit, ok)
	}
	if c := e.count(k); c.N != limit {
		t.Errorf("the counter is %d after the race, want %d", c.N, limit)
	}
	if n := len(e.events(store.EventQuery{CouponID: c.ID})); n != limit {
		t.Errorf("only the changes whose guard passed keep their events: %d, want %d", n, limit)
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
