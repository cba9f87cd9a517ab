package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Capabilities tunes the suite to a backend. The zero value asks for the
// full suite at its default sizes, which suit an in-memory store; slower
// backends lower the race and model sizes rather than skip them. Every field
// is an explicit knob: the suite never guesses from a store's name.
type Capabilities struct {
	// Parallelism is how many goroutines race in each concurrency test.
	// Zero means 64. A backend with a small connection pool may lower it,
	// but keep it well above the limits being raced at (the races use
	// limits of 1 to 7), or the races prove little.
	Parallelism int
	// RaceRounds is how many times each race is repeated, each round on a
	// fresh series. Zero means 20, enough for an in-memory store to hit the
	// interleavings that matter; a SQL store over the network may pass 3
	// to 5.
	RaceRounds int
	// RapidChecks is how many random operation sequences the model test
	// runs; zero means rapid's default (100, or the -rapid.checks flag).
	// An explicit -rapid.checks flag or RAPID_CHECKS environment variable
	// wins over this field.
	RapidChecks int
	// RapidSteps is the average number of operations in one sequence of
	// the model test; zero means 100 (rapid's own default of 30 is short
	// for fourteen kinds of operation). An explicit -rapid.steps flag or
	// RAPID_STEPS wins over this field. The model test compares the whole
	// stored state after every step, about 25 store reads, so a SQL store
	// over the network may pass RapidChecks 20 and RapidSteps 50.
	RapidSteps int
	// Short scales the expensive parts down as go test -short does: the
	// races run a quarter of their rounds (at least one) with at most 16
	// goroutines, the model test a fifth of its checks. The suite also
	// scales down when testing.Short() is true.
	Short bool
	// SkipRaces skips the concurrency tests. Only for a store that is not
	// safe for concurrent use at all; such a store cannot back an engine
	// used by more than one goroutine, and the engine documents that it is.
	SkipRaces bool
}

// withDefaults fills in the zero fields.
func (c Capabilities) withDefaults() Capabilities {
	if c.Parallelism <= 0 {
		c.Parallelism = 64
	}
	if c.RaceRounds <= 0 {
		c.RaceRounds = 20
	}
	if c.RapidSteps <= 0 {
		c.RapidSteps = 100
	}
	if c.Short || testing.Short() {
		c.Short = true
		c.RaceRounds = max(1, c.RaceRounds/4)
		c.Parallelism = min(c.Parallelism, 16)
	}
	return c
}

// Run runs the conformance suite against the stores newStore makes.
//
// newStore must return a fresh, empty store each time; it may register its
// cleanup with t.Cleanup. It is called once per operation and contract
// subtest, once per race (whose rounds then use fresh series in that
// store), and once per random sequence of the model test, all with the t of
// the subtest (for the model test, the cleanups run when all its sequences
// are done). caps tunes the expensive parts.
//
// The subtests, by group: Series, Issue, Upload, Redeem, Limits, Hold,
// Keys (idempotency keys), Strangers (what a code tells a non-holder),
// Reverse, Revoke, Transfer, Reissue, Expiry, Query, Generate, Audience
// (operations and their error paths, through the engine); Input (bad
// strings and times get one answer on every store, and what the engine
// accepts every store keeps as it is); Contract (the store contract,
// directly); Model (the model-based rapid test); Race (the concurrency
// tests). A subtest skipped with "engine bug: ..." names a known defect of
// the engine, not of the store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, caps Capabilities) {
	h := &harness{newStore: newStore, caps: caps.withDefaults()}
	t.Run("Series", func(t *testing.T) { h.each(t, seriesTests) })
	t.Run("Issue", func(t *testing.T) { h.each(t, issueTests) })
	t.Run("Upload", func(t *testing.T) { h.each(t, uploadTests) })
	t.Run("Redeem", func(t *testing.T) { h.each(t, redeemTests) })
	t.Run("Limits", func(t *testing.T) { h.each(t, limitTests) })
	t.Run("Hold", func(t *testing.T) { h.each(t, holdTests) })
	t.Run("Keys", func(t *testing.T) { h.each(t, keyTests) })
	t.Run("Strangers", func(t *testing.T) { h.each(t, strangerTests) })
	t.Run("Reverse", func(t *testing.T) { h.each(t, reverseTests) })
	t.Run("Revoke", func(t *testing.T) { h.each(t, revokeTests) })
	t.Run("Transfer", func(t *testing.T) { h.each(t, transferTests) })
	t.Run("Reissue", func(t *testing.T) { h.each(t, reissueTests) })
	t.Run("Expiry", func(t *testing.T) { h.each(t, expiryTests) })
	t.Run("Query", func(t *testing.T) { h.each(t, queryTests) })
	t.Run("Generate", func(t *testing.T) { h.each(t, generateTests) })
	t.Run("Audience", func(t *testing.T) { h.each(t, audienceTests) })
	t.Run("Input", func(t *testing.T) {
		h.each(t, inputTests)
		t.Run("StoresKeepWhatEngineAccepts", h.inputProperty)
	})
	t.Run("Contract", func(t *testing.T) { h.each(t, contractTests) })
	t.Run("Model", h.model)
	t.Run("Race", func(t *testing.T) {
		if h.caps.SkipRaces {
			t.Skip("Capabilities.SkipRaces is set")
		}
		h.races(t)
	})
}

