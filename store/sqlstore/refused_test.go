package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
)

// TestRefusedTransactionIsReported: the store runs nothing again. While
// another connection holds the SQLite file's write lock, Apply fails once
// its busy timeout has passed with a *store.ConflictError of Kind
// "transaction", having waited one timeout (not one per attempt) and
// written nothing; an engine over the store retries, and its operation
// succeeds once the lock is released.
func TestRefusedTransactionIsReported(t *testing.T) {
	const busy = 100 * time.Millisecond
	path := filepath.Join(t.TempDir(), "ck.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=busy_timeout(100)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	s := sqlstore.New(open(), sqlstore.SQLite)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	createSeries(t, s, "s1")
	lock, err := open().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	hold := func() {
		t.Helper()
		if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
	}
	release := func() {
		if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
	}

	k := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	hold()
	start := time.Now()
	err = s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}})
	took := time.Since(start)
	release()
	ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict)
	if ce.Kind != "transaction" {
		t.Errorf("a busy database: %+v, want a ConflictError of kind transaction", ce)
	}
	if took < busy || took > 5*busy {
		t.Errorf("Apply gave up after %v; the busy timeout is %v and the store makes one attempt", took, busy)
	}
	if got := counts(t, s, []store.CounterKey{k}); got[0] != 0 {
		t.Errorf("a refused transaction bumped the counter to %d", got[0])
	}

	e, err := couponkit.New(couponkit.Config{Store: s, MaxAttempts: 16})
	if err != nil {
		t.Fatal(err)
	}
	hold()
	time.AfterFunc(3*busy, release)
	res, err := e.AddAudience(ctx, couponkit.AudienceRequest{SeriesID: "s1", Customers: []couponkit.CustomerRef{couponkit.ByID("alice")}})
	if err != nil || res.Changed != 1 {
		t.Fatalf("the engine does not retry a refused transaction: %+v, %v", res, err)
	}
	if in, err := s.InAudience(ctx, "s1", "alice"); err != nil || !in {
		t.Errorf("the retried change is not stored: %v, %v", in, err)
	}
}
