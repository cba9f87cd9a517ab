package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// TestPropertyMultiRowEqualsOneByOne applies random changes, large and
// small, to two stores: with multi-row statements (Apply) and with one
// statement per row and per bump (the way Apply wrote every change
// before). The outcomes must be the same: the same error, naming the same
// row, counter and value seen, or the same Afters; and the same coupons,
// events and counters stored afterwards.
func TestPropertyMultiRowEqualsOneByOne(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			multi, single := openInternal(t, d), openInternal(t, d)
			iter := 0
			rapid.Check(t, func(rt *rapid.T) {
				iter++
				checkMultiRowEqualsOneByOne(rt, multi, single, fmt.Sprintf("i%d-", iter))
			})
		})
	}
}

func checkMultiRowEqualsOneByOne(t *rapid.T, multi, single *Store, prefix string) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sid, missing := prefix+"s", prefix+"missing"
	nCust := rapid.IntRange(1, 40).Draw(t, "customers")
	keys := []store.CounterKey{
		{Counter: limits.SeriesIssued, Series: sid},
		{Counter: limits.SeriesUses, Series: sid},
		{Counter: limits.CodeUses, Series: sid, Code: "A\x00b"},
	}
	for i := range nCust {
		keys = append(keys, store.CounterKey{Counter: limits.CustomerIssued, Series: sid, Customer: fmt.Sprintf("c%d\\", i)})
	}
	both := func(what string, f func(s *Store) error) {
		for _, s := range []*Store{multi, single} {
			if err := f(s); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}

	// The state before: the series, a few coupons and a redemption, and
	// counters part way up.
	code := func(i int) string { return fmt.Sprintf("CODE%d", i) }
	nCodes := rapid.IntRange(1, 600).Draw(t, "codes") // small: codes collide
	existing := rapid.SliceOfNDistinct(rapid.IntRange(0, nCodes-1), 0, 5, rapid.ID[int]).Draw(t, "existing")
	var pre []coupon.Coupon
	for _, i := range existing {
		pre = append(pre, issuedCoupon(prefix+"old"+code(i), sid, code(i), "c0", t0))
	}
	both("series", func(s *Store) error {
		ser := series.Series{ID: sid, Name: sid, Status: series.Active, TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
			Version: 1, CreatedAt: t0, UpdatedAt: t0}
		return s.apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: ser}, NewCoupons: pre}, false)
	})
	if len(pre) > 0 {
		both("redemption", func(s *Store) error {
			return s.apply(ctx, &store.Change{NewRedemptions: []coupon.Redemption{{ID: prefix + "r-old", CouponID: pre[0].ID, SeriesID: sid,
				Customer: "c0", IdempotencyKey: "k0", Status: coupon.StatusRedeemed, At: t0}}}, false)
		})
	}
	preN := make([]int, len(keys))
	for i, k := range keys {
		preN[i] = rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("pre%d", i))
		for range preN[i] {
			both("pre bump", func(s *Store) error {
				return s.apply(ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}}, false)
			})
		}
	}

	// The change: mostly one that passes, sometimes one with a fault (a
	// missing series, a duplicate code or id, a guard that refuses).
	c := &store.Change{}
	nNew := rapid.IntRange(0, 300).Draw(t, "newCoupons")
	for i := range nNew {
		c.NewCoupons = append(c.NewCoupons, issuedCoupon(fmt.Sprintf("%snew%04d", prefix, i), sid, fmt.Sprintf("NEW%d", i),
			fmt.Sprintf("c%d\\", rapid.IntRange(0, nCust-1).Draw(t, "holder")), t0))
	}
	if nNew > 0 {
		cp := &c.NewCoupons[rapid.IntRange(0, nNew-1).Draw(t, "faulty")]
		switch rapid.IntRange(0, 15).Draw(t, "couponFault") {
		case 0:
			cp.SeriesID = missing
		case 1:
			if len(pre) > 0 {
				cp.Code, cp.Canonical = pre[0].Code, pre[0].Canonical
			}
		case 2:
			if len(pre) > 0 {
				cp.ID = pre[0].ID
			}
		case 3:
			other := c.NewCoupons[rapid.IntRange(0, nNew-1).Draw(t, "twin")]
			cp.Code, cp.Canonical = other.Code, other.Canonical
		}
	}
	if len(pre) > 0 {
		for i := range rapid.IntRange(0, 3).Draw(t, "newRedemptions") {
			c.NewRedemptions = append(c.NewRedemptions, coupon.Redemption{ID: fmt.Sprintf("%sr%d", prefix, i), CouponID: pre[0].ID,
				SeriesID: sid, Customer: "c0", IdempotencyKey: fmt.Sprintf("k%d", rapid.IntRange(0, 30).Draw(t, "key")),
				Status: coupon.StatusRedeemed, At: t0})
		}
	}
	for i := range rapid.IntRange(0, 300).Draw(t, "events") {
		c.Events = append(c.Events, coupon.Event{ID: fmt.Sprintf("%sev%d", prefix, i), Kind: coupon.EventIssued, CouponID: fmt.Sprintf("%snew%04d", prefix, i),
			SeriesID: sid, Code: code(i), Customer: fmt.Sprintf("c%d\\", i%nCust), Actor: "bulk", At: t0})
	}
	// The bumps: one of k of each counter, in any order, under a limit that
	// leaves room for them exactly or with some to spare; at most one
	// counter whose guard refuses (one too many, or a gap), and now and
	// then a bump the multi-row upsert cannot take (a decrement, a read,
	// another guard or time).
	t1 := t0.Add(time.Hour)
	at := rapid.SampledFrom([]time.Time{t0, t1}).Draw(t, "at")
	fault := rapid.IntRange(-len(keys), len(keys)-1).Draw(t, "faultyCounter") // < 0: none
	var bumps []store.Bump
	for i, k := range keys {
		n := rapid.IntRange(0, 4).Draw(t, "k")
		if k.Customer == "" {
			n = rapid.IntRange(0, 300).Draw(t, "seriesWideK")
		}
		g := limits.Guard{Counter: k.Counter}
		switch slack := rapid.IntRange(-2, 3).Draw(t, "slack"); {
		case slack < 0 && i == fault:
			g.Limit = limits.Limit(preN[i] + n - 1)
		case slack < 0:
			g.Limit = limits.NoLimit
		default:
			g.Limit = limits.Limit(preN[i] + n + slack)
		}
		if n <= 1 && (i != fault || preN[i] == 0) && rapid.IntRange(0, 3).Draw(t, "gapped") == 0 {
			g.MinGap = time.Hour // passes unless a fault: at t0, a counter bumped at t0
		} else if i == fault && rapid.Bool().Draw(t, "gapFault") {
			g.MinGap = 2 * time.Hour
		}
		if n > 0 {
			bumps = append(bumps, store.Bump{Key: k, Delta: int64(n), Guard: g, At: at})
		}
	}
	c.Bumps = rapid.Permutation(bumps).Draw(t, "order")
	if len(c.Bumps) > 0 {
		b := &c.Bumps[rapid.IntRange(0, len(c.Bumps)-1).Draw(t, "odd")]
		switch rapid.IntRange(0, 11).Draw(t, "oddKind") {
		case 0:
			b.Delta = -1
		case 1:
			b.Delta = 0
		case 2:
			b.Guard.Limit = limits.NoLimit
		case 3:
			b.At = t0.Add(3 * time.Hour)
		}
	}

	cm, cs := cloneChange(c), cloneChange(c)
	errM, errS := multi.apply(ctx, cm, true), single.apply(ctx, cs, false)
	if d := cmp.Diff(errSummary(errS), errSummary(errM)); d != "" {
		t.Fatalf("errors differ (-one by one +multi-row):\n%s\nmulti-row: %v\none by one: %v", d, errM, errS)
	}
	if errM == nil {
		for i := range cm.Bumps {
			if a, b := cm.Bumps[i].After, cs.Bumps[i].After; a.N != b.N || !a.Last.Equal(b.Last) {
				t.Fatalf("bump %d After: multi-row %+v, one by one %+v", i, a, b)
			}
		}
	}

	// The same state.
	for _, sidOf := range []string{sid, missing} {
		q := store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sidOf}}
		gm, err1 := multi.ListCoupons(ctx, q)
		gs, err2 := single.ListCoupons(ctx, q)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(gs, gm); d != "" {
			t.Fatalf("coupons differ (-one by one +multi-row):\n%s", d)
		}
		em, err1 := multi.Events(ctx, store.EventQuery{SeriesID: sidOf})
		es, err2 := single.Events(ctx, store.EventQuery{SeriesID: sidOf})
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(es, em); d != "" {
			t.Fatalf("events differ (-one by one +multi-row):\n%s", d)
		}
	}
	rm, err1 := multi.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: sid})
	rs, err2 := single.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: sid})
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if len(rm) != len(rs) {
		t.Fatalf("%d redemptions with multi-row statements, %d one by one", len(rm), len(rs))
	}
	km, ks := make([]store.Count, len(keys)), make([]store.Count, len(keys))
	if err := errors.Join(multi.Counters(ctx, keys, km), single.Counters(ctx, keys, ks)); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if km[i].N != ks[i].N || !km[i].Last.Equal(ks[i].Last) {
			t.Fatalf("counter %+v: multi-row %+v, one by one %+v", keys[i], km[i], ks[i])
		}
	}
}

