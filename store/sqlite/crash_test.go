package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/sqlite"
)

// crashEnv names the database file a crash child writes to.
const crashEnv = "COUPONKIT_CRASH_CHILD_DB"

const (
	crashBatches   = 40
	crashBatchSize = 1000
)

// crashBatch is the i-th batch of the bulk job: the same coupons and
// events every run, so that a resumed job sends what the crashed one sent.
func crashBatch(i int) ([]coupon.Coupon, []coupon.Event) {
	cs := make([]coupon.Coupon, crashBatchSize)
	evs := make([]coupon.Event, crashBatchSize)
	for k := range cs {
		n := i*crashBatchSize + k
		id := fmt.Sprintf("c%08d", n)
		code := fmt.Sprintf("K%08X", uint32(n)*2654435761) // scattered over the code index
		cs[k] = sqltest.Available(id, "bulk", code)
		evs[k] = coupon.Event{ID: "e" + id, Kind: coupon.EventCreated, CouponID: id, SeriesID: "bulk", Code: code, At: t0}
	}
	return cs, evs
}

// TestCrashChild is the child process of TestCrashBulkInsert: it runs the
// bulk job and reports each batch on stdout, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashBulkInsert")
	}
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range crashBatches {
		cs, evs := crashBatch(i)
		if _, err := s.InsertCoupons(context.Background(), cs, evs); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("batch %d\n", i)
	}
	fmt.Println("finished")
}

// TestCrashBulkInsert kills (SIGKILL) a child process in the middle of a
// bulk insert into an SQLite file, then checks that the file is intact and
// holds whole batches only, and that resuming the job completes it with no
// duplicate.
func TestCrashBulkInsert(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	s := openAt(t, path)
	createSeries(t, s, "bulk")

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killAfter := 3 + rand.IntN(10)
	sc := bufio.NewScanner(out)
	seen := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "batch ") {
			seen++
		}
		if seen == killAfter {
			// Let the next batch get under way, then kill it mid-write.
			time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			break
		}
		if sc.Text() == "finished" {
			t.Fatal("the child finished before it was killed")
		}
	}
	_ = cmd.Wait()
	t.Logf("child killed after %d batches reported", seen)

	// Reopen: integrity, whole batches, every coupon with its event.
	db := s.DB()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("foreign_key_check reports violations")
	}
	rows.Close()
	coupons, events := countRows(t, s, "ck_coupons"), countRows(t, s, "ck_events")
	if coupons%crashBatchSize != 0 || coupons < seen*crashBatchSize || coupons != events {
		t.Fatalf("after the crash: %d coupons, %d events; want the same number, whole batches, at least %d",
			coupons, events, seen*crashBatchSize)
	}
	var orphans int
	if err := db.QueryRow("SELECT count(*) FROM ck_coupons c WHERE NOT EXISTS (SELECT 1 FROM ck_events e WHERE e.coupon_id = c.id)").Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d coupons without their event, %v", orphans, err)
	}

	// Resume: run the whole job again.
	inserted := 0
	for i := range crashBatches {
		cs, evs := crashBatch(i)
		n, err := s.InsertCoupons(ctx, cs, evs)
		if err != nil {
			t.Fatal(err)
		}
		inserted += n
	}
	total := crashBatches * crashBatchSize
	if inserted != total-coupons {
		t.Errorf("the resumed job inserted %d, want %d", inserted, total-coupons)
	}
	var distinct int
	if err := db.QueryRow("SELECT count(DISTINCT canonical) FROM ck_coupons").Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if c, e := countRows(t, s, "ck_coupons"), countRows(t, s, "ck_events"); c != total || e != total || distinct != total {
		t.Errorf("after resuming: %d coupons (%d codes), %d events; want %d each", c, distinct, e, total)
	}
}

func countRows(t *testing.T, s *sqlite.Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
