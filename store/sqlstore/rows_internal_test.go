package sqlstore

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

func TestPieces(t *testing.T) {
	for _, tc := range []struct {
		n, max int
		want   []int
	}{
		{0, 128, nil},
		{1, 128, []int{1}},
		{128, 128, []int{128}},
		{1000, 128, []int{128, 128, 128, 128, 128, 128, 128, 64, 32, 8}},
		{501, 512, []int{256, 128, 64, 32, 16, 4, 1}},
		{1025, 512, []int{512, 512, 1}},
	} {
		got := pieces(tc.n, tc.max)
		if !slices.Equal(got, tc.want) {
			t.Errorf("pieces(%d, %d) = %v, want %v", tc.n, tc.max, got, tc.want)
		}
		sum := 0
		for _, p := range got {
			sum += p
		}
		if sum != tc.n {
			t.Errorf("pieces(%d, %d) sum to %d", tc.n, tc.max, sum)
		}
	}
}

func TestChainClass(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	k := store.CounterKey{Counter: limits.CustomerIssued, Series: "s", Customer: "alice"}
	g := limits.Guard{Counter: k.Counter, Limit: 3}
	bump := func(delta int64, g limits.Guard, at time.Time) store.Bump {
		return store.Bump{Key: k, Delta: delta, Guard: g, At: at}
	}
	gap := limits.Guard{Counter: k.Counter, Limit: 3, MinGap: time.Hour}
	for _, tc := range []struct {
		name  string
		bumps []store.Bump
		ok    bool
		want  bumpClass
	}{
		{"one", []store.Bump{bump(1, g, at)}, true, bumpClass{limit: 3, gap: 1<<63 - 1}},
		{"three under a limit of three", []store.Bump{bump(1, g, at), bump(1, g, at), bump(1, g, at)}, true, bumpClass{limit: 3, gap: 1<<63 - 1}},
		{"four under a limit of three", []store.Bump{bump(1, g, at), bump(1, g, at), bump(1, g, at), bump(1, g, at)}, false, bumpClass{}},
		{"one with a gap", []store.Bump{bump(1, gap, at)}, true, bumpClass{limit: 3, gap: at.Add(-time.Hour).UnixNano()}},
		{"two with a gap", []store.Bump{bump(1, gap, at), bump(1, gap, at)}, false, bumpClass{}},
		{"a decrement", []store.Bump{bump(1, g, at), bump(-1, g, at)}, false, bumpClass{}},
		{"a read", []store.Bump{bump(0, g, at)}, false, bumpClass{}},
		{"two times", []store.Bump{bump(1, g, at), bump(1, g, at.Add(time.Second))}, false, bumpClass{}},
		{"two guards", []store.Bump{bump(1, g, at), bump(1, limits.Guard{Counter: k.Counter, Limit: 4}, at)}, false, bumpClass{}},
		{"no limit", []store.Bump{bump(1, limits.Guard{}, at), bump(1, limits.Guard{}, at)}, true, bumpClass{limit: 1<<63 - 1, gap: 1<<63 - 1}},
	} {
		c := &store.Change{Bumps: tc.bumps}
		chain := make([]int, len(tc.bumps))
		for i := range chain {
			chain[i] = i
		}
		got, ok := chainClass(c, chain)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: chainClass = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// settleBumps matches the rows an upsert returned to its chains whatever
// their order, and names the first chain whose row is missing.
func TestSettleBumps(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := []store.CounterKey{
		{Counter: limits.CustomerIssued, Series: "s", Customer: "a"},
		{Counter: limits.CustomerIssued, Series: "s", Customer: "b\x00"},
		{Counter: limits.CustomerIssued, Series: "s", Customer: "c"},
	}
	c := &store.Change{}
	var chains [][]int
	for i, k := range keys { // chains of 1, 2 and 3 bumps
		var ch []int
		for range i + 1 {
			ch = append(ch, len(c.Bumps))
			c.Bumps = append(c.Bumps, store.Bump{Key: k, Delta: 1, At: at})
		}
		chains = append(chains, ch)
	}
	row := func(k store.CounterKey, n int64) bumped {
		return bumped{counter: int64(k.Counter), series: keyText(k.Series), code: keyText(k.Code), customer: keyText(k.Customer),
			n: n, last: sql.NullInt64{Int64: at.UnixNano(), Valid: true}}
	}
	o := &op{kind: opBumps, chains: chains}

	p := &planned{c: c, after: make([]store.Count, len(c.Bumps))}
	got := []bumped{row(keys[2], 7), row(keys[0], 1), row(keys[1], 2)} // out of order
	if refused := settleBumps(p, o, got); refused != nil {
		t.Fatalf("refused %v, want none", refused)
	}
	want := []int64{1, 1, 2, 5, 6, 7}
	for i, a := range p.after {
		if a.N != want[i] || !a.Last.Equal(at) {
			t.Errorf("bump %d After %+v, want %d at %v", i, a, want[i], at)
		}
	}

	p = &planned{c: c, after: make([]store.Count, len(c.Bumps))}
	if refused := settleBumps(p, o, []bumped{row(keys[2], 3), row(keys[0], 1)}); !slices.Equal(refused, chains[1]) {
		t.Errorf("refused %v, want %v", refused, chains[1])
	}
}

// chainGuardErr names the first bump of a chain that refuses, with the
// value it saw, as one statement per bump would have.
func TestChainGuardErr(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	last := at.Add(-time.Hour).UTC()
	k := store.CounterKey{Counter: limits.CustomerIssued, Series: "s", Customer: "a"}
	g := limits.Guard{Counter: k.Counter, Limit: 3}
	c := &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, Guard: g, At: at}, {Key: k, Delta: 1, Guard: g, At: at}, {Key: k, Delta: 1, Guard: g, At: at}}}
	for _, tc := range []struct {
		cur  store.Count
		want store.Count
	}{
		{store.Count{N: 3, Last: last}, store.Count{N: 3, Last: last}},     // the first refuses
		{store.Count{N: 1, Last: last}, store.Count{N: 3, Last: at.UTC()}}, // the third
		{store.Count{N: 0}, store.Count{N: 0}},                             // none: the first's, with cur
		{store.Count{N: 2, Last: last}, store.Count{N: 3, Last: at.UTC()}}, // the second
	} {
		err := chainGuardErr(c, []int{0, 1, 2}, tc.cur)
		ge, ok := err.(*store.GuardError)
		if !ok || ge.Key != k || ge.Guard != g || ge.Count.N != tc.want.N || !ge.Count.Last.Equal(tc.want.Last) {
			t.Errorf("from %+v: %v, want a GuardError that saw %+v", tc.cur, err, tc.want)
		}
	}
}
