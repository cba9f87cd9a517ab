package memstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

func TestNotFoundError(t *testing.T) {
	s := New()
	_, err := s.RedemptionByKey(ctx, "c1", "pos-1")
	if !errors.Is(err, errcode.ErrNotFound) || errors.Is(err, errcode.ErrConflict) {
		t.Fatalf("error %v does not match only ErrNotFound", err)
	}
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.NotFound || ce.Field != "redemption" {
		t.Fatalf("errors.As gives %+v", ce)
	}
	if want := store.NotFound("redemption", "pos-1").Error(); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("CodeOf = %v", errcode.CodeOf(err))
	}
	for name, f := range map[string]func() error{
		"series":     func() error { _, err := s.Series(ctx, "x"); return err },
		"coupon":     func() error { _, err := s.Coupon(ctx, "x"); return err },
		"redemption": func() error { _, err := s.Redemption(ctx, "x"); return err },
		"empty key":  func() error { _, err := s.RedemptionByKey(ctx, "x", ""); return err },
	} {
		if err := f(); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestManyRedemptionsOfOneCoupon(t *testing.T) {
	s := fill(t, issued("c1", "s1", "A", "alice"), issued("c2", "s1", "B", "bob"))
	const n = 3 * keyScan
	for i := range n {
		mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{{
			ID: fmt.Sprintf("r%02d", i), CouponID: "c1", SeriesID: "s1", IdempotencyKey: fmt.Sprintf("k%02d", i), Status: coupon.StatusHeld}}})
		if i == keyScan { // the coupon's keys have moved to a map: duplicates are still found
			err := s.Apply(ctx, &store.Change{NewRedemptions: []coupon.Redemption{{ID: "dup", CouponID: "c1", IdempotencyKey: "k03"}}})
			wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists)
		}
	}
	for i := range n {
		r, err := s.RedemptionByKey(ctx, "c1", fmt.Sprintf("k%02d", i))
		if err != nil || r.ID != fmt.Sprintf("r%02d", i) {
			t.Fatalf("RedemptionByKey(k%02d) = %q, %v", i, r.ID, err)
		}
	}
	// An update may change a redemption's key or even its coupon.
	r5, _ := s.Redemption(ctx, "r05")
	r5.IdempotencyKey = "k99"
	r6, _ := s.Redemption(ctx, "r06")
	r6.CouponID = "c2"
	mustApply(t, s, &store.Change{Redemptions: []store.RedemptionUpdate{
		{Redemption: r5, ExpectStatus: coupon.StatusHeld}, {Redemption: r6, ExpectStatus: coupon.StatusHeld}}})
	if _, err := s.RedemptionByKey(ctx, "c1", "k05"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("old key still found: %v", err)
	}
	if r, err := s.RedemptionByKey(ctx, "c1", "k99"); err != nil || r.ID != "r05" {
		t.Errorf("new key: %q, %v", r.ID, err)
	}
	if r, err := s.RedemptionByKey(ctx, "c2", "k06"); err != nil || r.ID != "r06" {
		t.Errorf("moved redemption: %q, %v", r.ID, err)
	}
	// Moving a key onto one that is taken collides.
	r7, _ := s.Redemption(ctx, "r07")
	r7.IdempotencyKey = "k99"
	wantErr[*store.ExistsError](t, s.Apply(ctx, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: r7, ExpectStatus: coupon.StatusHeld}}}), errcode.ErrAlreadyExists)
	c1, _ := s.ListRedemptions(ctx, store.RedemptionQuery{CouponID: "c1"})
	c2, _ := s.ListRedemptions(ctx, store.RedemptionQuery{CouponID: "c2"})
	if len(c1) != n-1 || len(c2) != 1 {
		t.Errorf("c1 has %d redemptions, c2 %d; want %d and 1", len(c1), len(c2), n-1)
	}
}

func TestCodeIndex(t *testing.T) {
	s := fill(t, available("c1", "s1", "A"), available("c2", "s2", "A"), available("c3", "s3", "A"))
	ids := func(series, code string) string {
		cs, err := s.CouponsByCode(ctx, series, code)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return fmt.Sprint(out)
	}
	if got := ids("", "A"); got != "[c1 c2 c3]" {
		t.Errorf("A everywhere = %s", got)
	}
	// Recode two of them: the code index follows.
	for _, id := range []string{"c2", "c3"} {
		c, _ := s.Coupon(ctx, id)
		n := c
		n.Canonical, n.Version = "B", c.Version+1
		mustApply(t, s, &store.Change{Coupons: []store.CouponUpdate{{Coupon: n, ExpectVersion: c.Version}}})
	}
	for _, tc := range []struct{ series, code, want string }{
		{"", "A", "[c1]"}, {"s1", "A", "[c1]"}, {"s2", "A", "[]"}, {"", "B", "[c2 c3]"}, {"s3", "B", "[c3]"}, {"", "C", "[]"},
	} {
		if got := ids(tc.series, tc.code); got != tc.want {
			t.Errorf("CouponsByCode(%q, %q) = %s, want %s", tc.series, tc.code, got, tc.want)
		}
	}
}

