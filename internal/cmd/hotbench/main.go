// Command hotbench compares couponkit's redemption with hand-written SQL on
// the same database, in one process: 32 clients redeem distinct coupons of
// one hot series, through couponkit's engine on store/postgres and
// store/sqlite, and through hand-written strategies on tables of the same
// shape (a counter row per series with its limit, a row per redemption):
//
//   - lock-read-decide-write: SELECT ... FOR UPDATE, check, INSERT, UPDATE;
//   - a guarded UPDATE ... SET n = n + 1 WHERE n < lim and the INSERT in
//     one transaction;
//   - the same as one autocommit statement (WITH u AS (UPDATE ...) INSERT),
//     with synchronous commit on, and with it off (the ceiling of the
//     hardware; PostgreSQL only);
//   - on SQLite, the guarded UPDATE and the INSERT in one transaction, on
//     the same file with the store's settings (sqlite.OpenDB).
//
// Beside them, couponkit's redemption on a series with a money budget (a
// total far above what the run grants, so that it is never reached: the
// budget's counter is read and bumped under its guard on every
// redemption), named "<db> couponkit, budget", whose ratio to couponkit
// without a budget is printed as budget ÷ no budget.
//
// First it checks each for exactness (a limit of 1,000, 3,000 attempts, 32
// clients: exactly the limit must be redeemed and stored), with a
// deliberately unsafe read-then-write strategy, without the lock, whose
// overshoot it reports as a warning. Then it times every contender in
// interleaved rounds of 9,000 redemptions each (-n; this machine is
// shared: medians of rounds whose order varies, each contender in each
// place and right after each other equally often over as many rounds as
// contenders, twice as many for an odd count) and prints redemptions per
// second and the ratio couponkit ÷ contender, and the CPU time per
// redemption. Last, on PostgreSQL, it times a bulk issue of 1,000,000
// customers from a CSV file (package bulk's IssueFile) against
// a raw COPY of the very rows it wrote into tables with the same indexes;
// with -sqlitebulk N, it times a bulk issue of N customers into a fresh
// SQLite file, reports the process's peak RSS during it, and then times
// SQLite's own floor for those rows: the very rows the issue wrote loaded
// by INSERT ... SELECT into a fresh file of the same schema, in the same
// batches.
//
// Usage:
//
//	go run ./internal/cmd/hotbench -db postgres -dsn "$COUPONKIT_TEST_POSTGRES" -db sqlite
//
// PostgreSQL work happens in a schema hotbench_<random> of the database,
// dropped at the end; SQLite in a temporary directory (or -dir). It exits
// with status 1 when a contender other than the unsafe one is not exact.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
)

// defaultRunLength is -n's default. A timed run of 3,000 redemptions, the
// default once, lasts under a second where the disk flushes fast (2,300-2,600
// one-statement commits/s with synchronous commit on), and its first
// statements and the vacuuming after the contender before weigh on it:
// couponkit's rounds of one run then spread 2,272-5,448/s. Runs of 9,000
// spread 4,198-6,211.
const defaultRunLength = 9000

// config is the program's flags.
type config struct {
	dbs        []string
	dsn, dir   string
	rounds, n  int
	clients    int
	limit      int
	attempts   int
	bulkN      int
	bulkRounds int
	sqliteBulk int
	// batch is the rows per batch of both bulk issues (bulk.Options'
	// BatchSize; 0: its default).
	batch      int
	cpuprofile string
	// only, when set, is the regular expression of the names of the
	// contenders to run.
	only string
	// progress, when not nil, gets a line per timed run.
	progress io.Writer
}

// dbList is the repeatable -db flag.
type dbList []string

func (l *dbList) String() string { return strings.Join(*l, ",") }

func (l *dbList) Set(v string) error {
	if v != "postgres" && v != "sqlite" {
		return fmt.Errorf("unknown database %q: postgres or sqlite", v)
	}
	*l = append(*l, v)
	return nil
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hotbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dbs dbList
	fs.Var(&dbs, "db", "a database to run on, postgres or sqlite; repeat for both (default: both, postgres only with a DSN)")
	fs.StringVar(&c.dsn, "dsn", os.Getenv("COUPONKIT_TEST_POSTGRES"), "PostgreSQL DSN (default $COUPONKIT_TEST_POSTGRES)")
	fs.StringVar(&c.dir, "dir", "", "directory of the SQLite file (default: a temporary one, removed at the end)")
	fs.IntVar(&c.rounds, "rounds", 5, "interleaved rounds of the hot-series timing")
	fs.IntVar(&c.n, "n", defaultRunLength, "redemptions per timed run (the series' limit is twice that, never reached)")
	fs.IntVar(&c.clients, "clients", 32, "concurrent clients")
	fs.IntVar(&c.limit, "limit", 1000, "the series limit of the exactness check")
	fs.IntVar(&c.attempts, "attempts", 3000, "attempts of the exactness check")
	fs.IntVar(&c.bulkN, "bulk", 1_000_000, "rows of the PostgreSQL bulk-issue comparison (0: skip it)")
	fs.IntVar(&c.bulkRounds, "bulkrounds", 3, "interleaved rounds of the bulk-issue comparison")
	fs.StringVar(&c.only, "only", "", "run only the contenders whose names match this regular expression (default: all)")
	fs.IntVar(&c.sqliteBulk, "sqlitebulk", 0, "rows of a bulk issue from CSV into a fresh SQLite file, timed with its peak RSS (0: skip it)")
	fs.IntVar(&c.batch, "batch", 0, "rows per batch of the bulk issues (0: bulk.DefaultBatchSize)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of one extra couponkit run (PostgreSQL's, else SQLite's), or of the bulk issues when -only selects no contender, to this file")
	if err := fs.Parse(args); err != nil {
		return c, err // the flag set has written it
	}
	c.dbs = dbs
	if err := c.check(); err != nil {
		fmt.Fprintln(stderr, "hotbench:", err)
		return c, err
	}
	return c, nil
}

// check completes c's defaults and reports flags that do not fit together.
func (c *config) check() error {
	if _, err := regexp.Compile(c.only); err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	if len(c.dbs) == 0 {
		c.dbs = []string{"sqlite"}
		if c.dsn != "" {
			c.dbs = []string{"postgres", "sqlite"}
		}
	}
	if c.has("postgres") && c.dsn == "" {
		return errors.New("-db postgres needs -dsn or COUPONKIT_TEST_POSTGRES")
	}
	if c.rounds < 1 || c.n < 1 || c.clients < 1 || c.limit < 1 || c.attempts < c.limit || c.bulkN < 0 || c.bulkRounds < 1 || c.sqliteBulk < 0 || c.batch < 0 {
		return errors.New("-rounds, -n, -clients, -limit and -bulkrounds must be positive, -attempts at least -limit, -bulk, -sqlitebulk and -batch not negative")
	}
	return nil
}

// has reports whether the database db was chosen.
func (c config) has(db string) bool {
	for _, d := range c.dbs {
		if d == db {
			return true
		}
	}
	return false
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	cfg.progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err = run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotbench:", err)
		os.Exit(1)
	}
}
