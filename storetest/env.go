package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// A subtest's world: a fresh store, an engine over it with a fake clock
// and a customer directory; the fixtures the subtests build on, and
// shortcuts to the engine that stop the subtest on an error.

// t0 is the fake clock's start: Monday 7 January 2030, 10:00 UTC.
var t0 = time.Date(2030, time.January, 7, 10, 0, 0, 0, time.UTC)

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's time, in UTC.
func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// codeKey is the secret the suite's engines derive each series' code key
// from.
var codeKey = []byte("storetest conformance key, not a secret")

// seriesKey is the code key of a series: one key per series, as
// couponkit.Config.CodeKey asks, so that two series with the same code
// spec do not make the same codes.
func seriesKey(_ context.Context, seriesID string) ([]byte, error) {
	return append(append([]byte(nil), codeKey...), seriesID...), nil
}

// rates converts USD and EUR both ways: 1 USD = 0.5 EUR.
var rates = series.FixedRates{
	{From: "USD", To: "EUR"}: decimal.RequireFromString("0.5"),
	{From: "EUR", To: "USD"}: decimal.NewFromInt(2),
}

// env is one subtest's world: a fresh store, an engine over it with a fake
// clock, and a customer directory.
type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	e   *couponkit.Engine
	clk *clock
	dir *couponkit.MemDirectory
	// sizes are the suite's sizes, for the tests that scale with them.
	sizes Sizes

	mu        sync.Mutex
	remaining []remainingCall // OnRemaining calls
}

type remainingCall struct {
	SeriesID  string
	Remaining int64
}

// The customers every env knows.
const (
	alice = "alice" // registered 15 Dec 2029, no earlier transaction
	bob   = "bob"   // registered 1 Jun 2029, 3 earlier transactions
	carol = "carol" // registration unknown
	dave  = "dave"
	erin  = "erin"
)

func (h *harness) env(t *testing.T) *env {
	t.Helper()
	st := h.newStore(t)
	if st == nil {
		t.Fatal("newStore returned nil")
	}
	e := newEnv(t, st)
	e.sizes = h.sizes
	return e
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, clk: newClock(t0), dir: &couponkit.MemDirectory{}}
	for _, c := range []couponkit.CustomerRecord{
		{Customer: couponkit.Customer{ID: alice, Registered: time.Date(2029, 12, 15, 0, 0, 0, 0, time.UTC)},
			Mobile: "+4470000001", Email: "Alice@Example.com", ExternalID: "ext-alice"},
		{Customer: couponkit.Customer{ID: bob, Registered: time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC), Transactions: 3},
			Mobile: "+4470000002", Email: "bob@example.com", ExternalID: "ext-bob"},
		{Customer: couponkit.Customer{ID: carol}, Mobile: "+4470000003"},
		{Customer: couponkit.Customer{ID: dave}},
		{Customer: couponkit.Customer{ID: erin}},
	} {
		e.dir.Add(c)
	}
	eng, err := couponkit.New(couponkit.Config{
		Store:     st,
		Now:       e.clk.Now,
		Customers: e.dir,
		CodeKey:   seriesKey,
		Rates:     rates,
		OnRemaining: func(_ context.Context, id string, n int64) {
			e.mu.Lock()
			e.remaining = append(e.remaining, remainingCall{id, n})
			e.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("couponkit.New: %v", err)
	}
	e.e = eng
	return e
}

// addCustomers registers customers with the given ids (no other facts).
func (e *env) addCustomers(ids ...string) {
	for _, id := range ids {
		e.dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: id}})
	}
}

// ---- fixtures ----

func eur(amount string) series.Money {
	return series.Money{Amount: decimal.RequireFromString(amount), Currency: "EUR"}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nullDec(s string) decimal.NullDecimal { return decimal.NewNullDecimal(dec(s)) }

// baseSeries is a UTC series worth 10 EUR, coupons valid 30 days.
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

func genSrc() series.Source {
	return series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric}
}

func uploadSrc() series.Source { return series.Source{Kind: series.Uploaded} }

func commonSrc(code string) series.Source {
	return series.Source{Kind: series.Common, Code: code}
}

// ---- engine shortcuts that fail the test on error ----

func (e *env) createSeries(s series.Series) series.Series {
	e.t.Helper()
	out, err := e.e.CreateSeries(e.ctx, s)
	if err != nil {
		e.t.Fatalf("setup: CreateSeries(%q): %v", s.Name, err)
	}
	return out
}

func (e *env) gen(name string, opts ...func(*series.Series)) series.Series {
	e.t.Helper()
	return e.createSeries(baseSeries(name, genSrc(), opts...))
}

