package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/postgres"
)

// bulkTables are the tables a bulk issue writes a row per coupon to: what
// the raw COPY loads.
var bulkTables = []string{"ck_coupons", "ck_events", "ck_counters"}

// bulkCmp is the bulk comparison's state: the CSV file, the directory of
// the dumped rows, and how many schemas it made.
type bulkCmp struct {
	env    *pgEnv
	n      int
	batch  int // rows per batch (bulk.Options.BatchSize)
	csv    string
	dump   string
	dumped bool
	seq    int
	// rows are the rows dumped of each of bulkTables.
	rows []int64
	// calls is what the store calls of the last couponkit round took.
	calls observe.Recorder
	// cpu is the process CPU time of the last couponkit round.
	cpu time.Duration
}

// The bulk contenders, for printRates.
var (
	bulkCK  = contender{name: "pg bulk.IssueFile (couponkit)", db: "postgres", couponkit: true}
	bulkRaw = contender{name: "pg raw COPY, same rows and indexes", db: "postgres"}
)

// compareBulk times, in rounds of alternating order, couponkit's bulk
// issue of a CSV file of n customers into a generated series (each round
// in a freshly migrated schema) against a raw COPY of the rows that issue
// wrote (its coupons, events and counters, dumped after the first round)
// into tables made LIKE couponkit's, INCLUDING ALL: the same columns,
// checks and indexes (not the foreign key to the series).
func compareBulk(ctx context.Context, env *pgEnv, n, rounds, batch int, w, progress io.Writer) error {
	dir, err := os.MkdirTemp("", "hotbench-bulk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bulkCmp{env: env, n: n, batch: batch, csv: filepath.Join(dir, "customers.csv"), dump: dir}
	if err := writeCustomers(b.csv, n); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nbulk issue on PostgreSQL: %d rows from CSV, %d rounds (first couponkit, then alternating)\n", n, rounds)
	rates := map[string][]float64{}
	for r := range rounds {
		steps := []contender{bulkCK, bulkRaw}
		if r%2 == 1 {
			steps = []contender{bulkRaw, bulkCK}
		}
		for _, c := range steps {
			d, err := b.timeStep(ctx, c.couponkit)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, c.name, err)
			}
			rates[c.name] = append(rates[c.name], float64(n)/d.Seconds())
			if progress != nil {
				fmt.Fprintf(progress, "bulk round %d: %s %.1f s\n", r+1, c.name, d.Seconds())
			}
		}
	}
	fmt.Fprintf(w, "the raw COPY loads the rows of the first issue:")
	for i, t := range bulkTables {
		fmt.Fprintf(w, " %d of %s", b.rows[i], t)
	}
	fmt.Fprintln(w)
	printRates(w, []contender{bulkCK, bulkRaw}, rates, "rows/s")
	printStoreCalls(w, b.calls.Records(), b.cpu)
	return nil
}

// printStoreCalls writes where the last couponkit round's time went: the
// total time and count of each kind of store call it made, the time of the
// bulk run outside them, and the process CPU time of the round.
func printStoreCalls(w io.Writer, recs []observe.Record, cpu time.Duration) {
	type total struct {
		n   int
		d   time.Duration
		all []time.Duration
	}
	var run time.Duration
	var inStore time.Duration
	byOp := map[observe.Op]*total{}
	var ops []observe.Op
	for _, r := range recs {
		if !r.Op.IsStore() {
			if r.Depth == 0 {
				run += r.Outcome.Latency
			}
			continue
		}
		t := byOp[r.Op]
		if t == nil {
			t = &total{}
			byOp[r.Op] = t
			ops = append(ops, r.Op)
		}
		t.n++
		t.d += r.Outcome.Latency
		t.all = append(t.all, r.Outcome.Latency)
		inStore += r.Outcome.Latency
	}
	if len(ops) == 0 {
		return
	}
	slices.SortFunc(ops, func(a, b observe.Op) int { return cmp.Compare(byOp[b].d, byOp[a].d) })
	fmt.Fprintf(w, "the last couponkit round: engine batches %.1f s, of which store calls %.1f s; process CPU %.1f s\n",
		run.Seconds(), inStore.Seconds(), cpu.Seconds())
	fmt.Fprintf(w, "  %-22s %6s %9s   mean ms of the first and the last tenth of the calls\n", "store call", "calls", "seconds")
	for _, op := range ops {
		t := byOp[op]
		tenth := max(1, len(t.all)/10)
		fmt.Fprintf(w, "  %-22s %6d %9.2f   %.2f  %.2f\n", op, t.n, t.d.Seconds(),
			meanMS(t.all[:tenth]), meanMS(t.all[len(t.all)-tenth:]))
	}
}

