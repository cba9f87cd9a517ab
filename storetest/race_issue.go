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
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The issue races: goroutines issuing at once at every issuance limit, from
// every kind of code source, with one idempotency key, and from a series'
// code sequence.

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

// raceIssueSameKey races goroutines sending one keyed issue at once (half
// through IssueBatch), in a series that would let each issue: one coupon
// is issued, every request answers it, one as the issue and the others as
// replays.
func raceIssueSameKey(t *testing.T, e *env, p, round int) {
	var s series.Series
	switch round % 3 {
	case 0:
		s = e.gen(raceName("same-key", round))
	case 1:
		s = e.createSeries(baseSeries(raceName("same-key-common", round), commonSrc(fmt.Sprintf("KEYED%d", round))))
	default:
		s = e.createSeries(baseSeries(raceName("same-key-pool", round), uploadSrc()))
		codes := make([]string, 4)
		for i := range codes {
			codes[i] = fmt.Sprintf("KEYPOOL-%d-%d", round, i)
		}
		e.upload(s.ID, codes...)
	}
	key := fmt.Sprintf("round-%d", round)
	outs := run(p, func(i int) issueRaceOutcome {
		req := keyedIssue(s.ID, "r0", key)
		if i%2 == 1 {
			o, err := e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{req})
			if err != nil || len(o) != 1 {
				return issueRaceOutcome{err: fmt.Errorf("IssueBatch: %d outcomes, %w", len(o), err)}
			}
			return issueRaceOutcome{o[0].Result, o[0].Err}
		}
		r, err := e.e.Issue(e.ctx, req)
		return issueRaceOutcome{r, err}
	})
	ids, firsts := map[string]int{}, 0
	for _, o := range outs {
		if o.err != nil {
			t.Errorf("%s: a request with the key failed: %v", s.Name, o.err)
			continue
		}
		ids[o.res.Coupon.ID]++
		if !o.res.Replayed {
			firsts++
		}
	}
	if len(ids) != 1 || firsts != 1 {
		t.Errorf("%s: %d requests with one key at once must answer one coupon, issued once: coupons %v, %d not replayed", s.Name, p, ids, firsts)
	}
	keyed, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: s.ID, IssueKeys: []string{key}}})
	mustOK(t, err, "ListCoupons by issue key")
	if n := e.counters(s.ID).Issued; len(keyed) != 1 || n != 1 || e.count(key2(s.ID)).N != 1 {
		t.Errorf("%s: one coupon stored with the key (%d), one issue counted for the series (%d) and the customer (%d)", s.Name, len(keyed), n, e.count(key2(s.ID)).N)
	}
}

// key2 is the customer-issued counter of r0 in a series.
func key2(seriesID string) store.CounterKey {
	return key(limits.CustomerIssued, seriesID, "", "r0")
}

// raceIssueMinted races 16 issues for each of 100 customers (a quarter of
// each under Short) at a generated series with at most one coupon per
// customer: each customer gets one coupon, and the code sequence moves by
// exactly the coupons made, however many attempts lost. It is large
// enough in one round: later rounds do nothing.
func raceIssueMinted(t *testing.T, e *env, _, round int) {
	if round > 0 {
		return
	}
	custs, per := 100, 16
	if e.sizes.Short {
		custs, per = 25, 4
	}
	ids := make([]string, custs)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i)
	}
	e.addCustomers(ids...)
	s := e.gen(raceName("issue-minted", round), func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
	outs := e.issueRace(custs*per, s.ID, func(i int) string { return ids[i%custs] })
	checkIssueRace(t, e, s.ID, outs, custs, fmt.Sprintf("%d customers each issued %d times at once from a series with one coupon per customer", custs, per),
		deniedFor(limits.CustomerIssueLimit))
	if next := e.nextIndex(s.ID); next != int64(custs) {
		t.Errorf("the code sequence stands at the %d coupons made: %d", custs, next)
	}
}
