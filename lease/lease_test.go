package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"pgregory.net/rapid"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newLease(t *testing.T, uses int64) Lease {
	t.Helper()
	l, err := New(Params{ID: "l1", Till: "t1", SeriesID: "s1", Slice: Slice{Uses: uses}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewRefusesBadParams(t *testing.T) {
	for name, p := range map[string]Params{
		"no uses":      {ID: "l", Till: "t", SeriesID: "s", End: t0.Add(time.Hour)},
		"negative":     {ID: "l", Till: "t", SeriesID: "s", Slice: Slice{Uses: -1}, End: t0.Add(time.Hour)},
		"end past":     {ID: "l", Till: "t", SeriesID: "s", Slice: Slice{Uses: 1}, End: t0},
		"no till":      {ID: "l", SeriesID: "s", Slice: Slice{Uses: 1}, End: t0.Add(time.Hour)},
		"no series id": {ID: "l", Till: "t", Slice: Slice{Uses: 1}, End: t0.Add(time.Hour)},
		"money only":   {ID: "l", Till: "t", SeriesID: "s", Currency: "EUR", Slice: Slice{Money: 100}, End: t0.Add(time.Hour)},
		"no currency":  {ID: "l", Till: "t", SeriesID: "s", Slice: Slice{Uses: 1, Money: 100}, End: t0.Add(time.Hour)},
		"less money":   {ID: "l", Till: "t", SeriesID: "s", Currency: "EUR", Slice: Slice{Uses: 1, Money: -1}, End: t0.Add(time.Hour)},
	} {
		if _, err := New(p, t0); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
}

func TestReturnMoreThanLeftRefused(t *testing.T) {
	l := newLease(t, 3)
	l, err := l.Use(Slice{Uses: 2}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Return(Slice{Uses: 2}, t0); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Fatalf("returning 2 of 1 left: err = %v", err)
	}
	if r, err := l.Return(Slice{Uses: 1}, t0); err != nil || !r.Left().IsZero() {
		t.Fatalf("returning the last use: %v, left %v", err, r.Left())
	}
}

func TestReclaimOnlyAfterEndPlusSkew(t *testing.T) {
	l := newLease(t, 5)
	skew := 2 * time.Minute
	if _, _, err := l.Reclaim(l.End.Add(skew-time.Nanosecond), skew); !errors.Is(err, errcode.ErrInvalidTransition) {
		t.Fatalf("reclaim inside the allowance: err = %v", err)
	}
	r, got, err := l.Reclaim(l.End.Add(skew), skew)
	if err != nil {
		t.Fatal(err)
	}
	if got != l.Left() || r.Status != Closed || !r.Left().IsZero() {
		t.Fatalf("reclaimed %v of %v, lease %+v", got, l.Left(), r)
	}
	if _, _, err := r.Reclaim(r.End.Add(skew), skew); !errors.Is(err, errcode.ErrInvalidTransition) {
		t.Fatalf("second reclaim: err = %v", err)
	}
}

func TestUsableStopsSkewBeforeEnd(t *testing.T) {
	l := newLease(t, 1)
	skew := time.Minute
	if !l.UsableAt(l.End.Add(-skew-time.Nanosecond), skew) {
		t.Error("not usable just before End - skew")
	}
	if l.UsableAt(l.End.Add(-skew), skew) {
		t.Error("usable at End - skew")
	}
}

func TestRenewNeverShortens(t *testing.T) {
	l := newLease(t, 1)
	if _, err := l.Renew(l.End.Add(-time.Minute), t0); err == nil {
		t.Fatal("a renewal shortened the lease")
	}
	r, err := l.Renew(l.End.Add(time.Hour), t0)
	if err != nil || !r.End.Equal(l.End.Add(time.Hour)) || r.Version != l.Version+1 {
		t.Fatalf("renew: %v, %+v", err, r)
	}
}

func TestSameNamesTheMismatch(t *testing.T) {
	o := Op{Till: "t", Key: "k", Kind: TopUp, LeaseID: "l1", SeriesID: "s", Slice: Slice{Uses: 3}}
	for name, w := range map[string]Op{
		"kind":  {Kind: Return, LeaseID: "l1", Slice: Slice{Uses: 3}},
		"lease": {Kind: TopUp, LeaseID: "l2", Slice: Slice{Uses: 3}},
		"uses":  {Kind: TopUp, LeaseID: "l1", Slice: Slice{Uses: 4}},
		"end":   {Kind: TopUp, LeaseID: "l1", Slice: Slice{Uses: 3}, End: t0},
	} {
		if err := o.Same(&w); !errors.Is(err, errcode.ErrKeyMismatch) {
			t.Errorf("%s: err = %v, want KeyMismatch", name, err)
		}
	}
	same := Op{Kind: TopUp, LeaseID: "l1", Slice: Slice{Uses: 3}}
	if err := o.Same(&same); err != nil {
		t.Errorf("same call: %v", err)
	}
}

// TestTransitionsKeepInvariants drives a lease through random transitions
// and checks after each that Check holds and that the parts add up to
// what was granted.
func TestTransitionsKeepInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		at := t0
		// Some leases hold money beside their uses (a budgeted series).
		budgeted := rapid.Bool().Draw(t, "budgeted")
		first := Slice{Uses: rapid.Int64Range(1, 20).Draw(t, "uses")}
		cur := ""
		if budgeted {
			first.Money, cur = rapid.Int64Range(0, 5000).Draw(t, "money"), "EUR"
		}
		l, err := New(Params{ID: "l", Till: "t", SeriesID: "s", Currency: cur, Slice: first, End: t0.Add(time.Hour)}, at)
		if err != nil {
			t.Fatal(err)
		}
		skew := time.Duration(rapid.IntRange(0, 10).Draw(t, "skew")) * time.Minute
		for range rapid.IntRange(0, 30).Draw(t, "steps") {
			at = at.Add(time.Duration(rapid.IntRange(0, 20).Draw(t, "dt")) * time.Minute)
			s := Slice{Uses: rapid.Int64Range(-2, 6).Draw(t, "n")}
			if budgeted || rapid.IntRange(0, 9).Draw(t, "stray money") == 0 {
				s.Money = rapid.Int64Range(-100, 1500).Draw(t, "m")
			}
			var next Lease
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0:
				next, err = l.Use(s, at)
			case 1:
				next, err = l.Return(s, at)
			case 2:
				next, err = l.TopUp(s, at)
			case 3:
				next, err = l.Renew(at.Add(time.Hour), at)
			case 4:
				next, _, err = l.Reclaim(at, skew)
			}
			if err != nil {
				if next != l {
					t.Fatalf("a refused transition changed the lease: %+v -> %+v", l, next)
				}
				continue
			}
			if next.Version != l.Version+1 {
				t.Fatalf("version %d -> %d", l.Version, next.Version)
			}
			l = next
			if err := l.Check(); err != nil {
				t.Fatalf("%v: %+v", err, l)
			}
			if sum := l.Used.Add(l.Returned).Add(l.Reclaimed).Add(l.Left()); sum != l.Granted {
				t.Fatalf("parts %v != granted %v", sum, l.Granted)
			}
			if !budgeted && l.Granted.Money != 0 {
				t.Fatalf("a lease without a currency was granted money: %+v", l)
			}
			if l.Left().Money < 0 || l.Used.Money < 0 {
				t.Fatalf("money below zero: %+v", l)
			}
		}
	})
}

