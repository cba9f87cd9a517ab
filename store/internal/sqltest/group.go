package sqltest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// testGroupMixedFailures races changes that succeed, fail on a duplicate
// key (an error inside the group's transaction) and fail a guard, so that
// groups hold all three; each gets its own outcome and only the successes
// stay.
func testGroupMixedFailures(t *testing.T, be Backend) {
	const n = 96
	s, cs := groupStore(t, be, n, "c", "G")
	mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{{ID: "taken", CouponID: "c000", SeriesID: "s1",
		Customer: "alice", IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}}})
	full := store.CounterKey{Counter: limits.SeriesIssued, Series: "full"}
	mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: full, Delta: 1, At: t0}}})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ch := redeemChange(cs[i], fmt.Sprintf("r%03d", i), "alice", fmt.Sprintf("k%03d", i), t0, 0)
			switch i % 3 {
			case 1: // a duplicate redemption id: an error in the transaction
				ch.NewRedemptions[0].ID = "taken"
			case 2: // a guard that refuses
				ch.Bumps = append(ch.Bumps, store.Bump{Key: full, Delta: 1, At: t0,
					Guard: limits.Guard{Counter: full.Counter, Limit: 1}})
			}
			errs[i] = s.Apply(ctx, ch)
		})
	}
	wg.Wait()
	for i, err := range errs {
		var ok bool
		switch i % 3 {
		case 0:
			ok = err == nil
		case 1:
			ok = errors.Is(err, errcode.ErrAlreadyExists)
		case 2:
			var ge *store.GuardError
			ok = errors.As(err, &ge) && ge.Key == full && ge.Count.N == 1
		}
		if !ok {
			t.Errorf("change %d: %v", i, err)
		}
		c, _ := s.Coupon(ctx, cs[i].ID)
		if want := map[bool]int{true: 1, false: 0}[i%3 == 0]; c.Redemptions != want {
			t.Errorf("coupon %d: %d redemptions, want %d", i, c.Redemptions, want)
		}
	}
	if got := Counts(t, s, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}, full}); got[0] != n/3 || got[1] != 1 {
		t.Errorf("counters %v, want [%d 1]", got, n/3)
	}
}

// testGroupUnkeepable races changes among which every fourth holds a
// time the store cannot keep, found when the change is planned (on
// SQLite, when its group runs it): that change alone fails, with an
// InvalidArgument error naming the field, and writes nothing.
func testGroupUnkeepable(t *testing.T, be Backend) {
	const n = 96
	s, cs := groupStore(t, be, n, "u", "U")
	errs := applyAtOnce(s, n, func(i int) *store.Change {
		ch := redeemChange(cs[i], fmt.Sprintf("r%03d", i), "alice", fmt.Sprintf("k%03d", i), t0, 0)
		if i%4 == 3 {
			ch.Bumps[0].At = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return ch
	})
	for i, err := range errs {
		bad := i%4 == 3
		if ok := err == nil; bad == ok || bad && !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("change %d: %v", i, err)
		}
		c, _ := s.Coupon(ctx, cs[i].ID)
		if want := map[bool]int{true: 0, false: 1}[bad]; c.Redemptions != want {
			t.Errorf("coupon %d: %d redemptions, want %d", i, c.Redemptions, want)
		}
	}
	if got := Counts(t, s, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}}); got[0] != n-n/4 {
		t.Errorf("series uses %d, want %d", got[0], n-n/4)
	}
}

// applyAtOnce applies the n changes change(0) to change(n-1) to s, each
// from a goroutine of its own, and returns their errors.
func applyAtOnce(s store.Store, n int, change func(i int) *store.Change) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.Apply(ctx, change(i)) })
	}
	wg.Wait()
	return errs
}

