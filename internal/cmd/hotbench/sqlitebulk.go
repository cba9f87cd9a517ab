package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

// sqliteBulk measures a bulk issue on SQLite: bulk.IssueFile of a CSV file
// of n customers (one row each) into a generated series of 10-character
// codes, in batches of batch rows (0: bulk's default), in a fresh SQLite
// file of its own in dir (a temporary directory when empty, removed
// afterwards). It writes the number of batches, the time of the issue, the
// rows per second, the process's CPU time and its peak resident memory
// during it (the high-water mark reset just before, on Linux), and checks
// that every row was issued and stored. Then it times the hand-written
// floor of the same write (rawLoad) and writes its time and the ratio of
// the two.
func sqliteBulk(ctx context.Context, dir string, n, batch int, w io.Writer) error {
	tmp, err := os.MkdirTemp(dir, "hotbench-sqlitebulk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	csv := filepath.Join(tmp, "customers.csv")
	if err := writeCustomers(csv, n); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(tmp, "bulk.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	e, err := couponkit.New(couponkit.Config{Store: st,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("hotbench code key, not a secret"), nil }})
	if err != nil {
		return err
	}
	s := hotSeries(0)
	s.Source = series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric}
	sr, err := e.CreateSeries(ctx, s)
	if err != nil {
		return err
	}
	f, err := os.Open(csv)
	if err != nil {
		return err
	}
	defer f.Close()
	debug.FreeOSMemory()
	reset := resetPeakRSS()
	cpu0, start := processCPU(), time.Now()
	batches := 0
	opts := bulk.Options{BatchSize: batch, Progress: func(bulk.Progress) { batches++ }}
	rep, err := bulk.IssueFile(ctx, e, sr.ID, bufio.NewReader(f), opts)
	d, cpu := time.Since(start), processCPU()-cpu0
	peak, peakErr := peakRSS()
	if err != nil {
		return err
	}
	if rep.Applied != n {
		return fmt.Errorf("%d of %d rows applied: %v", rep.Applied, n, rep)
	}
	var stored int
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM ck_coupons WHERE series_id = ?", sr.ID).Scan(&stored); err != nil || stored != n {
		return errors.Join(fmt.Errorf("%d coupons stored, want %d", stored, n), err)
	}
	fmt.Fprintf(w, "\nbulk issue on SQLite (bulk.IssueFile, generated 10-character codes): %d rows from CSV (batches: %d) in %.1f s, %.0f rows/s, process CPU %.1f s\n",
		n, batches, d.Seconds(), float64(n)/d.Seconds(), cpu.Seconds())
	printPeakRSS(w, peak, peakErr, reset)
	if batch <= 0 {
		batch = bulk.DefaultBatchSize
	}
	raw, err := stageRaw(ctx, tmp, filepath.Join(tmp, "bulk.db"), sr.ID, batch)
	if err != nil {
		return err
	}
	defer raw.close()
	rd, err := raw.load(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the same rows (%d coupons, %d events, %d counters) by INSERT ... SELECT into the same schema, in the same batches: %.1f s, %.0f rows/s; couponkit ÷ that %.2f\n",
		raw.coupons, raw.events, raw.counters, rd.Seconds(), float64(n)/rd.Seconds(), rd.Seconds()/d.Seconds())
	return nil
}

// printPeakRSS writes the peak resident memory read, or why it was not.
func printPeakRSS(w io.Writer, peak int64, peakErr, reset error) {
	switch {
	case peakErr != nil:
		fmt.Fprintf(w, "peak RSS: not read (%v)\n", peakErr)
	case reset != nil:
		fmt.Fprintf(w, "peak RSS of the process: %d MB (over the whole run: the mark could not be reset: %v)\n", peak>>20, reset)
	default:
		fmt.Fprintf(w, "peak RSS during the issue: %d MB\n", peak>>20)
	}
}

// resetPeakRSS resets the process's peak resident memory to its current
// one (Linux 4.0 and later).
func resetPeakRSS() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident memory in bytes: VmHWM of
// /proc/self/status (Linux).
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
