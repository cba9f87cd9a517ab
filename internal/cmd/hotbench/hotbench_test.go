package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// tiny is a run small enough for the default test budget.
func tiny(dbs ...string) config {
	return config{dbs: dbs, dsn: os.Getenv("COUPONKIT_TEST_POSTGRES"), rounds: 2, n: 40, clients: 8,
		limit: 20, attempts: 60, bulkN: 300, bulkRounds: 2}
}

// TestRunSQLite runs the whole program on SQLite with tiny sizes: both
// contenders are exact and timed, the ratio and the CPU per redemption
// are printed, couponkit's run is profiled, and a bulk issue into SQLite
// is timed.
func TestRunSQLite(t *testing.T) {
	cfg := tiny("sqlite")
	cfg.dir = t.TempDir()
	cfg.cpuprofile = t.TempDir() + "/cpu.pprof"
	cfg.sqliteBulk = 500
	out := runOK(t, cfg)
	for _, want := range []string{"sqlite couponkit", "sqlite guarded UPDATE + INSERT, one tx", "couponkit ÷ contender",
		"sqlite couponkit, budget  sqlite couponkit", "variant ÷ versus",
		"process CPU µs/redemption", "CPU profile of one more sqlite couponkit run",
		"bulk issue on SQLite (bulk.IssueFile, generated 10-character codes): 500 rows", "peak RSS"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "  exact"); n != 3 {
		t.Errorf("%d exact lines, want 3:\n%s", n, out)
	}
}

// TestRunBulkAloneProfilesIt runs only SQLite's bulk issue (no hot-series
// contender) with a CPU profile: the profile is of the bulk issue.
func TestRunBulkAloneProfilesIt(t *testing.T) {
	cfg := tiny("sqlite")
	cfg.dir = t.TempDir()
	cfg.only = "^none$"
	cfg.cpuprofile = t.TempDir() + "/cpu.pprof"
	cfg.sqliteBulk = 500
	out := runOK(t, cfg)
	if !strings.Contains(out, "CPU profile of the bulk issues written to") || strings.Contains(out, "one more") {
		t.Errorf("output does not say the bulk issue was profiled:\n%s", out)
	}
	if fi, err := os.Stat(cfg.cpuprofile); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile: %v, %v", fi, err)
	}
}

// TestBulkBatch runs SQLite's bulk issue with -batch: the rows go in
// batches of that size (500 rows in 100s: 5; 450 in 100s: 5, the last of
// 50), and in bulk's default ones without it (1), and the hand-written
// load after it writes every row the issue wrote (each coupon and its
// event, the customers' counters and the series').
func TestBulkBatch(t *testing.T) {
	for _, c := range []struct{ rows, batch int }{{500, 100}, {450, 100}, {500, 0}} {
		cfg := tiny("sqlite")
		cfg.dir = t.TempDir()
		cfg.only = "^none$"
		cfg.sqliteBulk = c.rows
		cfg.batch = c.batch
		out := runOK(t, cfg)
		batches := 1
		if c.batch > 0 {
			batches = (c.rows + c.batch - 1) / c.batch
		}
		for _, want := range []string{fmt.Sprintf("%d rows from CSV (batches: %d)", c.rows, batches),
			fmt.Sprintf("the same rows (%d coupons, %d events, %d counters) by INSERT ... SELECT", c.rows, c.rows, c.rows+1)} {
			if !strings.Contains(out, want) {
				t.Errorf("%d rows, -batch %d: output lacks %q:\n%s", c.rows, c.batch, want, out)
			}
		}
	}
}

// TestRunPostgres runs the whole program on PostgreSQL with tiny sizes,
// with the bulk comparison and a CPU profile: every safe contender is
// exact, the schema is dropped afterwards.
func TestRunPostgres(t *testing.T) {
	cfg := tiny("postgres")
	if cfg.dsn == "" {
		t.Skip("set COUPONKIT_TEST_POSTGRES to a PostgreSQL DSN to run it")
	}
	cfg.cpuprofile = t.TempDir() + "/cpu.pprof"
	out := runOK(t, cfg)
	if n := strings.Count(out, "  exact"); n != 6 {
		t.Errorf("%d exact lines, want 6 (couponkit without and with a budget, and four hand-written):\n%s", n, out)
	}
	for _, want := range []string{"pg one statement, sync off", "pg couponkit, budget  pg couponkit", "pg raw COPY, same rows and indexes", "rows/s", "CPU profile"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(cfg.cpuprofile); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile: %v, %v", fi, err)
	}
	_, rest, _ := strings.Cut(out, "PostgreSQL schema ")
	schema, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(schema, "hotbench_") {
		t.Fatalf("no schema named in the output:\n%s", out)
	}
	env, err := openPG(context.Background(), cfg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	var left int
	q := `SELECT count(*) FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $1 || '\_b%'`
	if err := env.sync.QueryRow(q, schema).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d schemas of the run left behind, %v", left, err)
	}
}

