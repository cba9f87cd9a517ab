package central

import (
	"context"
	"fmt"
	"slices"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// Audit is what the central's records of one series add up to after a
// run, and every way they disagree (Problems; none when the books hold).
type Audit struct {
	// Limit is the series' use limit and Counter its use counter.
	Limit, Counter int64
	// Leases are the series' leases; Open how many are still open. The
	// slices add up their parts.
	Leases, Open                             int
	Granted, Used, Returned, Reclaimed, Left int64
	// Entries are the tills' recorded uses: counted on their lease or on
	// the series, conflicted (the central would have refused them), and
	// the redemptions the others made.
	Entries, OnLease, OnSeries, Conflicted, Redemptions int64
	Problems                                            []string
}

// Check audits series id in st: the use counter within the limit; every
// lease whole (used + returned + reclaimed + left = granted, nothing
// negative, nothing left on a closed lease) and its used count the uses
// recorded on it; the use counter what the leases hold plus the uses
// counted on the series; one redemption per unconflicted use, each
// coupon's and customer's counters their redemptions; no use flagged for
// passing the series' limit.
func Check(ctx context.Context, st store.Store, id string) (Audit, error) {
	ls, ok := st.(store.LeaseStore)
	if !ok {
		return Audit{}, fmt.Errorf("central: the store keeps no leases")
	}
	s, err := st.Series(ctx, id)
	if err != nil {
		return Audit{}, err
	}
	a := Audit{Limit: int64(s.Redemption.MaxPerSeries)}
	if a.Counter, err = count(ctx, st, store.CounterKey{Counter: limits.SeriesUses, Series: id}); err != nil {
		return a, err
	}
	leases, err := ls.Leases(ctx, store.LeaseQuery{SeriesID: id})
	if err != nil {
		return a, err
	}
	entries, err := ls.TillEntries(ctx, store.TillEntryQuery{SeriesID: id})
	if err != nil {
		return a, err
	}
	rs, err := st.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: id, Status: coupon.StatusRedeemed})
	if err != nil {
		return a, err
	}
	a.checkLeases(leases, entries)
	a.checkEntries(entries, rs)
	if a.Limit > 0 && a.Counter > a.Limit {
		a.problem("the series' use counter is %d, past its limit of %d", a.Counter, a.Limit)
	}
	if held := a.Granted - a.Returned - a.Reclaimed + a.OnSeries; a.Counter != held {
		a.problem("the series' use counter is %d; its leases hold %d and %d uses were counted on the series", a.Counter, held-a.OnSeries, a.OnSeries)
	}
	return a, a.checkCounters(ctx, st, id, rs)
}

func (a *Audit) problem(format string, args ...any) {
	a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
}

// checkLeases adds up the leases and checks each against the entries
// recorded on it.
func (a *Audit) checkLeases(leases []lease.Lease, entries []lease.Entry) {
	onLease := map[string]int64{}
	for _, e := range entries {
		if e.Counted == lease.OnLease {
			onLease[e.LeaseID]++
		}
	}
	for _, l := range leases {
		a.Leases++
		if l.Status == lease.Open {
			a.Open++
		}
		a.Granted += l.Granted.Uses
		a.Used += l.Used.Uses
		a.Returned += l.Returned.Uses
		a.Reclaimed += l.Reclaimed.Uses
		a.Left += l.Left().Uses
		if err := l.Check(); err != nil {
			a.problem("lease %s of %s: %v", l.ID, l.Till, err)
		}
		if l.Used.Uses+l.Returned.Uses+l.Reclaimed.Uses+l.Left().Uses != l.Granted.Uses {
			a.problem("lease %s: used %d + returned %d + reclaimed %d + left %d is not the %d granted",
				l.ID, l.Used.Uses, l.Returned.Uses, l.Reclaimed.Uses, l.Left().Uses, l.Granted.Uses)
		}
		if l.Used.Uses != onLease[l.ID] {
			a.problem("lease %s: used %d, but %d uses are recorded on it", l.ID, l.Used.Uses, onLease[l.ID])
		}
	}
}

// checkEntries counts the entries and checks that every unconflicted one
// made one redemption, and every redemption belongs to one entry.
func (a *Audit) checkEntries(entries []lease.Entry, rs []coupon.Redemption) {
	byID := map[string]int{}
	for _, e := range entries {
		a.Entries++
		switch {
		case e.Counted == lease.OnLease:
			a.OnLease++
		case e.Counted == lease.OnSeries:
			a.OnSeries++
		}
		if e.Conflicted() {
			a.Conflicted++
			if slices.ContainsFunc(e.Conflicts, func(r refusal.Refusal) bool { return r.Rule == refusal.SeriesLimit }) {
				a.problem("the use %s/%s passed the series' limit when it was synced", e.Till, e.Key)
			}
			continue
		}
		byID[e.RedemptionID]++
	}
	a.Redemptions = int64(len(rs))
	for _, r := range rs {
		if byID[r.ID] != 1 {
			a.problem("redemption %s belongs to %d recorded uses, want 1", r.ID, byID[r.ID])
		}
		delete(byID, r.ID)
	}
	for id := range byID {
		a.problem("a recorded use names redemption %q, which is not a redemption of the series", id)
	}
}

// checkCounters checks each coupon's use counter and each customer's use
// counter of the series against the redemptions.
func (a *Audit) checkCounters(ctx context.Context, st store.Store, id string, rs []coupon.Redemption) error {
	perCoupon, perCustomer := map[string]int64{}, map[string]int64{}
	for _, r := range rs {
		perCoupon[r.CouponID]++
		perCustomer[r.Customer]++
	}
	for cid, n := range perCoupon {
		c, err := st.Coupon(ctx, cid)
		if err != nil {
			return err
		}
		got, err := count(ctx, st, store.CounterKey{Counter: limits.CodeUses, Series: id, Code: c.Canonical, Holder: store.Slot(&c)})
		if err != nil {
			return err
		}
		if got != n || c.State != coupon.Redeemed {
			a.problem("coupon %s: %d redemptions, use counter %d, state %s", c.Code, n, got, c.State)
		}
	}
	for cust, n := range perCustomer {
		got, err := count(ctx, st, store.CounterKey{Counter: limits.CustomerSeriesUses, Series: id, Customer: cust})
		if err != nil {
			return err
		}
		if got != n {
			a.problem("customer %s: %d redemptions, use counter %d", cust, n, got)
		}
	}
	return nil
}

func count(ctx context.Context, st store.Store, k store.CounterKey) (int64, error) {
	var out [1]store.Count
	err := st.Counters(ctx, []store.CounterKey{k}, out[:])
	return out[0].N, err
}
