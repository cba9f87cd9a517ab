package bulk_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/sqlite"
)

// writeFile writes a file of a header and n rows made by row to a temporary
// directory and returns its path.
func writeFile(b *testing.B, header string, n int, row func(buf []byte, i int) []byte) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "file.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(header + "\n")
	buf := make([]byte, 0, 64)
	for i := range n {
		buf = append(row(buf[:0], i), '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// customerRow writes customer c<i/per>: per rows per customer.
func customerRow(per int) func([]byte, int) []byte {
	return func(buf []byte, i int) []byte {
		return strconv.AppendInt(append(buf, 'c'), int64(i/per), 10)
	}
}

// benchRun creates the series, then times run over the file, which must
// apply every row.
func benchRun(b *testing.B, s series.Series, path string, run func(context.Context, *couponkit.Engine, string, io.Reader, bulk.Options) (*bulk.Report, error)) {
	benchRunWith(b, couponkit.Config{}, s, path, run, bulk.Options{}, b.N)
}

func benchRunWith(b *testing.B, cfg couponkit.Config, s series.Series, path string,
	run func(context.Context, *couponkit.Engine, string, io.Reader, bulk.Options) (*bulk.Report, error), opts bulk.Options, applied int) {
	ctx := context.Background()
	if cfg.Store == nil {
		cfg.Store = memstore.New()
	}
	cfg.CodeKey = func(context.Context, string) ([]byte, error) { return []byte("bench key, not a secret"), nil }
	e, err := couponkit.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	got, err := e.CreateSeries(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	b.ResetTimer()
	rep, err := run(ctx, e, got.ID, f, opts)
	if err != nil {
		b.Fatal(err)
	}
	if rep.Applied != applied || rep.Rows != b.N {
		b.Fatalf("%d applied of %d rows, want %d: %v", rep.Applied, rep.Rows, applied, rep)
	}
}

// BenchmarkIssueFile issues one coupon per row of a file of b.N rows over
// memstore: "common", a common code to b.N customers; "generated", unique
// generated codes, two rows per customer, at most 3 per customer. Run with
// -benchtime=1000000x for a file of a million rows.
func BenchmarkIssueFile(b *testing.B) {
	b.Run("common", func(b *testing.B) {
		benchRun(b, common("SALE20"), writeFile(b, "customer_id", b.N, customerRow(1)), bulk.IssueFile)
	})
	b.Run("rejected", func(b *testing.B) {
		// Every customer is unknown: the store does not grow, so the
		// run's memory is the bulk package's own (rejections streamed,
		// DefaultMaxRejections kept).
		cfg := couponkit.Config{Customers: &couponkit.MemDirectory{}}
		benchRunWith(b, cfg, common("SALE20"), writeFile(b, "customer_id", b.N, customerRow(1)), bulk.IssueFile, bulk.Options{Issues: io.Discard}, 0)
	})
	b.Run("generated", func(b *testing.B) {
		s := generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 })
		s.Source.Length = 10
		benchRun(b, s, writeFile(b, "customer_id", b.N, customerRow(2)), bulk.IssueFile)
	})
}

// BenchmarkIssueFileSQLite issues generated codes from a file of b.N rows
// (two rows per customer, at most 3 per customer) into an SQLite file, the
// embedded store. Run with -benchtime=1000000x for a million rows; measure
// memory with /usr/bin/time -v on the test binary.
func BenchmarkIssueFileSQLite(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bulk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	s := generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 })
	s.Source.Length = 10
	path := writeFile(b, "customer_id", b.N, customerRow(2))
	benchRunWith(b, couponkit.Config{Store: st}, s, path, bulk.IssueFile, bulk.Options{}, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkUploadFile uploads b.N codes, each issued to its own customer.
func BenchmarkUploadFile(b *testing.B) {
	path := writeFile(b, "code,customer_id", b.N, func(buf []byte, i int) []byte {
		buf = strconv.AppendInt(append(buf, "CODE-"...), int64(i), 10)
		return strconv.AppendInt(append(buf, ",c"...), int64(i), 10)
	})
	benchRun(b, uploaded(), path, bulk.UploadFile)
}
