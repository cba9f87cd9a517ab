// Command campaign bulk-issues a campaign from a CSV file of customers, as
// an operator would upload it, on an embedded SQLite file: it creates a
// randomized common series from the sample code "XMAS2026AB" (every code
// starts with the fixed part "XMAS2" and ends with five random letters or
// digits, 36^5 codes), at most one coupon per customer, writes a file of
// customers with a few duplicate and malformed rows (or takes one with
// -file), issues it with bulk.IssueFile while drawing a progress bar, and
// prints the report and the issues CSV ("download issues").
//
//	go run ./examples/campaign -rows 20000
//
// The database is a file in a temporary directory, removed at the end; pass
// -db to keep it somewhere. The issues CSV is written next to it.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

func main() {
	db := flag.String("db", "", "SQLite file to use (default: a temporary file, removed at exit)")
	file := flag.String("file", "", "CSV file of customers to issue (header customer_id); default: generate one next to the database")
	rows := flag.Int("rows", 20000, "rows of the generated customers file")
	flag.Parse()
	path := *db
	if path == "" {
		dir, err := os.MkdirTemp("", "couponkit-campaign")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "coupons.db")
	}
	cfg := config{DB: path, File: *file, Rows: *rows, Now: time.Now(), TTY: isTerminal(os.Stdout)}
	if _, err := run(context.Background(), os.Stdout, cfg); err != nil {
		log.Fatal(err)
	}
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// config is what a run needs.
type config struct {
	DB   string    // the SQLite file
	File string    // the customers CSV; "" to generate one of Rows rows next to DB
	Rows int       // rows of the generated file
	Now  time.Time // the engine's clock (fixed for the run)
	// TTY says the writer is a terminal: the progress bar redraws one line
	// with '\r'. Otherwise a progress line is printed every tenth of the
	// file at most, and the last one.
	TTY bool
}

// outcome is what a run did, for the test: the report, the generated
// file's plan (zero when the file was given), the series and the issues
// file.
type outcome struct {
	Report   *bulk.Report
	Plan     plan
	SeriesID string
	Issues   string
}

// run creates the series, issues the customers file and writes the report
// to w and the issues CSV next to the database.
func run(ctx context.Context, w io.Writer, cfg config) (outcome, error) {
	var out outcome
	st, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return out, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return out, err
	}
	now := cfg.Now
	engine, err := couponkit.New(couponkit.Config{
		Store: st,
		Now:   func() time.Time { return now },
		// The secret that makes the random part of the codes unguessable;
		// keep a real one in your secret store.
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("campaign demo key, not secret"), nil },
	})
	if err != nil {
		return out, err
	}
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// 1. The series: codes like the sample XMAS2026AB, the first half
	// (XMAS2) fixed, the rest random; one coupon per customer; 10 EUR off
	// bills of 50 EUR or more, valid 30 days from issue.
	s, err := engine.CreateSeries(ctx, series.Series{
		Name:     "Xmas 2026",
		TimeZone: "Europe/Berlin",
		Source:   series.Source{Kind: series.RandomizedCommon, Sample: "XMAS2026AB"},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1}},
		Redemption: limits.RedemptionRules{
			MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50)),
		},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		return out, err
	}
	out.SeriesID = s.ID
	say("series %q created: randomized common codes from sample XMAS2026AB (XMAS2 + 5 random, 36^5 codes), one per customer", s.Name)

	// 2. The customers file.
	dir := filepath.Dir(cfg.DB)
	file := cfg.File
	if file == "" {
		file = filepath.Join(dir, "customers.csv")
		out.Plan, err = writeCustomers(file, cfg.Rows)
		if err != nil {
			return out, err
		}
		say("wrote %s: %d rows (%d duplicates, %d empty identifiers, %d with an extra field)",
			file, out.Plan.Rows, out.Plan.Duplicates, out.Plan.Empty, out.Plan.Extra)
	}
	total, err := countRows(file)
	if err != nil {
		return out, err
	}

	// 3. Issue it, batch by batch, streaming the rejections to the issues
	// file and drawing the progress.
	out.Issues = filepath.Join(dir, "issues.csv")
	issues, err := os.Create(out.Issues)
	if err != nil {
		return out, err
	}
	defer issues.Close()
	f, err := os.Open(file)
	if err != nil {
		return out, err
	}
	defer f.Close()
	bar := &progressBar{w: w, total: total, tty: cfg.TTY}
	began := time.Now()
	// The file itself, which can seek: its identity (the key of its rows)
	// is hashed, then it is read again from the start.
	rep, err := bulk.IssueFile(ctx, engine, s.ID, f, bulk.Options{
		BatchSize: 500,
		Progress:  bar.update,
		Issues:    issues,
		Actor:     "campaign",
	})
	bar.finish()
	out.Report = rep
	if err != nil {
		return out, fmt.Errorf("issuing %s stopped after %d rows (run the same file again to resume: the rows issued replay; SkipRows=%d skips them): %w", file, rep.Done(), rep.Done(), err)
	}
	if err := issues.Close(); err != nil {
		return out, err
	}
	say("issued in %s", time.Since(began).Round(time.Millisecond))

	// 4. The report, and the head of the issues file.
	if err := rep.WriteText(w); err != nil {
		return out, err
	}
	head, n, err := headLines(out.Issues, 6)
	if err != nil {
		return out, err
	}
	say("issues file %s (%d lines):", out.Issues, n)
	for _, l := range head {
		say("  %s", l)
	}
	cs, err := engine.Counters(ctx, s.ID)
	if err != nil {
		return out, err
	}
	say("series totals: issued %d", cs.Issued)
	return out, nil
}

