package couponkit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
)

// DefaultSlowOperation is the latency from which an engine with a logger
// logs an operation as slow, when Config.SlowOperation is zero.
const DefaultSlowOperation = 250 * time.Millisecond

// opState is one engine operation being observed: made by begin only when
// the engine has an Observer or a logger, so that an engine without them
// spends a nil check on each operation and nothing more.
type opState struct {
	e     *Engine
	ctx   context.Context
	op    observe.Op
	code  string // the code the operation names, if any; logged masked
	start time.Time
	done  func(observe.Outcome) // the Observer's; nil without one
}

// opKey keys the *opState of the running operation in its context, for
// the logs of its retries.
type opKey struct{}

// begin starts observing op, whose caller named code (or ""), and returns
// the context the operation runs with and the state to end: call end once
// with the operation's error. Both are as given, and the state nil, when
// the engine has neither Observer nor logger.
func (e *Engine) begin(ctx context.Context, op observe.Op, code string) (context.Context, *opState) {
	if e.obs == nil && e.log == nil {
		return ctx, nil
	}
	return e.beginObserved(ctx, op, code)
}

func (e *Engine) beginObserved(ctx context.Context, op observe.Op, code string) (context.Context, *opState) {
	s := &opState{e: e, op: op, code: code}
	if e.obs != nil {
		ctx, s.done = e.obs.Start(ctx, op)
	}
	if e.log != nil {
		ctx = context.WithValue(ctx, opKey{}, s)
	}
	s.ctx, s.start = ctx, time.Now()
	return ctx, s
}

// end reports the end of the operation, which returned *err: to the
// Observer, and to the log when it failed, was refused (at level Debug)
// or was slow. A nil s does nothing.
func (s *opState) end(err *error) {
	if s != nil {
		s.ended(*err)
	}
}

func (s *opState) ended(err error) {
	o := observe.OutcomeOf(err, time.Since(s.start))
	if s.done != nil {
		s.done(o)
	}
	log := s.e.log
	if log == nil {
		return
	}
	switch o.Result {
	case observe.Failed:
		log.LogAttrs(s.ctx, slog.LevelWarn, "couponkit: operation failed", s.attrs(slog.Duration("latency", o.Latency), s.errAttr(err))...)
	case observe.Refused:
		log.LogAttrs(s.ctx, slog.LevelDebug, "couponkit: operation refused", s.attrs(slog.Any("codes", codeInts(o)))...)
	}
	if o.Latency >= s.e.slow {
		log.LogAttrs(s.ctx, slog.LevelWarn, "couponkit: slow operation", s.attrs(slog.Duration("latency", o.Latency), slog.String("result", o.Result.String()))...)
	}
}

// attrs are the attributes of every log line about the operation: its
// name, its code masked, then more.
func (s *opState) attrs(more ...slog.Attr) []slog.Attr {
	as := make([]slog.Attr, 0, 2+len(more))
	as = append(as, slog.String("op", string(s.op)))
	if s.code != "" {
		as = append(as, slog.String("code", observe.Mask(s.code)))
	}
	return append(as, more...)
}

// errAttr is how a log shows err: the codes of package errcode it carries,
// or, for an error without any, its text with the operation's code
// masked. The text of an error with codes is never logged: it may quote
// the caller's code or customer.
func (s *opState) errAttr(err error) slog.Attr {
	if _, codes := observe.Classify(err); len(codes) > 0 {
		return slog.Any("codes", codeInts(observe.Outcome{Codes: codes}))
	}
	text := err.Error()
	if s.code != "" {
		text = strings.ReplaceAll(text, s.code, observe.Mask(s.code))
	}
	return slog.String("err", text)
}

func codeInts(o observe.Outcome) []int {
	out := make([]int, len(o.Codes))
	for i, c := range o.Codes {
		out[i] = int(c)
	}
	return out
}

// opOf returns the operation running in ctx, when the engine logs.
func opOf(ctx context.Context) *opState {
	s, _ := ctx.Value(opKey{}).(*opState)
	return s
}

// logRetry logs, at level Debug, that attempt (counted from 0) met err,
// a conflict or failed guard, and the operation runs again.
func (e *Engine) logRetry(ctx context.Context, err error, attempt int) {
	e.logOp(ctx, slog.LevelDebug, "couponkit: retrying", slog.Int("attempt", attempt+1), slog.String("conflict", conflictKind(err)))
}

// logGaveUp logs, at level Warn, that the operation stopped retrying after
// attempts attempts, the last of which met err.
func (e *Engine) logGaveUp(ctx context.Context, err error, attempts int) {
	e.logOp(ctx, slog.LevelWarn, "couponkit: gave up", slog.Int("attempts", attempts), slog.String("conflict", conflictKind(err)))
}

// logOp logs msg about the operation running in ctx.
func (e *Engine) logOp(ctx context.Context, level slog.Level, msg string, more ...slog.Attr) {
	if s := opOf(ctx); s != nil {
		more = s.attrs(more...)
	}
	e.log.LogAttrs(ctx, level, msg, more...)
}

// conflictKind names what made an attempt fail: the Kind of a
// *store.ConflictError ("coupon", "transaction", "sequence", ...), "guard"
// and the counter of a *store.GuardError, or the error's code.
func conflictKind(err error) string {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	var ge *store.GuardError
	if errors.As(err, &ge) {
		return "guard " + ge.Key.Counter.String()
	}
	_, codes := observe.Classify(err)
	if len(codes) > 0 {
		return codes[0].String()
	}
	return "unknown"
}

// logLease logs, at level Info, msg about lease l as a lease call left
// it.
func (e *Engine) logLease(ctx context.Context, msg string, l *lease.Lease, more ...slog.Attr) {
	e.logOp(ctx, slog.LevelInfo, msg, leaseAttrs(l, more...)...)
}

func leaseAttrs(l *lease.Lease, more ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("lease", l.ID), slog.String("till", l.Till), slog.String("series", l.SeriesID),
		slog.Int64("granted", l.Granted.Uses), slog.Int64("used", l.Used.Uses),
		slog.Time("end", l.End),
	}, more...)
}

// logJournal logs, at level Info, the journal batch of till that ack
// recorded: how many entries, how many conflicted, how many were
// reversals, how many were counted on the series for want of a lease.
func (e *Engine) logJournal(ctx context.Context, till string, ack *JournalAck) {
	if e.log == nil {
		return
	}
	var conflicted, reversals, onSeries int
	for i := range ack.Entries {
		x := &ack.Entries[i]
		if x.Conflicted() {
			conflicted++
		}
		if x.Reverses != "" {
			reversals++
		}
		if x.Counted == lease.OnSeries {
			onSeries++
		}
	}
	e.logOp(ctx, slog.LevelInfo, "couponkit: journal applied", slog.String("till", till),
		slog.Int("entries", len(ack.Entries)), slog.Int("conflicted", conflicted),
		slog.Int("reversals", reversals), slog.Int("on_series", onSeries))
}
