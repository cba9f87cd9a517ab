package storetest

import (
	"fmt"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/series"
)

// twin returns a second engine over e's store, with e's clock, customers
// and code key: another process sharing the database, with mint locks of
// its own.
func (e *env) twin(t *testing.T) *couponkit.Engine {
	t.Helper()
	eng, err := couponkit.New(couponkit.Config{Store: e.st, Now: e.clk.Now, Customers: e.dir, CodeKey: seriesKey, Rates: rates})
	if err != nil {
		t.Fatalf("couponkit.New: %v", err)
	}
	return eng
}

// raceTwoEnginesMint races two engines over one store (two processes
// sharing a database) minting codes in one series: every customer's single
// issue succeeds, whichever engine serves it. The engines read the same
// next index, so one loses each race to mint it; the loser must read again
// and mint the next code, never answer that the code exists (and never
// name a code that is another customer's).
func raceTwoEnginesMint(t *testing.T, e *env, _, round int) {
	if round > 0 {
		return
	}
	custs := 100
	if e.sizes.Short {
		custs = 24
	}
	ids := make([]string, custs)
	for i := range ids {
		ids[i] = fmt.Sprintf("w%d", i)
	}
	e.addCustomers(ids...)
	engines := [2]*couponkit.Engine{e.e, e.twin(t)}
	s := e.gen(raceName("two-engines", round), func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
	outs := run(custs, func(i int) issueRaceOutcome {
		r, err := engines[i%2].Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(ids[i])})
		return issueRaceOutcome{r, err}
	})
	checkIssueRace(t, e, s.ID, outs, custs, fmt.Sprintf("%d customers issued once each through two engines at once", custs),
		func(error) bool { return false })
	if next := e.nextIndex(s.ID); next != int64(custs) {
		t.Errorf("the code sequence stands at the %d coupons made: %d", custs, next)
	}
}
