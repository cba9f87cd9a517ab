package sqltest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// grantOf is the change that grants l under the op key: the lease, its op
// and the series' use counter bumped by the grant, up to limit.
func grantOf(l lease.Lease, key string, limit limits.Limit) *store.Change {
	return &store.Change{
		Leases:   []store.LeaseWrite{{Lease: l}},
		LeaseOps: []lease.Op{{Till: l.Till, Key: key, Kind: lease.Grant, LeaseID: l.ID, SeriesID: l.SeriesID, Slice: l.Granted, End: l.End, At: t0, Lease: l}},
		Bumps: []store.Bump{{Key: store.CounterKey{Counter: limits.SeriesUses, Series: l.SeriesID}, Delta: l.Granted.Uses,
			Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}, At: t0}},
	}
}

// newLease is an open lease of uses on series s1 for till, from t0 for an
// hour.
func newLease(t *testing.T, id, till string, uses int64) lease.Lease {
	t.Helper()
	l, err := lease.New(lease.Params{ID: id, Till: till, SeriesID: "s1", Slice: lease.Slice{Uses: uses}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// leases returns s as a store.LeaseStore.
func leases(t *testing.T, s Store) store.LeaseStore {
	t.Helper()
	ls, ok := s.(store.LeaseStore)
	if !ok {
		t.Fatalf("%T keeps no leases", s)
	}
	return ls
}

// testMigrateLeasesFromVersion6 upgrades a database at schema version 6
// holding a series and its use counter: both read back as they were, and
// the upgraded store grants a lease with its counter bump, refuses its op
// key a second time and keeps the limit across the two.
func testMigrateLeasesFromVersion6(t *testing.T, be Backend) {
	db := be.OpenDB(t)
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil || len(ms) < 7 || ms[5].Version != 6 {
		t.Fatalf("migrations: %v", err)
	}
	setup := []string{sqlcore.MigrationsTable}
	for _, m := range ms[:6] {
		setup = append(setup, m.Stmts...)
		setup = append(setup, "INSERT INTO ck_migrations (version, name, applied_at) VALUES ("+strconv.Itoa(m.Version)+", '"+m.Name+"', 0)")
	}
	setup = append(setup, `INSERT INTO ck_series (id, status, version, doc) VALUES ('s1', 1, 1, '{"ID":"s1"}')`,
		"INSERT INTO ck_counters (counter, series_id, code, holder, customer, n, last) VALUES ("+
			strconv.Itoa(int(limits.SeriesUses))+", 's1', '', '', '', 2, NULL)")
	for _, st := range setup {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("setting up version 6: %s: %v", st, err)
		}
	}
	s := be.New(db)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 6: %v", err)
	}
	WantMigrated(t, db, be.Migrations)
	if _, err := s.Series(ctx, "s1"); err != nil {
		t.Fatalf("the series of version 6 after the upgrade: %v", err)
	}
	ls := leases(t, s)
	l := newLease(t, "l1", "till-1", 3)
	c := grantOf(l, "k1", 5)
	if err := s.Apply(ctx, c); err != nil || c.Bumps[0].After.N != 5 {
		t.Fatalf("a grant after the upgrade: %v, counter after %+v; want 5", err, c.Bumps[0].After)
	}
	if got, err := ls.Lease(ctx, "l1"); err != nil || got.Version != 1 || got.Granted != l.Granted || !got.End.Equal(l.End) {
		t.Errorf("the lease granted after the upgrade: %+v, %v; want %+v", got, err, l)
	}
	again := grantOf(newLease(t, "l2", "till-1", 1), "k1", limits.NoLimit)
	var ex *store.ExistsError
	if err := s.Apply(ctx, again); !errors.As(err, &ex) || ex.Kind != "lease op" {
		t.Errorf("an op key used again after the upgrade: %v, want an ExistsError of kind lease op", err)
	}
	past := grantOf(newLease(t, "l3", "till-2", 1), "k2", 5)
	if err := s.Apply(ctx, past); errcode.CodeOf(err) != errcode.GuardFailed {
		t.Errorf("a grant past the limit counted before the upgrade: %v, want GuardFailed", err)
	}
}

// testLeasesWithTx checks that the lease parts of a change made in a
// caller's transaction are its: rolled back with it, committed with it.
func testLeasesWithTx(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	ls := leases(t, s)
	for _, commit := range []bool{false, true} {
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts := s.WithTx(tx)
		l := newLease(t, "l1", "till-1", 2)
		if err := ts.Apply(ctx, grantOf(l, "k1", limits.NoLimit)); err != nil {
			tx.Rollback()
			t.Fatalf("a grant in a transaction: %v", err)
		}
		if tls, ok := ts.(store.LeaseStore); !ok {
			t.Errorf("a store bound to a transaction keeps no leases: %T", ts)
		} else if _, err := tls.Lease(ctx, "l1"); err != nil {
			t.Errorf("the transaction does not read its own lease: %v", err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = ls.LeaseOp(ctx, "till-1", "k1")
		if commit != (err == nil) || (!commit && !errors.Is(err, errcode.ErrNotFound)) {
			t.Errorf("the op after the transaction (committed %v): %v", commit, err)
		}
		_, err = ls.Lease(ctx, "l1")
		if commit != (err == nil) {
			t.Errorf("the lease after the transaction (committed %v): %v", commit, err)
		}
	}
}
