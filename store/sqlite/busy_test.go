package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/sqlite"
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
	openBusy := func() *sql.DB {
		db, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=busy_timeout(100)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	s := sqlite.New(openBusy())
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	createSeries(t, s, "s1")
	lock, err := openBusy().Conn(ctx)
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
	got := make([]store.Count, 1)
	if err := s.Counters(ctx, []store.CounterKey{k}, got); err != nil || got[0] != (store.Count{}) {
		t.Errorf("a refused transaction bumped the counter to %+v (%v)", got[0], err)
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

// TestGroupCanceled cancels an Apply while it waits for its group: it
// fails with the context's error and changes nothing, and the changes
// around it go through.
func TestGroupCanceled(t *testing.T) {
	s := open(t)
	createSeries(t, s, "s1")
	// Hold the write lock so that the next group waits for it.
	hold, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert := func(c context.Context, id string) chan error {
		done := make(chan error, 1)
		go func() {
			done <- s.Apply(c, &store.Change{NewCoupons: []coupon.Coupon{sqltest.Available(id, "s1", id)}})
		}()
		return done
	}
	first := insert(ctx, "first")
	time.Sleep(50 * time.Millisecond) // the first leads and waits for the connection
	cctx, cancel := context.WithCancel(ctx)
	canceled := insert(cctx, "canceled")
	time.Sleep(50 * time.Millisecond) // queued behind the first
	cancel()
	last := insert(ctx, "last")
	time.Sleep(20 * time.Millisecond)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Errorf("first: %v", err)
	}
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
	if err := <-last; err != nil {
		t.Errorf("last: %v", err)
	}
	for id, want := range map[string]bool{"first": true, "canceled": false, "last": true} {
		if _, err := s.Coupon(ctx, id); (err == nil) != want {
			t.Errorf("coupon %s stored: %v, want %v", id, err == nil, want)
		}
	}
}
