package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver of database/sql

	"github.com/couponkit/couponkit/store/sqlite"
)

// The load of the shutdown test: clients redeeming at once, and coupons
// each redeems at most.
const (
	loadClients = 16
	loadPer     = 150
)

// buildDaemon builds couponkitd into a temporary directory.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "couponkitd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestShutdownSQLite: SIGTERM under load loses no answered redemption and
// half-writes none, on SQLite.
func TestShutdownSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ck.db")
	shutdownUnderLoad(t, db, func(t *testing.T) *sql.DB {
		st, err := sqlite.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.DB()
	})
}

// TestShutdownPostgres is TestShutdownSQLite on a fresh schema of the
// PostgreSQL database COUPONKIT_TEST_POSTGRES names.
func TestShutdownPostgres(t *testing.T) {
	dsn := os.Getenv("COUPONKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("skipped: set COUPONKIT_TEST_POSTGRES to a PostgreSQL DSN to run the shutdown test on PostgreSQL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ck_daemon_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating schema: %v (is PostgreSQL running?)", err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "search_path=" + schema
	shutdownUnderLoad(t, dsn, func(t *testing.T) *sql.DB {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(2)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// shutdownUnderLoad runs the daemon as a process on the store dsn, has
// loadClients clients redeem distinct coupons over HTTP, sends SIGTERM
// once a quarter of them are redeemed, and then checks through open: the
// process exited 0, every redemption answered 2xx is stored and no other,
// and each stored redemption has its coupon updated.
func shutdownUnderLoad(t *testing.T, dsn string, open func(*testing.T) *sql.DB) {
	bin := buildDaemon(t)
	cmd := exec.Command(bin, "serve", "-db", dsn, "-addr", "127.0.0.1:0", "-shutdown-timeout", "30s")
	cmd.Env = append(os.Environ(), envKeys+"="+testKeys, envCodeKeyFile+"="+codeKeyFile(t))
	log, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	base := waitServing(t, log)
	n := loadClients * loadPer
	s, codes := issueCoupons(t, base, n)

	var (
		answered     sync.Map // code -> true, for each 2xx
		okCount      atomic.Int64
		failures     atomic.Int64 // answers neither 2xx nor ... anything but 2xx
		signalled    = make(chan struct{})
		signalOnce   sync.Once
		wg           sync.WaitGroup
		afterSignal  atomic.Int64 // 2xx answered after SIGTERM was sent
		signalSent   atomic.Bool
		sigThreshold = int64(n / 4)
	)
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for i := c; i < n; i += loadClients {
				st, err := redeem(hc, base, s.ID, codes[i], i)
				switch {
				case st/100 == 2:
					answered.Store(codes[i], true)
					if signalSent.Load() {
						afterSignal.Add(1)
					}
					if okCount.Add(1) == sigThreshold {
						signalOnce.Do(func() {
							signalSent.Store(true)
							if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
								t.Error(err)
							}
							close(signalled)
						})
					}
				case st != 0:
					failures.Add(1)
					t.Errorf("redeem %d: %v", i, err)
				default:
					// No answer: the server has stopped accepting.
					return
				}
			}
		}()
	}
	go func() { exited <- cmd.Wait() }()
	wg.Wait()
	select {
	case <-signalled:
	default:
		t.Fatalf("the load ended (%d redeemed) before SIGTERM was sent", okCount.Load())
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("couponkitd after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("couponkitd still running a minute after SIGTERM")
	}
	ok := okCount.Load()
	t.Logf("%d redemptions answered 2xx, %d of them after SIGTERM; %d of %d coupons left", ok, afterSignal.Load(), int64(n)-ok, n)
	if ok == int64(n) {
		t.Fatal("every coupon was redeemed: SIGTERM did not stop the load")
	}

	db := open(t)
	rows, err := db.Query(`SELECT c.code FROM ck_redemptions r JOIN ck_coupons c ON c.id = r.coupon_id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		if stored[code] {
			t.Errorf("coupon %s redeemed twice", code)
		}
		stored[code] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	answered.Range(func(k, _ any) bool {
		if !stored[k.(string)] {
			t.Errorf("redemption of %s answered 2xx but not stored", k)
		}
		return true
	})
	for code := range stored {
		if _, ok := answered.Load(code); !ok {
			t.Errorf("redemption of %s stored but its client got no 2xx", code)
		}
	}
	var redeemedCoupons, uses int64
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(redemptions), 0) FROM ck_coupons WHERE redemptions > 0`).Scan(&redeemedCoupons, &uses); err != nil {
		t.Fatal(err)
	}
	if int64(len(stored)) != ok || redeemedCoupons != ok || uses != ok {
		t.Errorf("answered 2xx %d, stored redemptions %d, coupons with a use %d, uses counted on coupons %d: want all equal",
			ok, len(stored), redeemedCoupons, uses)
	}
	if f := failures.Load(); f > 0 {
		t.Errorf("%d redemptions answered with an error", f)
	}
}
