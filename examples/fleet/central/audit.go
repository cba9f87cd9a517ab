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
	// Entries are the tills' recorded uses (reversals apart): counted on
	// their lease or on the series, decided online (the others came from
	// a journal), conflicted (the central would have refused them); and
	// the redemptions they made that stand.
	Entries, OnLease, OnSeries, Online, Conflicted, Redemptions int64
	// Reversals are the tills' recorded reversals; ReversedOnLease and
	// ReversedOnSeries the uses they gave back, by where the use was
	// counted; Reversed the redemptions given back.
	Reversals, ReversedOnLease, ReversedOnSeries, Reversed int64
	Problems                                               []string
}

// Check audits series id in st: the use counter within the limit; every
// lease whole (used + returned + reclaimed + left = granted, nothing
// negative, nothing left on a closed lease) and its used count the uses
// recorded on it, reversed or not; the use counter what the leases hold
// plus the unreversed uses counted on the series less the reversed uses
// counted on leases (a reversal gives the use back to the series, never
// to its lease); one standing redemption per unconflicted, unreversed
// use, and one reversed redemption per unconflicted reversed use; every
// reversal naming a recorded use of its till, given back; each coupon's
// and customer's counters their standing redemptions; no use flagged for
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
	back, err := st.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: id, Status: coupon.StatusReversed})
	if err != nil {
		return a, err
	}
	a.checkLeases(leases, entries)
	a.checkEntries(entries, rs, back)
	if a.Limit > 0 && a.Counter > a.Limit {
		a.problem("the series' use counter is %d, past its limit of %d", a.Counter, a.Limit)
	}
	held := a.Granted - a.Returned - a.Reclaimed
	if want := a.OnSeries - a.ReversedOnSeries + held - a.ReversedOnLease; a.Counter != want {
		a.problem("the series' use counter is %d; its leases hold %d, %d unreversed uses were counted on the series and %d reversed uses on leases",
			a.Counter, held, a.OnSeries-a.ReversedOnSeries, a.ReversedOnLease)
	}
	return a, a.checkCounters(ctx, st, id, rs, back)
}

func (a *Audit) problem(format string, args ...any) {
	a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
}

// checkLeases adds up the leases and checks each against the uses (not
// the reversals) recorded on it.
func (a *Audit) checkLeases(leases []lease.Lease, entries []lease.Entry) {
	onLease := map[string]int64{}
	for _, e := range entries {
		if e.Reverses == "" && e.Counted == lease.OnLease {
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

// checkEntries counts the uses and reversals and checks that every
// unconflicted use made one redemption, standing or reversed as the use
// is, that every redemption belongs to one use, and that every reversal
// gave back a use of its till.
func (a *Audit) checkEntries(entries []lease.Entry, rs, back []coupon.Redemption) {
	standing, reversed := map[string]int{}, map[string]int{}
	uses := map[[2]string]*lease.Entry{}
	for i := range entries {
		if e := &entries[i]; e.Reverses == "" {
			uses[[2]string{e.Till, e.Key}] = e
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.Reverses != "" {
			a.checkReversal(e, uses[[2]string{e.Till, e.Reverses}])
			continue
		}
		a.countUse(e)
		switch {
		case e.Conflicted():
		case e.Reversed.IsZero():
			standing[e.RedemptionID]++
		default:
			reversed[e.RedemptionID]++
		}
	}
	a.Redemptions, a.Reversed = int64(len(rs)), int64(len(back))
	a.matchRedemptions("standing", standing, rs)
	a.matchRedemptions("reversed", reversed, back)
}

// countUse counts the use e by where it was counted and whether it was
// given back.
func (a *Audit) countUse(e *lease.Entry) {
	a.Entries++
	if e.Online {
		a.Online++
	}
	switch e.Counted {
	case lease.OnLease:
		a.OnLease++
		if !e.Reversed.IsZero() {
			a.ReversedOnLease++
		}
	case lease.OnSeries:
		a.OnSeries++
		if !e.Reversed.IsZero() {
			a.ReversedOnSeries++
		}
	}
	if e.Conflicted() {
		a.Conflicted++
		if slices.ContainsFunc(e.Conflicts, func(r refusal.Refusal) bool { return r.Rule == refusal.SeriesLimit }) {
			a.problem("the use %s/%s passed the series' limit when it was synced", e.Till, e.Key)
		}
	}
}

// checkReversal checks the reversal r against the use it names.
func (a *Audit) checkReversal(r, use *lease.Entry) {
	a.Reversals++
	switch {
	case use == nil:
		a.problem("the reversal %s/%s names %s, which is no recorded use of its till", r.Till, r.Key, r.Reverses)
	case use.Reversed.IsZero():
		a.problem("the reversal %s/%s did not give back the use %s", r.Till, r.Key, r.Reverses)
	case r.Conflicted():
		a.problem("the reversal %s/%s was refused: %s", r.Till, r.Key, r.Conflicts[0].Message)
	}
}

// matchRedemptions checks that each redemption of rs belongs to exactly
// one use of byID, and each use of byID names one of rs.
func (a *Audit) matchRedemptions(what string, byID map[string]int, rs []coupon.Redemption) {
	for _, r := range rs {
		if byID[r.ID] != 1 {
			a.problem("%s redemption %s belongs to %d recorded uses, want 1", what, r.ID, byID[r.ID])
		}
		delete(byID, r.ID)
	}
	for id := range byID {
		a.problem("a recorded %s use names redemption %q, which is not a %s redemption of the series", what, id, what)
	}
}

// checkCounters checks each coupon's use counter and each customer's use
// counter of the series against the standing redemptions (a coupon or
// customer whose redemptions were all given back counts none).
func (a *Audit) checkCounters(ctx context.Context, st store.Store, id string, rs, back []coupon.Redemption) error {
	perCoupon, perCustomer := map[string]int64{}, map[string]int64{}
	for _, r := range back {
		perCoupon[r.CouponID] += 0
		perCustomer[r.Customer] += 0
	}
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
		if got != n || (n > 0) != (c.State == coupon.Redeemed) {
			a.problem("coupon %s: %d standing redemptions, use counter %d, state %s", c.Code, n, got, c.State)
		}
	}
	for cust, n := range perCustomer {
		got, err := count(ctx, st, store.CounterKey{Counter: limits.CustomerSeriesUses, Series: id, Customer: cust})
		if err != nil {
			return err
		}
		if got != n {
			a.problem("customer %s: %d standing redemptions, use counter %d", cust, n, got)
		}
	}
	return nil
}

func count(ctx context.Context, st store.Store, k store.CounterKey) (int64, error) {
	var out [1]store.Count
	err := st.Counters(ctx, []store.CounterKey{k}, out[:])
	return out[0].N, err
}
