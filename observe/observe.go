// Package observe is how couponkit reports what it does to metrics and
// tracing: an Observer is told when each engine operation and each store
// call starts, and how it ended (Outcome): done, refused with the codes of
// package errcode, or failed; and how long it took.
//
// The engine calls the Observer of its Config (couponkit.Config.Observer)
// once per public operation and, through the store wrapper Store, once per
// store call the operation makes. Without an Observer nothing is measured
// and nothing is allocated for it.
//
// Nothing the package reports carries a coupon code: operation names,
// outcomes, codes of package errcode and latencies only. Mask turns a
// code into the form couponkit's logs show.
package observe

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Observer is told of every operation it observes. Start is called when
// op starts, with the operation's context; the context it returns is the
// one the operation runs with (a tracer puts its span there, so that the
// store calls of the operation are its children), and the function it
// returns is called exactly once, when op ends, with its outcome.
//
// An Observer is called from many goroutines at once; Start and the
// function it returns must be safe for concurrent use and must not block
// for long. Start must return a non-nil function.
type Observer interface {
	Start(ctx context.Context, op Op) (context.Context, func(Outcome))
}

// Op names an operation: an engine operation by its method's name
// ("Redeem", "ApplyJournal"), a store call by "store." and its method's
// name ("store.Apply", "store.ReadCode").
type Op string

// IsStore reports whether op is a store call.
func (op Op) IsStore() bool { return len(op) > 6 && op[:6] == "store." }

// Result is how an operation ended.
type Result uint8

// The results.
const (
	// OK: the operation did what was asked (a repeated request answered
	// with its first result included).
	OK Result = iota + 1
	// Refused: the rules, the input or the records said no: a refusal of
	// package refusal, an invalid argument, a record not found, a limit
	// or guard reached, a key used before. The caller is told why
	// (Outcome.Codes); nothing is wrong with the system.
	Refused
	// Failed: the operation could not be carried out: the store could not
	// be reached, the context ended, concurrent changes kept winning
	// (errcode.Conflict), or an error without a code of package errcode.
	Failed
)

// String returns "ok", "refused" or "failed".
func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case Refused:
		return "refused"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Outcome is how one operation ended.
type Outcome struct {
	Result Result
	// Codes are the codes of package errcode the error carries, in order,
	// each once: a refusal's codes, or those of a failure (Conflict,
	// Unavailable). Empty when the operation succeeded.
	Codes []errcode.Code
	// Err is the operation's error; nil when it succeeded. Its text may
	// hold the caller's data (a code, a customer): report Codes instead.
	Err error
	// Latency is how long the operation took.
	Latency time.Duration
}

// OutcomeOf is the Outcome of an operation that returned err after
// latency: its Result and Codes as Classify gives them.
func OutcomeOf(err error, latency time.Duration) Outcome {
	r, codes := Classify(err)
	return Outcome{Result: r, Codes: codes, Err: err, Latency: latency}
}

// Classify tells how an operation that returned err ended, and the codes
// of package errcode that err carries (every *errcode.Error in its tree,
// see errcode.All, each code once). Nil is OK. An error is Failed when it
// carries no code, when the context ended (context.Canceled,
// context.DeadlineExceeded) or when one of its codes is errcode.Conflict
// or errcode.Unavailable; otherwise it is Refused.
func Classify(err error) (Result, []errcode.Code) {
	if err == nil {
		return OK, nil
	}
	var codes []errcode.Code
	failed := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	for _, ce := range errcode.All(err) {
		if ce.Code == errcode.Conflict || ce.Code == errcode.Unavailable {
			failed = true
		}
		if !slices.Contains(codes, ce.Code) {
			codes = append(codes, ce.Code)
		}
	}
	if failed || len(codes) == 0 {
		return Failed, codes
	}
	return Refused, codes
}