func issuedCoupon(id, sid, code, holder string, at time.Time) coupon.Coupon {
	return coupon.Coupon{ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Issued, Holder: holder,
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), LastStatusChange: at, Version: 2}
}

// cloneChange copies the slices of c that Apply writes to (the Afters).
func cloneChange(c *store.Change) *store.Change {
	d := *c
	d.Bumps = append([]store.Bump(nil), c.Bumps...)
	return &d
}

// errSummary is what a caller can tell of an Apply error.
func errSummary(err error) string {
	var ge *store.GuardError
	var ce *store.ConflictError
	var ee *store.ExistsError
	var ec *errcode.Error
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &ge):
		return fmt.Sprintf("guard %+v %+v seen %d at %v", ge.Key, ge.Guard, ge.Count.N, ge.Count.Last.UnixNano())
	case errors.As(err, &ce):
		return fmt.Sprintf("conflict %+v", *ce)
	case errors.As(err, &ee):
		return fmt.Sprintf("exists %+v", *ee)
	case errors.As(err, &ec):
		return fmt.Sprintf("errcode %d %s", ec.Code, ec.Field)
	}
	return "other " + err.Error()
}

// openInternal opens a migrated store of dialect d for an internal test:
// an SQLite file in a temporary directory, or a PostgreSQL schema of its
// own (skipping the test when COUPONKIT_TEST_POSTGRES is unset).
func openInternal(t *testing.T, d Dialect) *Store {
	t.Helper()
	ctx := context.Background()
	var db *sql.DB
	if d == SQLite {
		var err error
		if db, err = OpenSQLite(filepath.Join(t.TempDir(), "ck.db")); err != nil {
			t.Fatal(err)
		}
	} else {
		dsn := os.Getenv("COUPONKIT_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("PostgreSQL tests skipped: set COUPONKIT_TEST_POSTGRES to a PostgreSQL DSN to run them")
		}
		schema := newTestSchema(t, dsn)
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = schema
		db = stdlib.OpenDB(*cfg)
		db.SetMaxIdleConns(4)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, d)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
