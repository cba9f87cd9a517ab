package sqlcore

import (
	"database/sql"
	"slices"
	"strings"
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

// classOf batches an increment that a counter never bumped would pass,
// bounded by its limit and gap; nothing else.
func TestClassOf(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	k := store.CounterKey{Counter: limits.CustomerIssued, Series: "s", Customer: "alice"}
	g := limits.Guard{Counter: k.Counter, Limit: 3}
	gap := limits.Guard{Counter: k.Counter, Limit: 3, MinGap: time.Hour}
	for _, tc := range []struct {
		name  string
		delta int64
		g     limits.Guard
		ok    bool
		want  bumpClass
	}{
		{"one", 1, g, true, bumpClass{limit: 3, gap: 1<<63 - 1}},
		{"three under a limit of three", 3, g, true, bumpClass{limit: 3, gap: 1<<63 - 1}},
		{"four under a limit of three", 4, g, false, bumpClass{}},
		{"one with a gap", 1, gap, true, bumpClass{limit: 3, gap: at.Add(-time.Hour).UnixNano()}},
		{"two with a gap", 2, gap, false, bumpClass{}},
		{"a decrement", -1, g, false, bumpClass{}},
		{"a read", 0, g, false, bumpClass{}},
		{"no limit", 2, limits.Guard{}, true, bumpClass{limit: 1<<63 - 1, gap: 1<<63 - 1}},
	} {
		got, ok := classOf(&store.Bump{Key: k, Delta: tc.delta, Guard: tc.g, At: at})
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: classOf = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// SettleBumps matches the rows an upsert returned to its bumps whatever
// their order, and names the first bump whose row is missing.
func TestSettleBumps(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := []store.CounterKey{
		{Counter: limits.CustomerIssued, Series: "s", Customer: "a"},
		{Counter: limits.CustomerIssued, Series: "s", Customer: "b\x00"},
		{Counter: limits.CodeUses, Series: "s", Code: "C", Holder: "c"},
	}
	c := &store.Change{}
	for i, k := range keys { // bumps of 1, 2 and 3
		c.Bumps = append(c.Bumps, store.Bump{Key: k, Delta: int64(i + 1), At: at})
	}
	row := func(k store.CounterKey, n int64) Bumped {
		return Bumped{counter: int64(k.Counter), series: KeyText(k.Series), code: KeyText(k.Code), holder: KeyText(k.Holder),
			customer: KeyText(k.Customer), n: n, last: sql.NullInt64{Int64: at.UnixNano(), Valid: true}}
	}
	o := &Op{Kind: OpBumps, Bumps: []int{0, 1, 2}}

	p := &Planned{c: c, after: make([]store.Count, len(c.Bumps))}
	got := []Bumped{row(keys[2], 7), row(keys[0], 1), row(keys[1], 2)} // out of order
	if refused := SettleBumps(p, o, got); refused >= 0 {
		t.Fatalf("refused %v, want none", refused)
	}
	want := []int64{1, 2, 7}
	for i, a := range p.after {
		if a.N != want[i] || !a.Last.Equal(at) {
			t.Errorf("bump %d After %+v, want %d at %v", i, a, want[i], at)
		}
	}

	p = &Planned{c: c, after: make([]store.Count, len(c.Bumps))}
	if refused := SettleBumps(p, o, []Bumped{row(keys[2], 3), row(keys[0], 1)}); refused != 1 {
		t.Errorf("refused %v, want 1", refused)
	}
}

// RefusedErr is the GuardError store.Bump.Next gives on the value read, or
// one with that value when the counter has moved so that the bump passes.
func TestRefusedErr(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	last := at.Add(-time.Hour).UTC()
	k := store.CounterKey{Counter: limits.CustomerIssued, Series: "s", Customer: "a"}
	g := limits.Guard{Counter: k.Counter, Limit: 3}
	b := &store.Bump{Key: k, Delta: 2, Guard: g, At: at}
	for _, cur := range []store.Count{{N: 3, Last: last}, {N: 2, Last: last}, {N: 0}} {
		err := RefusedErr(b, cur)
		ge, ok := err.(*store.GuardError)
		if !ok || ge.Key != k || ge.Guard != g || ge.Count.N != cur.N || !ge.Count.Last.Equal(cur.Last) {
			t.Errorf("from %+v: %v, want a GuardError that saw it", cur, err)
		}
	}
}

// KeyText is injective and keeps NUL out of what it stores.
func TestKeyText(t *testing.T) {
	seen := map[string]string{}
	for _, s := range []string{"", "a", "a\x00", "a\\0", "a\\\x00", "\\", "\\\\", "\x00\x00", "\x00\\0"} {
		k := KeyText(s)
		if strings.IndexByte(k, 0) >= 0 {
			t.Errorf("KeyText(%q) = %q holds NUL", s, k)
		}
		if o, dup := seen[k]; dup {
			t.Errorf("KeyText(%q) = KeyText(%q) = %q", s, o, k)
		}
		seen[k] = s
	}
	if KeyText("plain") != "plain" {
		t.Error("a plain key is changed")
	}
}
