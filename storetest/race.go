package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// A race runs one round: it sets up a fresh series in e, races
// h.sizes.Goroutines goroutines at it and checks the outcome.
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
	{"IssueMintedOncePerCustomer", raceIssueMinted},
	{"LastUseAfterReversals", raceLastUse},
	{"TwoEnginesMint", raceTwoEnginesMint},
	{"BudgetAtCap", raceBudget},
	{"BasketPairs", raceBasket},
	{"ReturnsOfOneRedemption", raceReturns},
}

// races runs each race as a subtest of t, one after another, each on an
// env of its own for all its rounds.
func (h *harness) races(t *testing.T, rs []race) {
	p := h.sizes.Goroutines
	for _, r := range rs {
		t.Run(r.name, func(t *testing.T) {
			e := h.env(t)
			e.addCustomers(raceCustomers(p)...)
			for round := range h.sizes.RaceRounds {
				r.fn(t, e, p, round)
				if t.Failed() {
					t.Logf("failed in round %d of %d with %d goroutines", round+1, h.sizes.RaceRounds, p)
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
