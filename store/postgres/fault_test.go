package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
)

// openPostgresApp is openPostgres with the pool's connections tagged with
// an application_name of their own, so that the test can find and kill
// them.
func openPostgresApp(t *testing.T) (*postgres.Store, *sql.DB, string) {
	t.Helper()
	app := fmt.Sprintf("ck_app_%016x", rand.Uint64()) // its own: the test kills its connections
	db := openDB(t, 0, "application_name", app)
	db.SetMaxOpenConns(0)
	db.SetMaxIdleConns(20)
	s := postgres.New(db)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return s, admin, app
}

// checkConsistent checks, for every coupon of series sid, that its stored
// redemption count, its redemptions, its Redeemed events and the use
// counters agree, and that no idempotency key was used twice.
func checkConsistent(t *testing.T, s store.Store, sid string) int {
	t.Helper()
	cs, err := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sid}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range cs {
		rs, err := s.ListRedemptions(ctx, store.RedemptionQuery{CouponID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := s.Events(ctx, store.EventQuery{CouponID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		redeemed := 0
		for _, e := range evs {
			if e.Kind == coupon.EventRedeemed {
				redeemed++
			}
		}
		keys := map[string]bool{}
		for _, r := range rs {
			if keys[r.IdempotencyKey] {
				t.Errorf("coupon %s: key %s used twice", c.ID, r.IdempotencyKey)
			}
			keys[r.IdempotencyKey] = true
		}
		n := sqltest.Counts(t, s, sqltest.UseKeys(sid, c.Canonical, c.Holder)[:2])
		if len(rs) != c.Redemptions || redeemed != c.Redemptions || n[0] != int64(c.Redemptions) || n[1] != int64(c.Redemptions) {
			t.Errorf("coupon %s: %d redemptions counted, %d stored, %d events, counters %v: a partial change",
				c.ID, c.Redemptions, len(rs), redeemed, n)
		}
		total += c.Redemptions
	}
	if n := sqltest.Counts(t, s, []store.CounterKey{{Counter: limits.SeriesUses, Series: sid}}); n[0] != int64(total) {
		t.Errorf("series uses %d, want %d", n[0], total)
	}
	return total
}

// TestFaultKilledConnection kills (pg_terminate_backend) the connection of
// a redemption while its transaction waits on the series counter, after
// it has updated the coupon and inserted the redemption and its event:
// nothing of it stays, and the retry with the same idempotency key makes
// exactly one redemption.
func TestFaultKilledConnection(t *testing.T) {
	s, admin, _ := openPostgresApp(t)
	e := sqltest.NewEngine(t, s, t0)
	sr, err := e.CreateSeries(ctx, sqltest.RedeemSeries("", 0))
	if err != nil {
		t.Fatal(err)
	}
	sqltest.IssuedCoupons(t, s, sr.ID, 2, t0)
	if _, err := e.Redeem(ctx, sqltest.RedeemReq(1, "warm")); err != nil { // creates the series counter row
		t.Fatal(err)
	}

	// Hold the series counter's row lock from another session.
	locker, err := admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Rollback()
	var lockerPID int
	if err := locker.QueryRow("SELECT pg_backend_pid()").Scan(&lockerPID); err != nil {
		t.Fatal(err)
	}
	if _, err := locker.Exec(fmt.Sprintf("SELECT n FROM %s.ck_counters WHERE counter = $1 AND series_id = $2 FOR UPDATE",
		schemaOf(t, s)), int64(limits.SeriesUses), sr.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Redeem(ctx, sqltest.RedeemReq(0, "pos-42"))
		done <- err
	}()
	// Find the redemption's backend, blocked by the locker, and kill it.
	var victim int
	deadline := time.Now().Add(10 * time.Second)
	for victim == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the redemption never blocked on the series counter")
		}
		err := admin.QueryRow("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", lockerPID).Scan(&victim)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := admin.Exec("SELECT pg_terminate_backend($1)", victim); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("the redemption whose connection was killed succeeded")
	} else {
		t.Logf("redemption with a killed connection: %v", err)
	}
	if err := locker.Rollback(); err != nil {
		t.Fatal(err)
	}
	if checkConsistent(t, s, sr.ID) != 1 {
		t.Error("the killed redemption left something behind")
	}
	res, err := e.Redeem(ctx, sqltest.RedeemReq(0, "pos-42"))
	if err != nil || res.Replayed {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	again, err := e.Redeem(ctx, sqltest.RedeemReq(0, "pos-42"))
	if err != nil || !again.Replayed || again.Redemption.ID != res.Redemption.ID {
		t.Errorf("second retry: %+v, %v", again, err)
	}
	if checkConsistent(t, s, sr.ID) != 2 {
		t.Error("the retry did not make exactly one redemption")
	}
}

// TestFaultRandomKills redeems while another goroutine kills the pool's
// connections at random moments. Every change is whole or absent, and
// retrying the failed requests with their keys makes exactly one
// redemption each.
func TestFaultRandomKills(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	s, admin, app := openPostgresApp(t)
	e := sqltest.NewEngine(t, s, t0)
	sr, err := e.CreateSeries(ctx, sqltest.RedeemSeries("", 0))
	if err != nil {
		t.Fatal(err)
	}
	const n, workers = 150, 8
	sqltest.IssuedCoupons(t, s, sr.ID, n, t0)
	stop := make(chan struct{})
	var kills atomic.Int64
	var killer sync.WaitGroup
	killer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(2+rand.IntN(20)) * time.Millisecond):
			}
			var k int64
			_ = admin.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity "+
				"WHERE application_name = $1 AND state <> 'idle' ORDER BY random() LIMIT 1) x", app).Scan(&k)
			kills.Add(k)
		}
	})
	var failed sync.Map
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if _, err := e.Redeem(ctx, sqltest.RedeemReq(i, fmt.Sprintf("pos-%d", i))); err != nil {
					failed.Store(i, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	killer.Wait()
	// The last kills may have hit connections that had just gone back to
	// the pool, which would fail whatever takes them next: drop the idle
	// ones, so that what follows checks the data, not the pool.
	s.DB().SetMaxIdleConns(0)
	s.DB().SetMaxIdleConns(20) // as openPostgresApp has it
	nFailed := 0
	failed.Range(func(_, _ any) bool { nFailed++; return true })
	t.Logf("%d connections killed, %d of %d redemptions failed", kills.Load(), nFailed, n)
	checkConsistent(t, s, sr.ID)
	// Retry every request, failed or not, with its key: one redemption each.
	for i := range n {
		if _, err := e.Redeem(ctx, sqltest.RedeemReq(i, fmt.Sprintf("pos-%d", i))); err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
	}
	if total := checkConsistent(t, s, sr.ID); total != n {
		t.Errorf("%d redemptions after the retries, want %d", total, n)
	}
}

// schemaOf returns the schema the store's connections use.
func schemaOf(t *testing.T, s *postgres.Store) string {
	var schema string
	if err := s.DB().QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	return schema
}
