package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// The model test's comparisons: an operation's result against the model's
// want, and after every step the whole stored state against the model.

// expect fails t unless err is what w says, and counts the outcome.
func (mc *machine) expect(t *rapid.T, op string, err error, w want) {
	t.Helper()
	label := "ok"
	var d *refusal.Error
	if err != nil {
		label = fmt.Sprint(int(errcode.CodeOf(err)))
		if errors.As(err, &d) {
			label = fmt.Sprint("refused ", d.Codes())
		}
	}
	name, _, _ := strings.Cut(op, "(")
	mc.stats[name+": "+label]++
	switch {
	case w.success():
		if err != nil {
			t.Fatalf("%s: the model says it succeeds; the engine says %v", op, err)
		}
	case err == nil:
		t.Fatalf("%s: the model says it fails with %d %s %v; the engine says it succeeds", op, w.code, w.code, w.refused)
	case w.isRefused():
		if d == nil {
			t.Fatalf("%s: the model says it is refused for %v; the engine says %v (code %d)", op, w.refused, err, errcode.CodeOf(err))
		}
		if got := d.Codes(); !slices.Equal(got, w.refused) {
			t.Fatalf("%s: the model says it is refused for %v; the engine refuses for %v: %v", op, w.refused, got, err)
		}
	default:
		if d != nil || !errors.Is(err, &errcode.Error{Code: w.code}) {
			t.Fatalf("%s: the model says it fails with %d %s; the engine says %v (code %d)", op, w.code, w.code, err, errcode.CodeOf(err))
		}
	}
}

func match[T any](t *rapid.T, what string, got, want T) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Fatalf("%s differs from the model (-model +engine):\n%s", what, d)
	}
}

