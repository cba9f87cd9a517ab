package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/netcut"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
)

// pgEnv names the environment variable with the test PostgreSQL DSN;
// chaosEnv the one with the chaos phase's length in seconds.
const (
	pgEnv    = "COUPONKIT_TEST_POSTGRES"
	chaosEnv = "COUPONKIT_FLEET_CHAOS_SECONDS"
)

// TestFleetChaosPostgres runs the central on PostgreSQL and three tills
// as processes over loopback HTTP through a proxy, and for a while (20 s,
// 10 s under the race detector, or $COUPONKIT_FLEET_CHAOS_SECONDS) cuts the network at random, drops
// connections mid-request, and kills tills and the central with SIGKILL,
// restarting each on the same file or database. Then it heals, lets the
// tills sell out the offer, sync and return their leftovers, and checks:
// the series' use counter never passed its limit (sampled all along, and
// at the end), the limit was reached (a till was refused a single use),
// every sale a till acknowledged is recorded centrally exactly once, the
// counters equal the records and every lease adds up.
func TestFleetChaosPostgres(t *testing.T) {
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("the fleet's PostgreSQL test is skipped: set %s to a PostgreSQL DSN to run it", pgEnv)
	}
	chaos, rate := 20*time.Second, int64(90)
	if raceEnabled { // a third of the speed: keep the run near a minute
		chaos, rate = 10*time.Second, 40
	}
	if s := os.Getenv(chaosEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", chaosEnv, s, err)
		}
		chaos = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), chaos+240*time.Second)
	defer cancel()
	// Enough uses for the tills to sell through the chaos (about rate a
	// second between them), so that the limit binds near its end.
	uses := max(10*rate, rate*int64(chaos/time.Second))
	f := newFleet(t, ctx, withSearchPath(dsn, newSchema(t, dsn)), uses)
	defer f.close()
	f.startAll()
	f.chaos(chaos)
	f.heal()
	f.sampler.stop()
	if err := f.central.stop(); err != nil {
		t.Errorf("the central at the end: %v", err)
	}
	t.Logf("%d events: %s", len(f.events), strings.Join(f.events, ", "))
	max, over := f.sampler.result()
	if over {
		t.Errorf("the series' use counter was seen at %d, past its limit of %d", max, f.o.uses)
	}
	log := tailFile(t, f.logPath)
	if b, _ := os.ReadFile(f.logPath); !strings.Contains(string(b), "the offer is sold out") {
		t.Errorf("no till was refused a lease for lack of uses: the limit never bound (the counter peaked at %d of %d)", max, f.o.uses)
	}
	st, err := postgres.Open(ctx, f.spec[len("postgres:"):])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if a := checkFleet(t, st, f.o.dir); a.Reclaimed == 0 {
		t.Errorf("no lease was reclaimed: the test did not exercise reclaims")
	}
	if t.Failed() {
		t.Logf("the fleet's log ends with:\n%s", log)
	}
}

// fleet is the chaos test's processes.
type fleet struct {
	t       *testing.T
	ctx     context.Context
	o       demoOptions
	spec    string
	logPath string
	logf    *os.File
	proxy   *netcut.Proxy
	central *proc
	tills   []*proc
	done    []bool
	sampler *sampler
	rng     *mrand.Rand
	events  []string
}