func runOK(t *testing.T, cfg config) string {
	t.Helper()
	var buf bytes.Buffer
	if err := run(context.Background(), cfg, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	return buf.String()
}

// TestExactnessCatchesAnUnguardedBump checks that the exactness check
// fails a strategy whose bump lacks its guard: it redeems every attempt.
func TestExactnessCatchesAnUnguardedBump(t *testing.T) {
	env, err := openSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	good := env.handContender()
	broken := sqliteStmts
	broken.guardBump = broken.bump
	bad := good
	bad.prepare = func(ctx context.Context, limit, _ int) (*trial, error) {
		return handTrial(ctx, env.hand, broken, "broken", limit, broken.guardedTx)
	}
	if x := checkExact(context.Background(), good, 10, 30, 4); !x.exact() {
		t.Errorf("guarded: %+v, want exact", x)
	}
	x := checkExact(context.Background(), bad, 10, 30, 4)
	if x.exact() || x.ok != 30 || x.stored != 30 || verdict(x) != "NOT EXACT" {
		t.Errorf("unguarded: %+v (%s), want 30 redeemed and NOT EXACT", x, verdict(x))
	}
}

// TestUnsafeVerdict checks how an overshoot is reported: a warning for
// the unsafe contender, a failure for another.
func TestUnsafeVerdict(t *testing.T) {
	x := exactness{limit: 1000, ok: 1043, stored: 1043, unsafe: true}
	if v := verdict(x); !strings.HasPrefix(v, "WARNING: overshoot 43 (4.3% over the limit)") {
		t.Errorf("unsafe: %q", v)
	}
	x.unsafe = false
	if v := verdict(x); v != "NOT EXACT" {
		t.Errorf("safe: %q", v)
	}
	x.ok, x.stored = 1000, 999
	if x.exact() {
		t.Error("a stored count short of the limit is exact")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	t.Setenv("COUPONKIT_TEST_POSTGRES", "")
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil || len(cfg.dbs) != 1 || cfg.dbs[0] != "sqlite" || cfg.limit != 1000 || cfg.attempts != 3000 || cfg.clients != 32 || cfg.bulkN != 1_000_000 || cfg.n != 9000 {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{{"-db", "postgres"}, {"-db", "mysql"}, {"-attempts", "10"}, {"-only", "("}} {
		var stderr bytes.Buffer
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("%v: accepted", args)
		} else if !strings.Contains(stderr.String(), err.Error()) {
			t.Errorf("%v: %q not written, only %q", args, err, stderr.String())
		}
	}
	cfg, err = parseFlags([]string{"-db", "postgres", "-dsn", "postgres://x", "-db", "sqlite"}, io.Discard)
	if err != nil || !cfg.has("postgres") || !cfg.has("sqlite") {
		t.Errorf("both: %+v, %v", cfg, err)
	}
}

// TestPrintRates checks both ratios: of the medians, and the median of
// the ratios within each round.
func TestPrintRates(t *testing.T) {
	cs := []contender{{name: "ck", db: "postgres", couponkit: true}, {name: "hand", db: "postgres"}}
	rates := map[string][]float64{"ck": {100, 200, 400}, "hand": {100, 400, 100}}
	var buf bytes.Buffer
	printRates(&buf, cs, rates, "redemptions/s")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	// Medians 200 and 100: 2.00; per round 1, 0.5, 4: median 1.00.
	if f := strings.Fields(lines[2]); len(f) != 6 || f[1] != "100" || f[4] != "2.00" || f[5] != "1.00" {
		t.Errorf("hand line %q", lines[2])
	}
}

// TestPrintCPU checks the CPU table: the CPU time it names, the database's
// contenders only, the ratio contender ÷ couponkit of the medians.
func TestPrintCPU(t *testing.T) {
	cs := []contender{{name: "pg", db: "postgres", couponkit: true}, {name: "ck", db: "sqlite", couponkit: true}, {name: "hand", db: "sqlite"}}
	cpu := map[string][]float64{"pg": {1, 1, 1}, "ck": {100, 200, 400}, "hand": {300, 500, 100}}
	var buf bytes.Buffer
	printCPU(&buf, cs, cpu, "sqlite", "process CPU")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || strings.HasPrefix(lines[1], "pg") || !strings.Contains(lines[0], "process CPU µs/redemption") {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	// Medians 300 and 200: 1.50.
	if f := strings.Fields(lines[2]); len(f) != 5 || f[1] != "300" || f[2] != "100" || f[3] != "500" || f[4] != "1.50" {
		t.Errorf("hand line %q", lines[2])
	}
	buf.Reset()
	printCPU(&buf, cs, cpu, "mysql", "process CPU")
	if buf.Len() != 0 {
		t.Errorf("a table without runs:\n%s", buf.String())
	}
}

// TestBudgetContenderSpends checks that couponkit's budget contender
// redeems on a series with a money budget that each redemption takes from:
// the series' budget counter holds 4 EUR (400 cents) per redemption, and
// the series without a budget has none.
func TestBudgetContenderSpends(t *testing.T) {
	ctx := context.Background()
	env, err := openSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	ck, err := newCKSide("sqlite", env.st, &env.seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []contender{ck.contender(), ck.budgetContender()} {
		if o, err := timeOne(ctx, c, 7, 3); err != nil || o.ok != 7 {
			t.Fatalf("%s: %+v, %v", c.name, o, err)
		}
	}
	all, err := env.st.ListSeries(ctx, store.SeriesQuery{})
	if err != nil || len(all) != 2 {
		t.Fatalf("%d series, %v", len(all), err)
	}
	capped := 0
	for _, s := range all {
		if s.Budget.Capped() {
			capped++
		}
		counts := make([]store.Count, 1)
		if err := env.st.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesBudget, Series: s.ID}}, counts); err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if s.Budget.Capped() {
			want = 7 * 400
		}
		if counts[0].N != want {
			t.Errorf("series %q (budget %v): budget counter %d, want %d", s.Name, s.Budget.Total, counts[0].N, want)
		}
	}
	if capped != 1 {
		t.Errorf("%d series with a budget, want 1", capped)
	}
}

// TestPrintVariants checks the budget ÷ no budget figures: the ratio of
// the medians and the median of the per-round ratios, the variant's rate
// over the other's.
func TestPrintVariants(t *testing.T) {
	cs := []contender{{name: "ck", couponkit: true}, {name: "ck, budget", versus: "ck"}}
	rates := map[string][]float64{"ck": {100, 200, 400}, "ck, budget": {90, 190, 200}}
	var buf bytes.Buffer
	printVariants(&buf, cs, rates)
	// Medians 190 ÷ 200; per round 0.9, 0.95 and 0.5.
	if want := "ck, budget  ck      0.950"; !strings.Contains(buf.String(), want) || !strings.Contains(buf.String(), "0.900") {
		t.Errorf("got\n%s\nwant %q and a per-round median of 0.900", buf.String(), want)
	}
	buf.Reset()
	printVariants(&buf, cs[:1], rates)
	if buf.Len() != 0 {
		t.Errorf("without a variant: %q", buf.String())
	}
}

// TestRunOrder checks the rounds' orders: each a permutation; over n
// rounds for an even n (2n for an odd one) every contender runs in each
// place equally often and right after each other contender equally often.
func TestRunOrder(t *testing.T) {
	if order := runOrder(0, 3); len(order) != 0 {
		t.Errorf("no contenders: order %v", order)
	}
	for n := 1; n <= 7; n++ {
		rounds := n
		if n%2 == 1 {
			rounds = 2 * n
		}
		place := map[[2]int]int{}
		after := map[[2]int]int{}
		for r := range rounds {
			order := runOrder(n, r)
			seen := map[int]bool{}
			for k, i := range order {
				if i < 0 || i >= n || seen[i] {
					t.Fatalf("n=%d round %d: %v is not an order of %d contenders", n, r, order, n)
				}
				seen[i] = true
				place[[2]int{i, k}]++
				if k > 0 {
					after[[2]int{order[k-1], i}]++
				}
			}
		}
		for i := range n {
			for k := range n {
				if got := place[[2]int{i, k}]; got != rounds/n {
					t.Errorf("n=%d: contender %d ran %d times in place %d, want %d", n, i, got, k, rounds/n)
				}
			}
			for j := range n {
				if want := rounds / n; i != j && after[[2]int{i, j}] != want {
					t.Errorf("n=%d: contender %d ran right after %d %d times, want %d", n, j, i, after[[2]int{i, j}], want)
				}
			}
		}
	}
}