func (e *env) issue(seriesID, customer string) coupon.Coupon {
	e.t.Helper()
	r, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(customer)})
	if err != nil {
		e.t.Fatalf("setup: Issue(%s to %s): %v", seriesID, customer, err)
	}
	return r.Coupon
}

// upload adds codes (without customers) to an uploaded series.
func (e *env) upload(seriesID string, codes ...string) {
	e.t.Helper()
	rows := make([]couponkit.UploadRow, len(codes))
	for i, c := range codes {
		rows[i] = couponkit.UploadRow{Code: c}
	}
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: seriesID, Rows: rows, Actor: "op"})
	if err != nil || len(res.Failed) > 0 {
		e.t.Fatalf("setup: Upload(%v): %+v, %v", codes, res, err)
	}
}

func redeemReq(code, customer, key, bill string) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID(customer), IdempotencyKey: key, Bill: eur(bill)}
}

func (e *env) redeem(code, customer, key string) couponkit.RedeemResult {
	e.t.Helper()
	r, err := e.e.Redeem(e.ctx, redeemReq(code, customer, key, "100"))
	if err != nil {
		e.t.Fatalf("setup: Redeem(%s by %s, key %s): %v", code, customer, key, err)
	}
	return r
}

func (e *env) tryRedeem(code, customer, key string) (couponkit.RedeemResult, error) {
	return e.e.Redeem(e.ctx, redeemReq(code, customer, key, "100"))
}

func (e *env) counters(seriesID string) couponkit.SeriesCounters {
	e.t.Helper()
	c, err := e.e.Counters(e.ctx, seriesID)
	if err != nil {
		e.t.Fatalf("Counters(%s): %v", seriesID, err)
	}
	return c
}

// uses reads the four redemption counters of a code and a customer from the
// store: code uses, customer code uses, series uses, customer series uses.
func (e *env) uses(seriesID, canonical, customer string) [4]int64 {
	e.t.Helper()
	keys := []store.CounterKey{
		{Counter: limits.CodeUses, Series: seriesID, Code: canonical},
		{Counter: limits.CustomerCodeUses, Series: seriesID, Code: canonical, Customer: customer},
		{Counter: limits.SeriesUses, Series: seriesID},
		{Counter: limits.CustomerSeriesUses, Series: seriesID, Customer: customer},
	}
	out := make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, out); err != nil {
		e.t.Fatalf("store.Counters: %v", err)
	}
	return [4]int64{out[0].N, out[1].N, out[2].N, out[3].N}
}

// issued reads the two issuance counters: series issued, customer issued.
func (e *env) issuedCounts(seriesID, customer string) [2]int64 {
	e.t.Helper()
	keys := []store.CounterKey{
		{Counter: limits.SeriesIssued, Series: seriesID},
		{Counter: limits.CustomerIssued, Series: seriesID, Customer: customer},
	}
	out := make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, out); err != nil {
		e.t.Fatalf("store.Counters: %v", err)
	}
	return [2]int64{out[0].N, out[1].N}
}

func (e *env) stored(id string) coupon.Coupon {
	e.t.Helper()
	c, err := e.st.Coupon(e.ctx, id)
	if err != nil {
		e.t.Fatalf("store.Coupon(%s): %v", id, err)
	}
	return c
}

func (e *env) storedRedemption(id string) coupon.Redemption {
	e.t.Helper()
	r, err := e.st.Redemption(e.ctx, id)
	if err != nil {
		e.t.Fatalf("store.Redemption(%s): %v", id, err)
	}
	return r
}

func (e *env) history(couponID string) []coupon.Event {
	e.t.Helper()
	evs, err := e.e.CouponHistory(e.ctx, couponID)
	if err != nil {
		e.t.Fatalf("CouponHistory(%s): %v", couponID, err)
	}
	return evs
}

func (e *env) customerHistory(customer, seriesID string) []coupon.Event {
	e.t.Helper()
	evs, err := e.e.CustomerHistory(e.ctx, couponkit.ByID(customer), seriesID)
	if err != nil {
		e.t.Fatalf("CustomerHistory(%s): %v", customer, err)
	}
	return evs
}

func (e *env) seriesCoupons(seriesID string) []coupon.Coupon {
	e.t.Helper()
	cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID}})
	if err != nil {
		e.t.Fatalf("ListCoupons(%s): %v", seriesID, err)
	}
	return cs
}

func kinds(evs []coupon.Event) []coupon.EventKind {
	out := make([]coupon.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}