func newFleet(t *testing.T, ctx context.Context, dsn string, uses int64) *fleet {
	f := &fleet{t: t, ctx: ctx, spec: "postgres:" + dsn,
		o:   demoOptions{dir: t.TempDir(), uses: uses, people: 3 * int(uses), sales: 1_000_000},
		rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	f.logPath = filepath.Join(f.o.dir, "fleet.log")
	var err error
	if f.logf, err = os.Create(f.logPath); err != nil {
		t.Fatal(err)
	}
	if f.proxy, err = netcut.Listen("127.0.0.1:0", "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	f.tills, f.done = make([]*proc, len(tills)), make([]bool, len(tills))
	return f
}

func (f *fleet) close() {
	for _, p := range append([]*proc{f.central}, f.tills...) {
		if p != nil && !p.exited() {
			p.kill()
		}
	}
	f.proxy.Close()
	f.logf.Close()
}

func (f *fleet) event(format string, args ...any) {
	f.events = append(f.events, fmt.Sprintf(format, args...))
}

// startAll starts the central, the sampler and the tills.
func (f *fleet) startAll() {
	f.startCentral()
	f.sampler = newSampler(f.t, f.ctx, f.spec[len("postgres:"):])
	for i := range tills {
		f.startTill(i)
	}
}

func (f *fleet) startCentral() {
	p, err := start(testSpawner, f.logf, "central", append(centralArgs(f.spec, f.o), "-skew", "1500ms")...)
	if err != nil {
		f.t.Fatal(err)
	}
	addr, err := p.addr(f.ctx)
	if err != nil {
		f.t.Fatalf("%v\n%s", err, tailFile(f.t, f.logPath))
	}
	f.central = p
	f.proxy.SetTarget(addr)
}

// tillFlags size the chaos test's leases, with the central's skew: the
// last till sells slowly on large leases that it never renews (it stops
// using a lease 2s before its end, and till.Till.Sync renews only a lease
// it may still use that has less than half its 4s to run), so that its
// leases lapse with uses left and the central reclaims them; the skew
// (1.5s at the central, at least that at the tills) is longer than the
// outages, so that a till syncs its uses of a lease before the central
// may reclaim it.
func tillFlags(i int) []string {
	if i == len(tills)-1 {
		return []string{"-lease-uses", "40", "-lease-for", "4s", "-skew", "2s", "-pace", "100ms", "-sync", "150ms", "-finish", "40s"}
	}
	return []string{"-lease-uses", "12", "-lease-for", "5s", "-skew", "1500ms", "-pace", "8ms", "-sync", "150ms", "-finish", "40s"}
}

func (f *fleet) startTill(i int) {
	p, err := start(testSpawner, f.logf, "till "+tills[i].id, tillArgs(i, "http://"+f.proxy.Addr(), f.o, tillFlags(i)...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tills[i] = p
}

// reap notes the tills that have finished, and fails on one that failed.
func (f *fleet) reap() bool {
	all := true
	for i, p := range f.tills {
		if f.done[i] {
			continue
		}
		if !p.exited() {
			all = false
			continue
		}
		if err := p.exitErr(); err != nil {
			f.t.Fatalf("%v\n%s", err, tailFile(f.t, f.logPath))
		}
		f.done[i] = true
		f.event("%s finished: %s", p.name, p.last())
	}
	return all
}

// chaos cuts, drops and kills at random for d, or until the tills finish.
func (f *fleet) chaos(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end) && !f.reap(); {
		if err := sleepCtx(f.ctx, time.Duration(150+f.rng.IntN(400))*time.Millisecond); err != nil {
			f.t.Fatal(err)
		}
		switch r := f.rng.IntN(100); {
		case r < 25:
			cut := time.Duration(100+f.rng.IntN(1100)) * time.Millisecond
			f.proxy.Cut()
			_ = sleepCtx(f.ctx, cut)
			f.proxy.Heal()
			f.event("cut %s", cut.Round(time.Millisecond))
		case r < 45:
			f.proxy.Drop()
			f.event("drop")
		case r < 75:
			i := f.rng.IntN(len(tills))
			if f.done[i] || f.tills[i].exited() {
				continue
			}
			f.tills[i].kill()
			_ = sleepCtx(f.ctx, time.Duration(f.rng.IntN(300))*time.Millisecond)
			f.startTill(i)
			f.event("kill %s", tills[i].id)
		case r < 88:
			f.central.kill()
			f.startCentral()
			f.event("kill central")
		}
	}
}

// heal ends the chaos: the network stays up, and the tills left sell out
// the offer (or finish their sales), sync and return their leftovers.
func (f *fleet) heal() {
	f.proxy.Heal()
	// Selling out the offer after the chaos takes about 20 s alone, and
	// several times that while the rest of the module's tests load the
	// machine.
	deadline := time.Now().Add(180 * time.Second)
	for !f.reap() {
		if time.Now().After(deadline) {
			f.t.Fatalf("the tills did not finish within 3 minutes of the network healing\n%s", tailFile(f.t, f.logPath))
		}
		if err := sleepCtx(f.ctx, 50*time.Millisecond); err != nil {
			f.t.Fatal(err)
		}
	}
}

// sampler reads the series' use counter every 20ms from its own
// connection, and keeps the highest value seen.
type sampler struct {
	max    atomic.Int64
	over   atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newSampler(t *testing.T, ctx context.Context, dsn string) *sampler {
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Series(ctx, offer.SeriesID)
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(s.Redemption.MaxPerSeries)
	ctx, cancel := context.WithCancel(ctx)
	sm := &sampler{cancel: cancel}
	sm.wg.Add(1)
	go func() {
		defer sm.wg.Done()
		defer st.Close()
		k := []store.CounterKey{{Counter: limits.SeriesUses, Series: offer.SeriesID}}
		out := make([]store.Count, 1)
		for sleepCtx(ctx, 20*time.Millisecond) == nil {
			if err := st.Counters(ctx, k, out); err != nil {
				continue
			}
			if out[0].N > sm.max.Load() {
				sm.max.Store(out[0].N)
			}
			if out[0].N > limit {
				sm.over.Store(true)
			}
		}
	}()
	return sm
}

func (s *sampler) stop() { s.cancel(); s.wg.Wait() }

func (s *sampler) result() (int64, bool) { return s.max.Load(), s.over.Load() }

// newSchema creates a fresh schema ck_fleet_<random>, dropped when the
// test ends.
func newSchema(t *testing.T, dsn string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "ck_fleet_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema: %v (is PostgreSQL running?)", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// withSearchPath is dsn with its connections' search_path set to schema.
func withSearchPath(dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&search_path=" + schema
	}
	return dsn + "?search_path=" + schema
}
