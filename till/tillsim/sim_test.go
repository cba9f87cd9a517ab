package tillsim

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var (
	checks    = flag.Int("tillsim.checks", 0, "tillsim: number of simulated runs (sets -rapid.checks; 0 keeps the default of "+strconv.Itoa(defaultChecks)+")")
	storeKind = flag.String("tillsim.store", "memstore", "tillsim: the central's store, memstore or sqlite")
	maxSteps  = flag.Int("tillsim.steps", 80, "tillsim: the most actions one run takes")
)

// defaultChecks is the number of runs of a plain go test, small enough
// for the package to stay fast on a shared machine.
const defaultChecks = 150

// TestMain sets rapid's number of checks from -tillsim.checks (or the
// package's default, a quarter of it under the race detector), unless
// -rapid.checks or RAPID_CHECKS says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	n := *checks
	if n == 0 && !explicit {
		n = defaultChecks
		if raceEnabled {
			n = defaultChecks / 4
		}
	}
	if n > 0 {
		if err := flag.Set("rapid.checks", strconv.Itoa(n)); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// TestSimulation runs the simulation: rapid draws a run's tills, limits,
// schedule and network, and every guarantee is checked at its end.
func TestSimulation(t *testing.T) {
	cfg := config{sqlite: *storeKind == "sqlite"}
	base := t.TempDir()
	start, runs, total := time.Now(), 0, map[string]int{}
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		v, stats := simulate(rt, base, cfg)
		for k, n := range stats {
			total[k] += n
		}
		if len(v) > 0 {
			rt.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
		}
	})
	took := time.Since(start)
	t.Logf("%d runs in %v: %.1f runs/s", runs, took.Round(time.Millisecond), float64(runs)/took.Seconds())
	for _, k := range sortedKeys(total) {
		t.Logf("  %-40s %d", k, total[k])
	}
}

// TestSimulationSQLite runs a tenth as many runs (at least 5) with the
// central on the SQLite store, unless TestSimulation already uses it.
func TestSimulationSQLite(t *testing.T) {
	if *storeKind == "sqlite" {
		t.Skip("TestSimulation runs on the SQLite store")
	}
	n, err := strconv.Atoi(flag.Lookup("rapid.checks").Value.String())
	if err != nil {
		t.Fatal(err)
	}
	setFlag(t, "rapid.checks", strconv.Itoa(max(5, n/10)))
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		if v, _ := simulate(rt, base, config{sqlite: true}); len(v) > 0 {
			rt.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
		}
	})
}

// simulate makes one run: it builds the world, takes the drawn actions,
// settles and checks, and returns the violations found.
func simulate(t *rapid.T, base string, cfg config) ([]string, map[string]int) {
	w := newWorld(t, base, cfg)
	defer w.close()
	n := rapid.IntRange(*maxSteps/4, *maxSteps).Draw(t, "steps")
	for range n {
		w.step()
		if w.invariants(); len(w.violations) > 0 {
			return w.violations, w.stats // shrinks faster, from the step that broke it
		}
	}
	w.settle()
	return w.check(), w.stats
}

// settle heals the network, delivers what is in flight, lets every till
// settle its lease call and sync its whole journal, then moves the clock
// past every lease's end and the allowance, and reclaims.
func (w *world) settle() {
	w.net.healed = true
	for _, tl := range w.tills {
		tl.cutUntil = time.Time{}
	}
	for len(w.net.inflight) > 0 {
		w.deliverHeld(0)
	}
	for _, tl := range w.tills {
		if tl.lib != nil {
			w.settleLibrary(tl)
			continue
		}
		if tl.pending != nil {
			w.call(tl, tl.pending)
		}
		if tl.pending != nil {
			w.violation("%s: its %s call is still unanswered on a healed network", tl.name, tl.pending.kind)
		}
		w.sync(tl, 0)
	}
	end := w.now
	for _, tl := range w.tills {
		for _, l := range tl.known {
			end = maxTime(end, l.End)
		}
	}
	leases := w.read().leases
	for _, l := range leases {
		end = maxTime(end, l.End)
	}
	w.now = end.Add(skew + time.Minute)
	w.reclaim()
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
