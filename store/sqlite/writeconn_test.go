package sqlite_test

import (
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlite"
)

// TestWritesHoldOneConnection: a store writes through one connection of
// its pool, which it holds between writes (so that its page cache stays
// valid) and gives back when it is closed; the pool's other connections
// serve reads meanwhile.
func TestWritesHoldOneConnection(t *testing.T) {
	db, err := sqlite.OpenDB(ctx, migratedFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlite.New(db)
	for i := range 5 {
		createSeries(t, s, "s"+strconv.Itoa(i))
		if got, err := s.ListSeries(ctx, store.SeriesQuery{}); err != nil || len(got) != i+1 {
			t.Fatalf("after %d writes: %d series, %v", i+1, len(got), err)
		}
		if n := db.Stats().InUse; n != 1 {
			t.Fatalf("after %d writes: %d connections in use, want the one the store writes through", i+1, n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := db.Stats().InUse; n != 0 {
		t.Fatalf("a closed store holds %d connections, want 0", n)
	}
	var series int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ck_series").Scan(&series); err != nil || series != 5 {
		t.Fatalf("the database after Close: %d series, %v", series, err)
	}
}

// TestWritesOnASmallPool: over a pool of one or two connections the
// store holds none: with one its reads would wait for it forever, with
// two for a caller's transaction on the other. Writes and reads take
// turns on the pool.
func TestWritesOnASmallPool(t *testing.T) {
	for _, size := range []int{1, 2} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			db, err := sqlite.OpenDB(ctx, migratedFile(t))
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(size)
			s := sqlite.New(db)
			if !returnsWithin(20*time.Second, func() { writeAndRead(t, s, db) }) {
				t.Fatal("writes and reads still waiting after 20s: the store holds a connection of the pool")
			}
			s.Close()
			db.Close()
		})
	}
}

// TestWritesGiveBackWhenThePoolShrinks: a store holding a connection
// gives it back at its next write once the pool is made smaller than
// three, so that its reads do not wait for it.
func TestWritesGiveBackWhenThePoolShrinks(t *testing.T) {
	db, err := sqlite.OpenDB(ctx, migratedFile(t))
	if err != nil {
		t.Fatal(err)
	}
	s := sqlite.New(db)
	createSeries(t, s, "s0")
	if n := db.Stats().InUse; n != 1 {
		t.Fatalf("%d connections in use after a write, want the one the store writes through", n)
	}
	db.SetMaxOpenConns(1)
	if !returnsWithin(20*time.Second, func() { writeAndRead(t, s, db) }) {
		t.Fatal("writes and reads still waiting after 20s: the store kept its connection of a pool of one")
	}
	s.Close()
	db.Close()
}

// returnsWithin runs f on a goroutine of its own and reports whether it
// returned within d. A caller told false must not close what f waits on:
// closing would wait too.
func returnsWithin(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// writeAndRead creates a series in s and bumps its use counter three
// times, reading it after each, and fails t if a connection of db is in
// use after a write. It does not stop the test: it may run on a goroutine
// of its own.
func writeAndRead(t *testing.T, s *sqlite.Store, db *sql.DB) {
	if err := s.Apply(ctx, seriesChange("s1")); err != nil {
		t.Errorf("creating the series: %v", err)
		return
	}
	k := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	for i := range 3 {
		if err := s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}}); err != nil {
			t.Errorf("write %d: %v", i+1, err)
			return
		}
		got := make([]store.Count, 1)
		if err := s.Counters(ctx, []store.CounterKey{k}, got); err != nil || got[0].N != int64(i+1) {
			t.Errorf("read after write %d: %+v, %v", i+1, got[0], err)
			return
		}
		if n := db.Stats().InUse; n != 0 {
			t.Errorf("after write %d: %d connections in use", i+1, n)
			return
		}
	}
}
