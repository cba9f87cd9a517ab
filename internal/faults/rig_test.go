package faults_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/internal/faults"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

const (
	// pgEnv names the environment variable with the test PostgreSQL DSN;
	// the PostgreSQL tests skip without it.
	pgEnv = "COUPONKIT_TEST_POSTGRES"
	// longEnv, when set, makes the fault tests run at their long sizes.
	longEnv = "COUPONKIT_FAULTS_LONG"
	// startEnv, when set, is the starting state of the fault proxies'
	// draws, to repeat a run (each test logs its own).
	startEnv = "COUPONKIT_FAULTS_START"
)

// dropRate is the share of commit replies the PostgreSQL fault tests lose.
const dropRate = 0.25

// skipShort skips a fault test under -short: each takes seconds.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a fault test: skipped under -short")
	}
}

// sized returns short, or long when longEnv is set.
func sized(short, long int) int {
	if os.Getenv(longEnv) != "" {
		return long
	}
	return short
}

var ctx = context.Background()

// codeKey is the series' code key in every test.
func codeKey(context.Context, string) ([]byte, error) { return []byte("a test key, not a secret"), nil }

func newEngine(t testing.TB, s store.Store) *couponkit.Engine {
	t.Helper()
	e, err := couponkit.New(couponkit.Config{Store: s, CodeKey: codeKey})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// generatedSeries is a series of generated codes with no issuance limit:
// a request issued twice issues two coupons, so only its key keeps it to
// one. Its coupons can be redeemed any number of times by their holders.
func generatedSeries(name string) series.Series {
	return series.Series{
		Name: name, TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 12, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{Repeat: true},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(1), Currency: "EUR"},
		Expiry:     series.Expiry{Kind: series.Never},
	}
}

// createSeries creates a series of generatedSeries with e and returns its id.
func createSeries(t testing.TB, e *couponkit.Engine, name string) string {
	t.Helper()
	s, err := e.CreateSeries(ctx, generatedSeries(name))
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// pgRig is a PostgreSQL store, in a schema of its own, seen through a
// fault proxy and directly.
type pgRig struct {
	proxy *faults.PGProxy
	// direct is a pool that does not go through the proxy: for setting up
	// and for the audits.
	direct  *sql.DB
	eDirect *couponkit.Engine
	// eProxy is an engine whose store's every connection goes through the
	// proxy.
	eProxy *couponkit.Engine
}

// newPGRig makes a rig whose proxy drops commit replies at rate. It skips
// the test when pgEnv is unset.
func newPGRig(t *testing.T, rate float64) *pgRig {
	t.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL DSN to run this test", pgEnv)
	}
	schema := newSchema(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	opts := faults.PGOptions{DropRate: rate}
	if s := os.Getenv(startEnv); s != "" {
		if opts.Start, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", startEnv, err)
		}
	}
	p, err := faults.NewPGProxy(net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	t.Logf("fault proxy draws start at %d (set %s to repeat it)", p.Start(), startEnv)
	pdsn, err := p.DSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	r := &pgRig{proxy: p, direct: openPool(t, dsn, schema, 8)}
	r.eDirect = newEngine(t, postgresStore(t, r.direct, true))
	r.eProxy = newEngine(t, postgresStore(t, openPool(t, pdsn, schema, 16), false))
	return r
}

// newSchema creates a schema for the test, dropped when it ends.
func newSchema(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ck_faults_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return schema
}

// openPool opens a pool of up to n connections, all kept, to schema.
func openPool(t *testing.T, dsn, schema string, n int) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	t.Cleanup(func() { db.Close() })
	return db
}

// report logs what the proxy and the callers did, and fails the test when
// the proxy dropped no commit reply (then it proved nothing) or, when the
// callers kept their keys, when no call was answered as a replay (a call
// sent again after its reply was lost must be).
func (r *pgRig) report(t *testing.T, what string, c *calls, keyed bool) {
	t.Helper()
	st := r.proxy.Stats()
	t.Logf("%s: %d commit replies, %d dropped (%d connections); %d failed calls sent again, %d calls answered as replays",
		what, st.Commits, st.Dropped, st.Conns, c.failed, c.replayed.Load())
	if st.Dropped == 0 {
		t.Error("the proxy dropped no commit reply: nothing was tested")
	}
	if keyed && st.Dropped > 0 && c.replayed.Load() == 0 {
		t.Error("no call sent again after a lost commit reply was answered as a replay")
	}
}

// maxTries bounds how often a caller sends one request.
const maxTries = 100

// untilDone calls op until it succeeds, as a careful caller does with a
// request whose outcome an error left unknown: it sends the same request
// again, with the same key, whatever the error. It returns how many calls
// failed, and the last error after maxTries failed calls.
func untilDone(op func(try int) error) (int, error) {
	for try := 0; ; try++ {
		err := op(try)
		if err == nil {
			return try, nil
		}
		if try+1 == maxTries {
			return try + 1, fmt.Errorf("still failing after %d tries: %w", maxTries, err)
		}
	}
}

// parallel calls f(i) for i from 0 to n-1 from workers goroutines, and
// returns the sum of what the calls return and their first error.
func parallel(n, workers int, f func(i int) (int, error)) (int64, error) {
	var next, sum atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				k, err := f(i)
				sum.Add(int64(k))
				if err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return sum.Load(), first
}