// matchAll is match for the slices the state check compares after every
// step, with a fast equality first: cmp is slow, and only needed to
// explain a difference.
func matchAll[T any](t *rapid.T, what string, got, want []T, eq func(a, b *T) bool) {
	t.Helper()
	if len(got) == len(want) {
		same := true
		for i := range got {
			if !eq(&got[i], &want[i]) {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	match(t, what, got, want)
}

func couponsEqual(a, b *coupon.Coupon) bool {
	return a.ID == b.ID && a.SeriesID == b.SeriesID && a.Code == b.Code && a.Canonical == b.Canonical && a.Shared == b.Shared &&
		a.State == b.State && a.Holder == b.Holder && a.CreatedAt.Equal(b.CreatedAt) && a.IssuedAt.Equal(b.IssuedAt) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.Redemptions == b.Redemptions && a.Holds == b.Holds && a.Reversed == b.Reversed &&
		a.LastStatusChange.Equal(b.LastStatusChange) && a.ReissuedFrom == b.ReissuedFrom && a.ReissuedTo == b.ReissuedTo &&
		a.IssueKey == b.IssueKey && a.Version == b.Version
}

func redemptionsEqual(a, b *coupon.Redemption) bool {
	return a.ID == b.ID && a.CouponID == b.CouponID && a.SeriesID == b.SeriesID && a.Customer == b.Customer &&
		a.IdempotencyKey == b.IdempotencyKey && a.Status == b.Status && a.At.Equal(b.At) && a.HoldExpiresAt.Equal(b.HoldExpiresAt) &&
		a.ConfirmedAt.Equal(b.ConfirmedAt) && a.ReleasedAt.Equal(b.ReleasedAt) && a.ReversedAt.Equal(b.ReversedAt) &&
		a.Location == b.Location && a.Bill.Equal(b.Bill) && a.Discount.Equal(b.Discount) && a.Currency == b.Currency &&
		a.Lines == b.Lines && slices.Equal(a.Parts, b.Parts) && a.Reduced == b.Reduced && a.Budget == b.Budget &&
		slices.EqualFunc(a.Returns, b.Returns, returnsEqual)
}

func returnsEqual(a, b coupon.Return) bool {
	return a.Key == b.Key && a.At.Equal(b.At) && slices.Equal(a.Lines, b.Lines) && a.Amount == b.Amount &&
		a.Whole == b.Whole && a.Chargeback == b.Chargeback && a.Discount == b.Discount && a.Budget == b.Budget && a.Use == b.Use
}

func evRecsEqual(a, b *evRec) bool {
	x, y := *a, *b
	x.At, y.At = time.Time{}, time.Time{}
	return x == y && a.At.Equal(b.At)
}

// checkFieldCounts guards the hand-written equalities above: when a record
// type grows a field, they must learn it.
func checkFieldCounts(t *testing.T) {
	for _, x := range []struct {
		typ  reflect.Type
		want int
	}{{reflect.TypeFor[coupon.Coupon](), 18}, {reflect.TypeFor[coupon.Redemption](), 20}, {reflect.TypeFor[coupon.Return](), 9}} {
		if n := x.typ.NumField(); n != x.want {
			t.Fatalf("storetest: %s has %d fields, the model's equality knows %d: update couponsEqual or redemptionsEqual", x.typ, n, x.want)
		}
	}
}

// checkSeriesCounters compares the engine's running totals of s (issues,
// uses, budget spent) with the model's counters.
func (mc *machine) checkSeriesCounters(t *rapid.T, s *mseries) {
	sc, err := mc.e.e.Counters(mc.e.ctx, s.id())
	if err != nil {
		t.Fatalf("Counters: %v", err)
	}
	if n := mc.m.count(key(limits.SeriesIssued, s.id(), "", "")).N; sc.Issued != n {
		t.Fatalf("Engine.Counters(%s).Issued is %d; the model says %d", s.s.Name, sc.Issued, n)
	}
	if n := mc.m.count(key(limits.SeriesUses, s.id(), "", "")).N; sc.Uses != n {
		t.Fatalf("Engine.Counters(%s).Uses is %d; the model says %d", s.s.Name, sc.Uses, n)
	}
	if n := mc.m.count(budgetKeysOf(s.id(), "")[0]).N; !sc.BudgetSpent.Amount.Equal(decimal.New(n, -2)) {
		t.Fatalf("Engine.Counters(%s).BudgetSpent is %s; the model says %d cents", s.s.Name, sc.BudgetSpent, n)
	}
}

// check compares the whole stored state with the model: every coupon,
// redemption, counter and history, and the engine's counters.
func (mc *machine) check(t *rapid.T) {
	e, m := mc.e, mc.m
	for _, s := range m.all {
		got, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: s.id()}})
		if err != nil {
			t.Fatalf("ListCoupons: %v", err)
		}
		var want []coupon.Coupon
		for _, c := range m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() }) {
			want = append(want, *c)
		}
		matchAll(t, "the stored coupons of "+s.s.Name, got, want, couponsEqual)
		if mints(&s.s) {
			next, err := e.st.NextIndex(e.ctx, s.id())
			if err != nil {
				t.Fatalf("NextIndex: %v", err)
			}
			if next != int64(len(want)) {
				t.Fatalf("the code sequence of %s stands at %d; the model made %d codes from it", s.s.Name, next, len(want))
			}
		}
		rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: s.id()})
		if err != nil {
			t.Fatalf("ListRedemptions: %v", err)
		}
		var wantR []coupon.Redemption
		for _, r := range m.sortedReds(func(r *coupon.Redemption) bool { return r.SeriesID == s.id() }) {
			wantR = append(wantR, *r)
		}
		matchAll(t, "the stored redemptions of "+s.s.Name, rs, wantR, redemptionsEqual)
		mc.checkSeriesCounters(t, s)
	}
	keys := make([]store.CounterKey, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b store.CounterKey) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	got := make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, got); err != nil {
		t.Fatalf("Counters: %v", err)
	}
	for i, k := range keys {
		if w := m.counts[k]; got[i].N != w.N || !got[i].Last.Equal(w.Last) {
			t.Fatalf("counter %s of series %s (code %q, customer %q) is %d last %v; the model says %d last %v",
				k.Counter, k.Series, k.Code, k.Customer, got[i].N, got[i].Last, w.N, w.Last)
		}
	}
	for _, c := range m.sortedCoupons(func(*coupon.Coupon) bool { return true }) {
		evs, err := e.st.Events(e.ctx, store.EventQuery{CouponID: c.ID})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		var proj []evRec
		for _, ev := range evs {
			proj = append(proj, projectEvent(&ev))
		}
		matchAll(t, "the history of coupon "+c.Code, proj, m.events[c.ID], evRecsEqual)
	}
	e.mu.Lock()
	n := len(e.remaining)
	e.mu.Unlock()
	if n != m.notified {
		t.Fatalf("OnRemaining was called %d times; the model says %d", n, m.notified)
	}
	mc.checkFeed(t)
}
