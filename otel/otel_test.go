package otel_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	ckotel "github.com/couponkit/couponkit/otel"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// setup returns an engine over memstore observed by an Observer whose
// spans go to the returned recorder and metrics to the returned reader,
// and a coupon of a series that takes 10 EUR off bills of 50 EUR or more,
// issued to alice.
func setup(t *testing.T) (*couponkit.Engine, *tracetest.SpanRecorder, *sdkmetric.ManualReader, string) {
	return setupOn(t, memstore.New())
}

// setupOn is setup on st.
func setupOn(t *testing.T, st store.Store) (*couponkit.Engine, *tracetest.SpanRecorder, *sdkmetric.ManualReader, string) {
	t.Helper()
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	obs, err := ckotel.New(
		sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
		sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)
	e, err := couponkit.New(couponkit.Config{
		Store:    st,
		Now:      func() time.Time { return now },
		CodeKey:  func(context.Context, string) ([]byte, error) { return []byte("a test key"), nil },
		Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{
		Name:       "10 EUR off",
		TimeZone:   "Europe/Berlin",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Redemption: limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	return e, spans, reader, res.Coupon.Code
}

func eur(s string) series.Money {
	return series.Money{Amount: decimal.RequireFromString(s), Currency: "EUR"}
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestRedeemSpans: a redemption, a refused redemption and a failed one
// each make a span with the operation, its outcome and its codes, and the
// store calls they make are child spans.
func TestRedeemSpans(t *testing.T) {
	ctx := context.Background()
	e, rec, _, code := setup(t)
	req := couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: eur("20.00")}
	if _, err := e.Redeem(ctx, req); !errors.Is(err, errcode.ErrLimitReached) {
		t.Fatalf("a bill below the minimum: %v", err)
	}
	req.IdempotencyKey, req.Bill = "pos-2", eur("64.90")
	if _, err := e.Redeem(ctx, req); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	req.IdempotencyKey = "pos-3"
	if _, err := e.Redeem(cctx, req); err == nil {
		t.Fatal("a redemption with a cancelled context succeeded")
	}

	var redeems []sdktrace.ReadOnlySpan
	children := map[string]int{}
	for _, s := range rec.Ended() {
		if s.Name() == "couponkit.Redeem" {
			redeems = append(redeems, s)
		}
	}
	if len(redeems) != 3 {
		t.Fatalf("%d Redeem spans, want 3", len(redeems))
	}
	for _, s := range rec.Ended() {
		for _, r := range redeems {
			if s.Parent().SpanID() == r.SpanContext().SpanID() {
				children[r.SpanContext().SpanID().String()]++
				if a := attrs(s.Attributes()); a[ckotel.AttrOperation].AsString() != "store."+s.Name()[len("couponkit.store."):] {
					t.Errorf("child span %s has operation %v", s.Name(), a[ckotel.AttrOperation])
				}
			}
		}
	}
	for i, w := range []struct {
		outcome string
		codes   []int64
		status  codes.Code
	}{
		{"refused", []int64{int64(limits.BillBelowMin.Code())}, codes.Unset},
		{"ok", nil, codes.Unset},
		{"failed", nil, codes.Error},
	} {
		s := redeems[i]
		a := attrs(s.Attributes())
		if a[ckotel.AttrOperation].AsString() != "Redeem" || a[ckotel.AttrOutcome].AsString() != w.outcome || !slices.Equal(a[ckotel.AttrCodes].AsInt64Slice(), w.codes) {
			t.Errorf("Redeem span %d: %v, want outcome %s codes %v", i, s.Attributes(), w.outcome, w.codes)
		}
		if s.Status().Code != w.status {
			t.Errorf("Redeem span %d: status %v, want %v", i, s.Status(), w.status)
		}
		if i < 2 && children[s.SpanContext().SpanID().String()] == 0 {
			t.Errorf("Redeem span %d has no store call as a child", i)
		}
		for _, kv := range s.Attributes() {
			if kv.Value.String() == code {
				t.Errorf("span %d carries the code in %s", i, kv.Key)
			}
		}
	}
}

// TestRedeemMetrics: the operations counter counts each redemption under
// its outcome, the histogram has one latency per operation, and the
// refusals counter counts the refusal's code.
func TestRedeemMetrics(t *testing.T) {
	ctx := context.Background()
	st := &conflicting{Store: memstore.New()}
	e, _, reader, code := setupOn(t, st)
	req := couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: eur("20.00")}
	if _, err := e.Redeem(ctx, req); err == nil {
		t.Fatal("a bill below the minimum was accepted")
	}
	st.on.Store(true)
	req.IdempotencyKey, req.Bill = "pos-0", eur("64.90")
	if _, err := e.Redeem(ctx, req); !errors.Is(err, errcode.ErrConflict) {
		t.Fatalf("a redemption whose writes keep conflicting: %v", err)
	}
	st.on.Store(false)
	req.IdempotencyKey, req.Bill = "pos-2", eur("64.90")
	if _, err := e.Redeem(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Redeem(ctx, req); err != nil { // replayed
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	ops := map[[2]string]int64{}
	hist := map[[2]string]uint64{}
	refusals := map[int64]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ckotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					op, _ := p.Attributes.Value(ckotel.AttrOperation)
					switch m.Name {
					case ckotel.MetricOperations:
						out, _ := p.Attributes.Value(ckotel.AttrOutcome)
						ops[[2]string{op.AsString(), out.AsString()}] += p.Value
					case ckotel.MetricRefusals:
						c, _ := p.Attributes.Value(ckotel.AttrCode)
						if op.AsString() == "Redeem" {
							refusals[c.AsInt64()] += p.Value
						}
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					op, _ := p.Attributes.Value(ckotel.AttrOperation)
					out, _ := p.Attributes.Value(ckotel.AttrOutcome)
					hist[[2]string{op.AsString(), out.AsString()}] += p.Count
				}
			}
		}
	}
	for _, w := range []struct {
		op, outcome string
		n           int64
	}{
		{"Redeem", "ok", 2},
		{"Redeem", "refused", 1},
		{"Redeem", "failed", 1},
		{"CreateSeries", "ok", 1},
		{"Issue", "ok", 1},
	} {
		k := [2]string{w.op, w.outcome}
		if ops[k] != w.n || hist[k] != uint64(w.n) {
			t.Errorf("%s %s: counted %d, histogram %d, want %d", w.op, w.outcome, ops[k], hist[k], w.n)
		}
	}
	if ops[[2]string{"store.Apply", "ok"}] == 0 {
		t.Errorf("no store.Apply counted: %v", ops)
	}
	if want := map[int64]int64{int64(limits.BillBelowMin.Code()): 1}; !maps.Equal(refusals, want) {
		t.Errorf("refusals of Redeem: %v, want %v", refusals, want)
	}
}

var _ observe.Observer = (*ckotel.Observer)(nil)

// conflicting refuses every Apply with a conflict while on is set.
type conflicting struct {
	store.Store
	on atomic.Bool
}

func (s *conflicting) Apply(ctx context.Context, c *store.Change) error {
	if s.on.Load() {
		return &store.ConflictError{Kind: "coupon", ID: "c"}
	}
	return s.Store.Apply(ctx, c)
}
