package lease

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func drawSize(t *rapid.T) SizeInput {
	return SizeInput{
		Remaining:   rapid.Int64Range(-1, 1_000_000).Draw(t, "remaining"),
		RatePerHour: rapid.Float64Range(0, 1e6).Draw(t, "rate"),
		Duration:    time.Duration(rapid.Int64Range(0, int64(72*time.Hour)).Draw(t, "duration")),
		Tills:       rapid.IntRange(0, 500).Draw(t, "tills"),
	}
}

// TestDefaultSizeProperties checks the policy's promises on any input:
// never above what remains, at least 1 while anything does, 0 when nothing
// does, growing with the rate, and a fair share that leaves room for the
// other tills.
func TestDefaultSizeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := drawSize(t)
		n := DefaultSize(in)
		switch {
		case in.Remaining == 0 && n != 0:
			t.Fatalf("nothing remains but the policy asks for %d", n)
		case in.Remaining != 0 && n < 1:
			t.Fatalf("something remains (%d) but the policy asks for %d", in.Remaining, n)
		case in.Remaining > 0 && n > in.Remaining:
			t.Fatalf("the policy asks for %d of %d remaining", n, in.Remaining)
		}
		tills := int64(max(in.Tills, 1))
		if in.Remaining >= tills+1 && in.Remaining-n < n*tills {
			t.Fatalf("%d of %d leaves %d, less than a share of %d for each of the %d others", n, in.Remaining, in.Remaining-n, n, tills)
		}
		more := in
		more.RatePerHour += rapid.Float64Range(0, 1e6).Draw(t, "more")
		if m := DefaultSize(more); m < n {
			t.Fatalf("a higher rate (%g > %g) asks for less: %d < %d", more.RatePerHour, in.RatePerHour, m, n)
		}
	})
}

func TestDefaultSizeExamples(t *testing.T) {
	for _, c := range []struct {
		name string
		in   SizeInput
		want int64
	}{
		{"expected uses and headroom", SizeInput{Remaining: 1000, RatePerHour: 4, Duration: 2 * time.Hour, Tills: 3}, 12},
		{"capped at a fair share", SizeInput{Remaining: 40, RatePerHour: 100, Duration: time.Hour, Tills: 3}, 10},
		{"the last use", SizeInput{Remaining: 1, RatePerHour: 100, Duration: time.Hour, Tills: 9}, 1},
		{"an idle till still gets one", SizeInput{Remaining: 50, Duration: time.Hour}, 1},
		{"no limit", SizeInput{Remaining: -1, RatePerHour: 10, Duration: time.Hour}, 15},
		{"nothing left", SizeInput{Remaining: 0, RatePerHour: 10, Duration: time.Hour}, 0},
		{"a huge rate does not overflow", SizeInput{Remaining: -1, RatePerHour: math.MaxFloat64, Duration: time.Hour}, math.MaxInt64 / 2},
	} {
		if got := DefaultSize(c.in); got != c.want {
			t.Errorf("%s: DefaultSize(%+v) = %d, want %d", c.name, c.in, got, c.want)
		}
	}
}

func TestAllowanceAndConflict(t *testing.T) {
	for uses, want := range map[int64]int64{0: 0, 1: 1, 10: 1, 11: 2, 100: 10} {
		if got := DefaultAllowance(uses); got != want {
			t.Errorf("DefaultAllowance(%d) = %d, want %d", uses, got, want)
		}
	}
	l, err := New(Params{ID: "l", Till: "t", SeriesID: "s", Slice: Slice{Uses: 10}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l = l.Allow(1).Allow(-3)
	if l.Allowance != 1 {
		t.Fatalf("Allow(1), Allow(-3): allowance %d, want 1", l.Allowance)
	}
	a, over := l.Conflict(t0)
	if over || a.Conflicted != 1 || a.Version != l.Version+1 {
		t.Fatalf("the first conflict within an allowance of 1: %+v, over %v", a, over)
	}
	b, over := a.Conflict(t0)
	if !over || b.Conflicted != 2 {
		t.Fatalf("the second conflict: %+v, over %v; want over the allowance", b, over)
	}
	b.Allowance = -1
	if b.Check() == nil {
		t.Errorf("a negative allowance passes Check")
	}
}

func TestUseConflicted(t *testing.T) {
	l, err := New(Params{ID: "l", Till: "t", SeriesID: "s", Slice: Slice{Uses: 1}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	n, over, err := l.UseConflicted(Slice{Uses: 1}, t0)
	if err != nil || !over || n.Used.Uses != 1 || n.Conflicted != 1 || n.Version != l.Version+1 {
		t.Fatalf("a conflicted use of a lease with no allowance: %+v, over %v, %v", n, over, err)
	}
	if _, _, err := n.UseConflicted(Slice{Uses: 1}, t0); err == nil {
		t.Errorf("a conflicted use past what is left was counted on the lease")
	}
}