// testGroupFold races changes that bump one hot counter under different
// limits (40 and 60), which group commit folds into one guarded bump per
// group: every change that succeeded reports the counter as it stood
// after it (After), one value each, 1 up to the final count, never past
// its own limit; the others are refused by the guard; the counter ends at
// the number of successes, with as many redemptions stored.
func testGroupFold(t *testing.T, be Backend) {
	const n = 128
	s, cs := groupStore(t, be, n, "f", "F")
	hot := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	limitOf := func(i int) limits.Limit { return limits.Limit(40 + 20*(i%2)) }
	var wg sync.WaitGroup
	errs := make([]error, n)
	after := make([]int64, n)
	for i := range n {
		wg.Go(func() {
			ch := redeemChange(cs[i], fmt.Sprintf("fr%03d", i), fmt.Sprintf("cust%03d", i), "k", t0, 0)
			b := bumpOf(ch, hot)
			b.Guard.Limit = limitOf(i)
			if errs[i] = s.Apply(ctx, ch); errs[i] == nil {
				after[i] = b.After.N
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	ok := 0
	for i, err := range errs {
		var ge *store.GuardError
		switch {
		case err == nil:
			ok++
			if a := after[i]; a < 1 || a > int64(limitOf(i)) || seen[a] {
				t.Errorf("change %d: After %d (limit %d, seen before: %v)", i, a, limitOf(i), seen[a])
			}
			seen[after[i]] = true
		case errors.As(err, &ge) && ge.Key == hot:
		default:
			t.Errorf("change %d: %v", i, err)
		}
	}
	if ok < 40 || ok > 60 {
		t.Errorf("%d changes succeeded, want 40 to 60", ok)
	}
	if got := Counts(t, s, []store.CounterKey{hot}); got[0] != int64(ok) {
		t.Errorf("counter %d, want %d", got[0], ok)
	}
	if rs, _ := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: "s1"}); len(rs) != ok {
		t.Errorf("%d redemptions stored, want %d", len(rs), ok)
	}
}

func bumpOf(c *store.Change, k store.CounterKey) *store.Bump {
	for i := range c.Bumps {
		if c.Bumps[i].Key == k {
			return &c.Bumps[i]
		}
	}
	return nil
}

// testGroupStaleCoupon races redemptions of distinct coupons, every fourth
// expecting a version its coupon does not have: those fail alone with a
// coupon *ConflictError and write nothing; the others are written whole.
func testGroupStaleCoupon(t *testing.T, be Backend) {
	const n = 96
	s, cs := groupStore(t, be, n, "v", "V")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ch := redeemChange(cs[i], fmt.Sprintf("vr%03d", i), "alice", fmt.Sprintf("k%03d", i), t0, 0)
			if i%4 == 3 {
				ch.Coupons[0].ExpectVersion++
			}
			errs[i] = s.Apply(ctx, ch)
		})
	}
	wg.Wait()
	for i, err := range errs {
		var ce *store.ConflictError
		stale := i%4 == 3
		if ok := err == nil != stale && (!stale || errors.As(err, &ce) && ce.Kind == "coupon" && ce.ID == cs[i].ID); !ok {
			t.Errorf("change %d (stale: %v): %v", i, stale, err)
		}
		c, _ := s.Coupon(ctx, cs[i].ID)
		if want := map[bool]int{false: 1, true: 0}[stale]; c.Redemptions != want || c.Version != cs[i].Version+int64(want) {
			t.Errorf("coupon %d: %d redemptions, version %d; want %d", i, c.Redemptions, c.Version, want)
		}
	}
	if got := Counts(t, s, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}}); got[0] != n-n/4 {
		t.Errorf("series uses %d, want %d", got[0], n-n/4)
	}
}

// testGroupIndexedColumns races redemptions of distinct coupons, most of
// which also change an indexed column of their coupon (the holder, the
// expiry, set or cleared, the issue key), which a narrow update names only
// when it changes (Statements.CouponUpdateUsual): every change succeeds
// and every coupon is stored as its change wrote it, whatever group it
// joined.
func testGroupIndexedColumns(t *testing.T, be Backend) {
	const n = 96
	s, cs := groupStore(t, be, n, "x", "X")
	want := make([]coupon.Coupon, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		ch := redeemChange(cs[i], fmt.Sprintf("xr%03d", i), "alice", fmt.Sprintf("k%03d", i), t0, 0)
		c := &ch.Coupons[0].Coupon
		switch i % 5 {
		case 1:
			c.Holder = fmt.Sprintf("bob%03d", i)
		case 2:
			c.ExpiresAt = c.ExpiresAt.Add(time.Duration(i) * time.Hour)
		case 3:
			c.ExpiresAt = time.Time{}
		case 4:
			c.IssueKey = fmt.Sprintf("ik%03d", i)
		}
		want[i] = *c
		wg.Go(func() { errs[i] = s.Apply(ctx, ch) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("change %d: %v", i, err)
			continue
		}
		got, err := s.Coupon(ctx, cs[i].ID)
		if err != nil || !got.ExpiresAt.Equal(want[i].ExpiresAt) || got.Holder != want[i].Holder ||
			got.IssueKey != want[i].IssueKey || got.Redemptions != 1 || got.Version != want[i].Version {
			t.Errorf("coupon %d: stored %+v (%v), want %+v", i, got, err, want[i])
		}
	}
}

// groupStore opens a store with series s1 and n coupons of it issued to
// alice, ids idPrefix and codes codePrefix followed by a number of three
// digits from 000, and returns them.
func groupStore(t *testing.T, be Backend, n int, idPrefix, codePrefix string) (Store, []coupon.Coupon) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	cs := make([]coupon.Coupon, n)
	for i := range cs {
		cs[i] = Issued(fmt.Sprintf("%s%03d", idPrefix, i), "s1", fmt.Sprintf("%s%03d", codePrefix, i), "alice")
	}
	mustApply(t, s, &store.Change{NewCoupons: cs})
	return s, cs
}