// meanMS returns the mean of ds in milliseconds.
func meanMS(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum.Seconds() * 1000 / float64(len(ds))
}

// writeCustomers writes a CSV file of a customer_id header and n rows.
func writeCustomers(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("customer_id\n")
	buf := make([]byte, 0, 32)
	for i := range n {
		buf = strconv.AppendInt(append(buf[:0], "cust"...), int64(i), 10)
		bw.Write(append(buf, '\n'))
	}
	return errors.Join(bw.Flush(), f.Close())
}

// timeStep runs one step in a schema of its own, dropped afterwards, and
// returns the time of its timed part.
func (b *bulkCmp) timeStep(ctx context.Context, ck bool) (time.Duration, error) {
	b.seq++
	schema := b.env.schema + "_b" + strconv.Itoa(b.seq)
	if err := b.env.exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return 0, err
	}
	var d time.Duration
	var err error
	if ck {
		d, err = b.issue(ctx, schema)
	} else {
		d, err = b.copy(ctx, schema)
	}
	drop := b.env.exec(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
	return d, errors.Join(err, drop)
}

// issue migrates couponkit's tables into schema, creates a generated
// series of 10-character codes and times bulk.IssueFile over the CSV file.
// The first time, it dumps the rows written for copy.
func (b *bulkCmp) issue(ctx context.Context, schema string) (time.Duration, error) {
	env := &pgEnv{dsn: b.env.dsn, schema: schema}
	db, err := env.pool()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	st := postgres.New(db)
	if err := st.Migrate(ctx); err != nil {
		return 0, err
	}
	b.calls.Reset()
	e, err := couponkit.New(couponkit.Config{Store: st, Observer: &b.calls,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("hotbench code key, not a secret"), nil }})
	if err != nil {
		return 0, err
	}
	s := hotSeries(0)
	s.Source = series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric}
	sr, err := e.CreateSeries(ctx, s)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(b.csv)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b.calls.Reset()
	start, cpu := time.Now(), processCPU()
	rep, err := bulk.IssueFile(ctx, e, sr.ID, f, bulk.Options{BatchSize: b.batch})
	d := time.Since(start)
	b.cpu = processCPU() - cpu
	if err == nil && rep.Applied != b.n {
		err = fmt.Errorf("%d of %d rows applied: %v", rep.Applied, b.n, rep)
	}
	if err == nil && !b.dumped {
		err = b.dumpRows(ctx, schema)
	}
	return d, err
}

// connect opens one connection whose search_path is schema.
func (b *bulkCmp) connect(ctx context.Context, schema string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(b.env.dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["search_path"] = schema
	return pgx.ConnectConfig(ctx, cfg)
}

// dumpRows copies the rows of bulkTables in schema to files of the dump
// directory, in COPY's text format.
func (b *bulkCmp) dumpRows(ctx context.Context, schema string) error {
	conn, err := b.connect(ctx, schema)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, t := range bulkTables {
		f, err := os.Create(filepath.Join(b.dump, t+".copy"))
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		tag, err := conn.PgConn().CopyTo(ctx, bw, "COPY "+t+" TO STDOUT")
		b.rows = append(b.rows, tag.RowsAffected())
		if err = errors.Join(err, bw.Flush(), f.Close()); err != nil {
			return fmt.Errorf("dump %s: %w", t, err)
		}
	}
	b.dumped = true
	return nil
}

// copy creates bulkTables in schema LIKE couponkit's, INCLUDING ALL, and
// times COPY ... FROM STDIN of the dumped rows into them.
func (b *bulkCmp) copy(ctx context.Context, schema string) (time.Duration, error) {
	conn, err := b.connect(ctx, schema)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	for _, t := range bulkTables {
		if _, err := conn.Exec(ctx, "CREATE TABLE "+t+" (LIKE "+b.env.schema+"."+t+" INCLUDING ALL)"); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for _, t := range bulkTables {
		f, err := os.Open(filepath.Join(b.dump, t+".copy"))
		if err != nil {
			return 0, err
		}
		_, err = conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY "+t+" FROM STDIN")
		if err = errors.Join(err, f.Close()); err != nil {
			return 0, fmt.Errorf("COPY %s: %w", t, err)
		}
	}
	return time.Since(start), nil
}