func TestRecordsBeforeTheirCoupon(t *testing.T) {
	// Redemptions and events may name a coupon the store does not hold
	// (yet); the coupon is still missing until inserted, and its history
	// is whole afterwards.
	s := New()
	mustApply(t, s, &store.Change{
		NewRedemptions: []coupon.Redemption{{ID: "r1", CouponID: "c1", IdempotencyKey: "k"}},
		Events:         []coupon.Event{{ID: "e1", CouponID: "c1"}},
	})
	if _, err := s.Coupon(ctx, "c1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("Coupon(c1) before insert: %v", err)
	}
	if list, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{IDs: []string{"c1"}}}); len(list) != 0 {
		t.Errorf("ListCoupons finds a coupon never inserted: %v", list)
	}
	wantErr[*store.ConflictError](t, s.Apply(ctx, &store.Change{Coupons: []store.CouponUpdate{{Coupon: available("c1", "s1", "A"), ExpectVersion: 0}}}), errcode.ErrConflict)
	if n, err := s.InsertCoupons(ctx, []coupon.Coupon{available("c1", "s1", "A")}, []coupon.Event{{ID: "e2", CouponID: "c1"}}); n != 1 || err != nil {
		t.Fatalf("InsertCoupons = %d, %v", n, err)
	}
	evs, _ := s.Events(ctx, store.EventQuery{CouponID: "c1"})
	if len(evs) != 2 || evs[0].ID != "e1" || evs[1].ID != "e2" {
		t.Errorf("events = %+v", evs)
	}
	if r, err := s.RedemptionByKey(ctx, "c1", "k"); err != nil || r.ID != "r1" {
		t.Errorf("RedemptionByKey = %q, %v", r.ID, err)
	}
}

// TestBumpsMatchModel applies random changes of counter bumps (each of its
// own counter), and checks every outcome and every counter against a plain
// model that applies a change's bumps one by one, an increment of k as k
// increments of one, and drops them all on the first refusal.
func TestBumpsMatchModel(t *testing.T) {
	keys := []store.CounterKey{
		{Counter: limits.CodeUses, Series: "s1", Code: "A"},
		{Counter: limits.CustomerCodeUses, Series: "s1", Code: "A", Customer: "u"},
		{Counter: limits.SeriesUses, Series: "s1"},
	}
	rapid.Check(t, func(t *rapid.T) {
		s := New()
		model := map[store.CounterKey]store.Count{}
		now := t0
		for range rapid.IntRange(1, 30).Draw(t, "changes") {
			now = now.Add(time.Duration(rapid.IntRange(0, 120).Draw(t, "step")) * time.Minute)
			var bumps []store.Bump
			for _, k := range rapid.Permutation(keys).Draw(t, "keys")[:rapid.IntRange(1, len(keys)).Draw(t, "bumps")] {
				bumps = append(bumps, store.Bump{
					Key:   k,
					Delta: int64(rapid.IntRange(-2, 3).Draw(t, "delta")),
					At:    now,
					Guard: limits.Guard{
						Limit:  limits.Limit(rapid.IntRange(0, 6).Draw(t, "limit")),
						MinGap: time.Duration(rapid.IntRange(0, 2).Draw(t, "gap")) * time.Hour,
					},
				})
			}
			// The model.
			next := map[store.CounterKey]store.Count{}
			var wantCode errcode.Code
			for _, b := range bumps {
				cur := model[b.Key]
				for range b.Delta {
					if !b.Guard.Check(cur.N, cur.Last, b.At) {
						wantCode = errcode.GuardFailed
						break
					}
					cur.N++
					cur.Last = b.At
				}
				if b.Delta < 0 && cur.N+b.Delta < 0 {
					wantCode = errcode.Conflict
				}
				if wantCode != 0 {
					break
				}
				if b.Delta < 0 {
					cur.N += b.Delta
				}
				next[b.Key] = cur
			}
			err := s.Apply(ctx, &store.Change{Bumps: bumps})
			if errcode.CodeOf(err) != wantCode {
				t.Fatalf("Apply(%+v) = %v, want code %d", bumps, err, wantCode)
			}
			if wantCode == 0 {
				for k, v := range next {
					model[k] = v
				}
			}
			got := make([]store.Count, len(keys))
			if err := s.Counters(ctx, keys, got); err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				if got[i] != model[k] {
					t.Fatalf("counter %v = %v, want %v", k, got[i], model[k])
				}
			}
		}
	})
}

// TestConcurrentEventReads reads events, which are copied outside the lock,
// while other goroutines append them (run it with -race).
func TestConcurrentEventReads(t *testing.T) {
	s := New()
	const writers, events = 4, 1500 // several chunks of the log
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range events {
				id := fmt.Sprintf("e%d-%d", w, i)
				mustApply(t, s, &store.Change{Events: []coupon.Event{{ID: id, CouponID: fmt.Sprint("c", i%3), Customer: fmt.Sprint("u", w), SeriesID: "s1"}}})
			}
		})
		wg.Go(func() {
			for i := range events / 8 {
				var q store.EventQuery
				switch i % 3 {
				case 0:
					q.CouponID = "c1"
				case 1:
					q.Customer = fmt.Sprint("u", w)
				default:
					q.SeriesID = "s1"
				}
				evs, err := s.Events(ctx, q)
				if err != nil {
					t.Error(err)
					return
				}
				for _, e := range evs {
					if e.ID == "" || (q.CouponID != "" && e.CouponID != q.CouponID) || (q.Customer != "" && e.Customer != q.Customer) {
						t.Errorf("query %+v returned %+v", q, e)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	all, _ := s.Events(ctx, store.EventQuery{})
	if len(all) != writers*events {
		t.Errorf("%d events, want %d", len(all), writers*events)
	}
	mine, _ := s.Events(ctx, store.EventQuery{Customer: "u2", CouponID: "c0"})
	if len(mine) != events/3 {
		t.Errorf("%d events of u2 and c0, want %d", len(mine), events/3)
	}
}
