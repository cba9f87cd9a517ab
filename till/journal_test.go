package till_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/till"

	_ "modernc.org/sqlite"
)

var t0 = time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)

const skew = 2 * time.Minute

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openJournal(t *testing.T, db *sql.DB) *till.Journal {
	t.Helper()
	j, err := till.Open(context.Background(), db, skew)
	if err != nil {
		t.Fatal(err)
	}
	putSeries(t, j, permissive())
	return j
}

// permissive is series s1 with no rule an offline use could break, so that
// the journal's tests of leases see only the lease.
func permissive() series.Series {
	return series.Series{ID: "s1", Name: "s1", TimeZone: "UTC",
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"}}
}

func putSeries(t *testing.T, j *till.Journal, s series.Series) {
	t.Helper()
	if err := j.PutSeries(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// grant gives the journal a lease of uses uses of s1, all of which may be
// unverified (the codes of these tests are unknown to the till).
func grant(t *testing.T, j *till.Journal, id string, uses int64) lease.Lease {
	t.Helper()
	l, err := lease.New(lease.Params{ID: id, Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: uses}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l.Allowance = uses
	if err := j.PutLease(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l
}

func use(key string, at time.Time) till.Use {
	return till.Use{Key: key, SeriesID: "s1", Code: "ABC", Customer: "alice", Bill: "50.00", Currency: "EUR", At: at}
}

func TestRedeemStaysWithinTheLease(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	grant(t, j, "l1", 3)
	for i, k := range []string{"a", "b", "c"} {
		e, err := j.Redeem(ctx, use(k, t0.Add(time.Duration(i)*time.Minute)), nil)
		if err != nil || e.LeaseID != "l1" {
			t.Fatalf("use %s: %v, %+v", k, err, e)
		}
	}
	if _, err := j.Redeem(ctx, use("d", t0), nil); !errors.Is(err, errcode.ErrNoLease) {
		t.Fatalf("a fourth use of a lease of 3: err = %v, want LimitReached", err)
	}
	if n, err := j.Left(ctx, "l1"); err != nil || n != 0 {
		t.Fatalf("left %d, %v; want 0", n, err)
	}
	p, err := j.Pending(ctx, 0, 0)
	if err != nil || len(p) != 3 || p[0].Key != "a" || p[2].Key != "c" || p[0].Seq >= p[1].Seq {
		t.Fatalf("pending: %v, %+v", err, p)
	}
}

func TestRedeemRepeatAndMismatch(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	grant(t, j, "l1", 5)
	first, err := j.Redeem(ctx, use("k", t0), nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	again, err := j.Redeem(ctx, use("k", t0), func(*sql.Tx) error { ran = true; return nil })
	if err != nil || again.Seq != first.Seq || ran {
		t.Fatalf("a repeat: %v, %+v, hook ran %v", err, again, ran)
	}
	other := use("k", t0)
	other.Bill = "60.00"
	if _, err := j.Redeem(ctx, other, nil); !errors.Is(err, errcode.ErrKeyMismatch) {
		t.Fatalf("the same key for another bill: err = %v", err)
	}
	if n, _ := j.Left(ctx, "l1"); n != 4 {
		t.Fatalf("a repeat took a use: left %d, want 4", n)
	}
}

func TestHookSharesTheTransaction(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "till.db"))
	j := openJournal(t, db)
	grant(t, j, "l1", 5)
	if _, err := db.Exec(`CREATE TABLE sale (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("printer on fire")
	_, err := j.Redeem(ctx, use("k1", t0), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO sale (id) VALUES ('k1')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing hook: err = %v", err)
	}
	var sales int
	if err := db.QueryRow(`SELECT count(*) FROM sale`).Scan(&sales); err != nil || sales != 0 {
		t.Fatalf("a failed hook's sale row stayed: %d, %v", sales, err)
	}
	if p, _ := j.Pending(ctx, 0, 0); len(p) != 0 {
		t.Fatalf("a failed hook's entry stayed: %+v", p)
	}
	if n, _ := j.Left(ctx, "l1"); n != 5 {
		t.Fatalf("a failed hook took a use: left %d", n)
	}
	_, err = j.Redeem(ctx, use("k2", t0), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO sale (id) VALUES ('k2')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sale`).Scan(&sales); err != nil || sales != 1 {
		t.Fatalf("the sale row committed with the use: %d, %v", sales, err)
	}
}

func TestLeaseStopsSkewBeforeEnd(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	l := grant(t, j, "l1", 5)
	if _, err := j.Redeem(ctx, use("late", l.End.Add(-skew)), nil); !errors.Is(err, errcode.ErrNoLease) {
		t.Fatalf("a use at End - skew: err = %v, want LimitReached", err)
	}
	if _, err := j.Redeem(ctx, use("ok", l.End.Add(-skew-time.Second)), nil); err != nil {
		t.Fatalf("a use just before End - skew: %v", err)
	}
}

func TestJournalSurvivesReopenAndSyncs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "till.db")
	db := openDB(t, path)
	j := openJournal(t, db)
	grant(t, j, "l1", 5)
	for _, k := range []string{"a", "b"} {
		if _, err := j.Redeem(ctx, use(k, t0), nil); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	j = openJournal(t, openDB(t, path))
	if err := j.MarkSynced(ctx, []string{"a", "nope"}); err != nil {
		t.Fatal(err)
	}
	p, err := j.Pending(ctx, 0, 0)
	if err != nil || len(p) != 1 || p[0].Key != "b" {
		t.Fatalf("pending after reopening and syncing a: %v, %+v", err, p)
	}
	if n, _ := j.Left(ctx, "l1"); n != 3 {
		t.Fatalf("left after reopening %d, want 3", n)
	}
}

// TestConcurrentUsesTakeExactlyTheLease races uses on one lease: exactly
// its uses pass, each recorded once.
func TestConcurrentUsesTakeExactlyTheLease(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	grant(t, j, "l1", 10)
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 {
				_, err := j.Redeem(ctx, use(fmt.Sprintf("g%d-%d", g, i), t0), nil)
				switch {
				case err == nil:
					mu.Lock()
					passed++
					mu.Unlock()
				case !errors.Is(err, errcode.ErrNoLease):
					t.Errorf("use: %v", err)
				}
			}
		})
	}
	wg.Wait()
	p, err := j.Pending(ctx, 0, 100)
	if err != nil || passed != 10 || len(p) != 10 {
		t.Fatalf("%d uses passed and %d entries written of a lease of 10 (%v)", passed, len(p), err)
	}
}
