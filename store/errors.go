package store

import (
	"fmt"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
)

// GuardError reports the counter guard that refused a change. It matches
// errcode.ErrGuardFailed.
type GuardError struct {
	Key   CounterKey
	Guard limits.Guard
	Count Count // the value the guard saw
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("couponkit: guard failed (%d): %s of series %q at %d, limit %s, min gap %s",
		errcode.GuardFailed, e.Key.Counter, e.Key.Series, e.Count.N, e.Guard.Limit, e.Guard.MinGap)
}

// Unwrap returns an *errcode.Error with code GuardFailed, for errors.As.
func (e *GuardError) Unwrap() error {
	return errcode.New(errcode.GuardFailed, e.Key.Counter.String(), "")
}

// ConflictError reports that a record changed since it was read: a version
// or status expectation did not hold, or a counter would go negative; or,
// with Kind "transaction", that the database refused the transaction as a
// whole (a serialization failure, a deadlock, a busy database: ID is the
// database's message) and wrote nothing of it. It is retryable: read
// again, decide again (a write that decides nothing may simply be made
// again). The store does not retry it itself (see the package
// documentation). It matches errcode.ErrConflict.
type ConflictError struct {
	Kind string // "series", "coupon", "redemption", "counter", "sequence", "audience" (series/customer) or "transaction"
	ID   string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("couponkit: conflict (%d): %s %q changed concurrently", errcode.Conflict, e.Kind, e.ID)
}

// Unwrap returns an *errcode.Error with code Conflict, for errors.As.
func (e *ConflictError) Unwrap() error { return errcode.New(errcode.Conflict, e.Kind, e.ID) }

// ExistsError reports an insert that collides with a unique key. It matches
// errcode.ErrAlreadyExists.
type ExistsError struct {
	Kind string // "series", "coupon", "redemption", "audience" (Key series/customer) or "issue" (Key series/IssueKey)
	Key  string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("couponkit: already exists (%d): %s %q", errcode.AlreadyExists, e.Kind, e.Key)
}

// Unwrap returns an *errcode.Error with code AlreadyExists, for errors.As.
func (e *ExistsError) Unwrap() error { return errcode.New(errcode.AlreadyExists, e.Kind, e.Key) }

// TwiceError reports a change that writes one record more than once
// (see Change.Validate): a store refuses it whole, whatever it holds. It
// matches errcode.ErrInvalidArgument.
type TwiceError struct {
	Kind string // "coupon", "redemption" (Key the id), "counter" (Key as CounterKey.String) or "audience" (Key series/customer)
	Key  string
}

func (e *TwiceError) Error() string {
	return fmt.Sprintf("couponkit: invalid change (%d): %s %q is written twice", errcode.InvalidArgument, e.Kind, e.Key)
}

// Unwrap returns an *errcode.Error with code InvalidArgument, for
// errors.As.
func (e *TwiceError) Unwrap() error {
	return errcode.New(errcode.InvalidArgument, "Change", e.Kind+" "+e.Key+" is written twice")
}

// NotFound returns the error a store gives for a missing record of the given
// kind ("series", "coupon", "redemption").
func NotFound(kind, id string) error {
	return errcode.New(errcode.NotFound, kind, fmt.Sprintf("no %s %q", kind, id))
}