// plan is what a generated customers file holds.
type plan struct {
	Rows       int                  // data rows
	Customers  int                  // distinct valid customers
	Duplicates int                  // rows repeating an earlier customer
	Empty      int                  // rows with an empty identifier
	Extra      int                  // rows with a second field
	Rejected   map[int]errcode.Code // expected rejection code by row number
}

// writeCustomers writes a file of n customers with the header customer_id:
// every 797th row repeats the last customer named (refused by the per-customer
// maximum, 1221), every 1301st row has an empty identifier and every 1901st
// row an extra field (both malformed, 1002).
func writeCustomers(path string, n int) (plan, error) {
	p := plan{Rejected: map[int]errcode.Code{}}
	f, err := os.Create(path)
	if err != nil {
		return p, err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("customer_id\n")
	lastValid := 0 // the row of the last customer named, for duplicates
	for row := 1; row <= n; row++ {
		switch {
		case row%1901 == 0:
			fmt.Fprintf(bw, "cust-%06d,oops\n", row)
			p.Extra++
			p.Rejected[row] = errcode.InvalidArgument
		case row%1301 == 0:
			bw.WriteString("\"  \"\n")
			p.Empty++
			p.Rejected[row] = errcode.InvalidArgument
		case row%797 == 0:
			fmt.Fprintf(bw, "cust-%06d\n", lastValid)
			p.Duplicates++
			p.Rejected[row] = errcode.Code(1221)
		default:
			fmt.Fprintf(bw, "cust-%06d\n", row)
			p.Customers++
			lastValid = row
		}
		p.Rows++
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return p, err
	}
	return p, f.Close()
}

// countRows counts the data rows of a CSV file as bulk reads them (blank
// lines skipped), for the progress bar's total.
func countRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	n := -1 // the header
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return max(n, 0), nil
		}
		if err != nil {
			// A malformed file: bulk reports where; count no further.
			return max(n, 0), nil
		}
		n++
	}
}

// headLines returns the first k lines of a file and how many it has.
func headLines(path string, k int) ([]string, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var head []string
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if n < k {
			head = append(head, sc.Text())
		}
		n++
	}
	return head, n, sc.Err()
}

// progressBar draws bulk progress: on a terminal, one line redrawn with
// '\r'; otherwise a line per tenth of the file at most.
type progressBar struct {
	w      io.Writer
	total  int
	tty    bool
	last   bulk.Progress
	shown  int // rows when a line was last printed (not a terminal)
	drawn  bool
	closed bool
}

const barWidth = 30

func (b *progressBar) line(p bulk.Progress) string {
	filled := barWidth
	if b.total > 0 {
		filled = min(barWidth, p.Rows*barWidth/b.total)
	}
	return fmt.Sprintf("[%s%s] %d/%d rows, rejected %d",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), p.Rows, b.total, p.Rejected)
}

func (b *progressBar) update(p bulk.Progress) {
	b.last = p
	if b.tty {
		fmt.Fprintf(b.w, "\r%s", b.line(p))
		b.drawn = true
		return
	}
	if step := max(b.total/10, 1); p.Rows-b.shown >= step || p.Rows >= b.total {
		fmt.Fprintln(b.w, b.line(p))
		b.shown = p.Rows
		b.drawn = true
	}
}

// finish ends the bar: the terminal line is closed, and the last progress
// printed if it was not.
func (b *progressBar) finish() {
	if b.closed {
		return
	}
	b.closed = true
	switch {
	case b.tty && b.drawn:
		fmt.Fprintln(b.w)
	case !b.tty && b.shown != b.last.Rows:
		fmt.Fprintln(b.w, b.line(b.last))
	}
}