// harness holds what every subtest needs to build its world.
type harness struct {
	newStore func(t *testing.T) store.Store
	caps     Capabilities
}

// test is one subtest on a fresh env.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

func (h *harness) each(t *testing.T, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h.env(t)) })
	}
}

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
	// caps are the suite's sizes, for the tests that scale with them.
	caps Capabilities

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
	e.caps = h.caps
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

// ---- assertions ----

// cmpOpts compare couponkit records: times with Equal (a store may return
// another location), decimals with Equal, place sets by their places, and
// nil and empty slices alike.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b limits.PlaceSet) bool { return slices.Equal(a.Refs(), b.Refs()) }),
	cmpopts.EquateEmpty(),
}

// same fails the test when got differs from want, explaining the rule, and
// reports whether they are the same.
func same[T any](t testing.TB, got, want T, rule string, args ...any) bool {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("%s (-want +got):\n%s", fmt.Sprintf(rule, args...), d)
		return false
	}
	return true
}

// wantCode fails the test unless err matches the errcode code (errors.Is
// against an *errcode.Error of that code).
func wantCode(t testing.TB, err error, code errcode.Code, rule string, args ...any) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want %d %s", fmt.Sprintf(rule, args...), code, code)
	case !errors.Is(err, &errcode.Error{Code: code}):
		t.Errorf("%s: got %v (code %d), want code %d %s", fmt.Sprintf(rule, args...), err, errcode.CodeOf(err), code, code)
	}
}

// wantDenied fails the test unless err is a *refusal.Error whose refusals
// are exactly the given rules of package limits, in order of code, each
// once with a message, and that matches errcode.ErrLimitReached and each
// reason's code under errors.Is.
func wantDenied(t testing.TB, err error, reasons []limits.Reason, rule string, args ...any) {
	t.Helper()
	want := slices.Clone(reasons)
	slices.Sort(want)
	codes := make([]errcode.Code, len(want))
	for i, r := range want {
		codes[i] = r.Code()
	}
	if !wantRefused(t, err, codes, rule, args...) {
		return
	}
	if !errors.Is(err, errcode.ErrLimitReached) {
		t.Errorf("%s: a refusal by the rules must match errcode.ErrLimitReached", fmt.Sprintf(rule, args...))
	}
}

// wantRefused fails the test unless err is a *refusal.Error listing
// refusals with exactly the given codes, in order, each with a rule and a
// message, and matching each code under errors.Is. It reports whether err
// was such a refusal.
func wantRefused(t testing.TB, err error, codes []errcode.Code, rule string, args ...any) bool {
	t.Helper()
	msg := fmt.Sprintf(rule, args...)
	var d *refusal.Error
	if !errors.As(err, &d) {
		t.Errorf("%s: got %v (code %d), want a refusal with %v", msg, err, errcode.CodeOf(err), codes)
		return false
	}
	if got := d.Codes(); !slices.Equal(got, codes) {
		t.Errorf("%s: refused with %v (%v), want exactly %v", msg, got, err, codes)
	}
	for _, r := range d.Refusals {
		if r.Rule == "" || r.Message == "" {
			t.Errorf("%s: refusal %d has no rule or message: %+v", msg, r.Code, r)
		}
	}
	for _, c := range codes {
		if !errors.Is(err, &errcode.Error{Code: c}) {
			t.Errorf("%s: a refusal with %d must match that code under errors.Is", msg, c)
		}
	}
	return true
}

func reasons(rs ...limits.Reason) []limits.Reason { return rs }

func codes(cs ...errcode.Code) []errcode.Code { return cs }

// wantField fails the test unless err holds an *errcode.Error with the
// given code on the given field (errcode.All lists every error of a joined
// one) that matches the code under errors.Is.
func wantField(t testing.TB, err error, code errcode.Code, field, rule string, args ...any) {
	t.Helper()
	what := fmt.Sprintf(rule, args...)
	for _, ce := range errcode.All(err) {
		if ce.Code == code && ce.Field == field {
			if !errors.Is(err, &errcode.Error{Code: code}) {
				t.Errorf("%s: %v does not match code %d under errors.Is", what, err, code)
			}
			return
		}
	}
	t.Errorf("%s: got %v (code %d), want %d %s on field %q", what, err, errcode.CodeOf(err), code, code, field)
}

// wantOK fails the test when err is not nil.
func wantOK(t testing.TB, err error, rule string, args ...any) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error %v", fmt.Sprintf(rule, args...), err)
		return false
	}
	return true
}

// mustOK stops the test when err is not nil.
func mustOK(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
