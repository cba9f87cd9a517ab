// Package otel reports couponkit's operations to OpenTelemetry: an
// observe.Observer that makes a span for every engine operation and store
// call (a store call's span a child of its operation's) and records two
// metrics, a counter of operations by name and outcome and a histogram of
// their latency, and a counter of refusals by code.
//
// It is a module of its own, so that couponkit itself depends on no
// OpenTelemetry package:
//
//	obs, err := otel.New(tracerProvider, meterProvider)
//	eng, err := couponkit.New(couponkit.Config{Store: st, Observer: obs})
//
// Spans and metrics carry the operation's name, its outcome and its
// refusal codes, never a coupon code, a customer or an error's text.
package otel

import (
	"context"
	"strconv"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/couponkit/couponkit/observe"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/couponkit/couponkit"

// The attributes of spans and metric points.
const (
	// AttrOperation is the operation's name, observe.Op: "Redeem",
	// "store.Apply".
	AttrOperation = attribute.Key("couponkit.operation")
	// AttrOutcome is "ok", "refused" or "failed" (observe.Result).
	AttrOutcome = attribute.Key("couponkit.outcome")
	// AttrCodes are the codes of package errcode of a refusal or failure,
	// on spans, in order.
	AttrCodes = attribute.Key("couponkit.codes")
	// AttrCode is one refusal code, on the refusals counter.
	AttrCode = attribute.Key("couponkit.code")
)

// The metrics' names.
const (
	// MetricOperations counts operations, by AttrOperation and AttrOutcome.
	MetricOperations = "couponkit.operations"
	// MetricDuration is the latency of operations in seconds, by
	// AttrOperation and AttrOutcome.
	MetricDuration = "couponkit.operation.duration"
	// MetricRefusals counts the codes of refusals, by AttrOperation and
	// AttrCode: a refusal with two codes counts once under each.
	MetricRefusals = "couponkit.refusals"
)

// Observer is an observe.Observer reporting to OpenTelemetry. It is safe
// for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	ops      metric.Int64Counter
	duration metric.Float64Histogram
	refusals metric.Int64Counter
}

var _ observe.Observer = (*Observer)(nil)

// New returns an Observer making spans with tp and metrics with mp; a nil
// provider is the global one (otel.GetTracerProvider,
// otel.GetMeterProvider).
func New(tp trace.TracerProvider, mp metric.MeterProvider) (*Observer, error) {
	if tp == nil {
		tp = gotel.GetTracerProvider()
	}
	if mp == nil {
		mp = gotel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	o := &Observer{tracer: tp.Tracer(ScopeName)}
	var err error
	if o.ops, err = meter.Int64Counter(MetricOperations,
		metric.WithDescription("couponkit operations and store calls, by operation and outcome"),
		metric.WithUnit("{operation}")); err != nil {
		return nil, err
	}
	if o.duration, err = meter.Float64Histogram(MetricDuration,
		metric.WithDescription("latency of couponkit operations and store calls"),
		metric.WithUnit("s")); err != nil {
		return nil, err
	}
	if o.refusals, err = meter.Int64Counter(MetricRefusals,
		metric.WithDescription("refusal codes of couponkit operations, by operation and code"),
		metric.WithUnit("{refusal}")); err != nil {
		return nil, err
	}
	return o, nil
}

// Start starts a span named "couponkit." and the operation's name, a
// child of ctx's span, and returns ctx with it; the function it returns
// ends the span and records the metrics. A failed operation's span has
// status Error (described by its codes, not its error's text, which may
// quote a coupon code); a refused one keeps status Unset: a refusal is an
// answer, not an error.
func (o *Observer) Start(ctx context.Context, op observe.Op) (context.Context, func(observe.Outcome)) {
	opAttr := AttrOperation.String(string(op))
	ctx, span := o.tracer.Start(ctx, "couponkit."+string(op), trace.WithAttributes(opAttr))
	return ctx, func(out observe.Outcome) {
		outcome := AttrOutcome.String(out.Result.String())
		span.SetAttributes(outcome)
		if len(out.Codes) > 0 {
			cs := make([]int64, len(out.Codes))
			for i, c := range out.Codes {
				cs[i] = int64(c)
			}
			span.SetAttributes(AttrCodes.Int64Slice(cs))
		}
		if out.Result == observe.Failed {
			span.SetStatus(codes.Error, failure(out))
		}
		span.End()
		set := metric.WithAttributeSet(attribute.NewSet(opAttr, outcome))
		o.ops.Add(ctx, 1, set)
		o.duration.Record(ctx, out.Latency.Seconds(), set)
		if out.Result == observe.Refused {
			for _, c := range out.Codes {
				o.refusals.Add(ctx, 1, metric.WithAttributes(opAttr, AttrCode.Int64(int64(c))))
			}
		}
	}
}

// failure describes a failed outcome by its codes: "failed" or "failed:
// 1301 conflict".
func failure(out observe.Outcome) string {
	s := "failed"
	for i, c := range out.Codes {
		if i == 0 {
			s += ":"
		}
		s += " " + strconv.Itoa(int(c)) + " " + c.String()
	}
	return s
}
