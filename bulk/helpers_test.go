package bulk_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tb is what the helpers need of a test: testing.TB or *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// env is an engine over a fresh memstore with a fake clock and a customer
// directory.
type env struct {
	t   tb
	ctx context.Context
	e   *couponkit.Engine
	clk *clock
	dir *couponkit.MemDirectory
}

// The customers every env knows.
var people = []couponkit.CustomerRecord{
	{Customer: couponkit.Customer{ID: "alice"}, Mobile: "+4470000001", Email: "alice@example.com", ExternalID: "EXT-A"},
	{Customer: couponkit.Customer{ID: "bob"}, Mobile: "+4470000002", Email: "bob@example.com", ExternalID: "EXT-B"},
	{Customer: couponkit.Customer{ID: "carol"}, Mobile: "+4470000003", Email: "carol@example.com", ExternalID: "EXT-C"},
}

func newEnv(t tb) *env {
	t.Helper()
	return newEnvOn(t, memstore.New())
}

// newEnvOn is newEnv over the store st.
func newEnvOn(t tb, st store.Store) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	dir := &couponkit.MemDirectory{}
	for _, p := range people {
		dir.Add(p)
	}
	e, err := couponkit.New(couponkit.Config{
		Store:     st,
		Now:       clk.now,
		Customers: dir,
		CodeKey:   func(context.Context, string) ([]byte, error) { return []byte("bulk test key, not a secret"), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), e: e, clk: clk, dir: dir}
}

// addCustomers adds n customers c0000000, c0000001, … known by id only.
func (v *env) addCustomers(n int) {
	for i := range n {
		v.dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: fmt.Sprintf("c%07d", i)}})
	}
}

func baseSeries(name string, src series.Source, opts ...func(*series.Series)) series.Series {
	s := series.Series{
		Name:     name,
		TimeZone: "UTC",
		Source:   src,
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func generated(opts ...func(*series.Series)) series.Series {
	return baseSeries("generated", series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric}, opts...)
}

func common(code string) series.Series {
	return baseSeries("common", series.Source{Kind: series.Common, Code: code})
}

func uploaded(opts ...func(*series.Series)) series.Series {
	return baseSeries("uploaded", series.Source{Kind: series.Uploaded, WithCustomers: true}, opts...)
}

func (v *env) create(s series.Series) string {
	v.t.Helper()
	got, err := v.e.CreateSeries(v.ctx, s)
	if err != nil {
		v.t.Fatalf("CreateSeries: %v", err)
	}
	return got.ID
}

// issued is the series' issued counter.
func (v *env) issued(seriesID string) int64 {
	v.t.Helper()
	c, err := v.e.Counters(v.ctx, seriesID)
	if err != nil {
		v.t.Fatal(err)
	}
	return c.Issued
}

// held is how many coupons of the series a customer holds.
func (v *env) held(seriesID string, who couponkit.CustomerRef) int {
	v.t.Helper()
	cs, err := v.e.CustomerCoupons(v.ctx, who, seriesID)
	if err != nil {
		v.t.Fatal(err)
	}
	return len(cs)
}

// rejected maps each rejected row to its code.
func rejected(r *bulk.Report) map[int]errcode.Code {
	m := map[int]errcode.Code{}
	for _, x := range r.Rejections {
		m[x.Row] = x.Code
	}
	return m
}

// file builds a CSV file from a header and rows of cells, quoting as
// needed.
func file(header string, rows ...string) string {
	return header + "\n" + strings.Join(rows, "\n") + "\n"
}

// repeat returns n copies of row.
func repeat(row string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = row
	}
	return out
}

// readCSV parses CSV output.
func readCSV(t testing.TB, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("reading CSV output: %v\n%s", err, s)
	}
	return recs
}

// checkSums checks Rows = Applied + Unchanged + Rejected.
func checkSums(t tb, r *bulk.Report) {
	t.Helper()
	if r.Rows != r.Applied+r.Unchanged+r.Rejected {
		t.Errorf("rows %d != applied %d + unchanged %d + rejected %d", r.Rows, r.Applied, r.Unchanged, r.Rejected)
	}
	if !r.Truncated() && len(r.Rejections) != r.Rejected {
		t.Errorf("%d rejections kept, %d counted, not truncated", len(r.Rejections), r.Rejected)
	}
}

// badFile asserts err is a BadFile *errcode.Error naming the line.
func badFile(t testing.TB, err error, line int) *errcode.Error {
	t.Helper()
	ce, ok := err.(*errcode.Error)
	if !ok || ce.Code != errcode.BadFile {
		t.Fatalf("want a BadFile *errcode.Error, got %T %v", err, err)
	}
	if want := fmt.Sprintf("line %d", line); ce.Field != want {
		t.Errorf("error names %q, want %q (%v)", ce.Field, want, err)
	}
	return ce
}