// TestMoneyIsSpentReturnedAndReclaimedLikeUses walks a lease holding money
// through a use, a return and a reclaim: the money goes where the uses go,
// and a use whose discount the money left cannot cover is refused.
func TestMoneyIsSpentReturnedAndReclaimedLikeUses(t *testing.T) {
	l, err := New(Params{ID: "l", Till: "t", SeriesID: "s", Currency: "EUR", Slice: Slice{Uses: 3, Money: 1500}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Use(Slice{Uses: 1, Money: 1501}, t0); !errors.Is(err, errcode.ErrLimitReached) {
		t.Fatalf("a discount past the money left: err = %v", err)
	}
	if l, err = l.Use(Slice{Uses: 1, Money: 1000}, t0); err != nil {
		t.Fatal(err)
	}
	if l, err = l.Return(Slice{Money: 200}, t0); err != nil {
		t.Fatalf("returning money alone: %v", err)
	}
	if _, err := l.Return(Slice{Money: 301}, t0); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Fatalf("returning more money than is left: err = %v", err)
	}
	r, got, err := l.Reclaim(l.End, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Slice{Uses: 2, Money: 300}); got != want || r.Reclaimed != want || !r.Left().IsZero() {
		t.Fatalf("reclaimed %v, lease %+v; want %v", got, r, want)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
}
