package lease

import (
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Kind is what a till asked of the central about a lease.
type Kind uint8

const (
	// Grant makes a new lease.
	Grant Kind = iota + 1
	// Renew moves a lease's End later.
	Renew
	// TopUp grants more on an open lease.
	TopUp
	// Return gives back part of what a lease has left.
	Return
)

var kindNames = [...]string{Grant: "grant", Renew: "renew", TopUp: "top up", Return: "return"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Op is the record of one call a till made about a lease, kept so that a
// retry of the call is answered with its first result. Stores keep one Op
// per (Till, Key).
type Op struct {
	Till string `json:"till"`
	Key  string `json:"key"`
	Kind Kind   `json:"kind"`
	// LeaseID is the lease the call acted on (for Grant, the one it made).
	LeaseID  string `json:"lease_id"`
	SeriesID string `json:"series_id"`
	// Slice is what was granted, added or returned (zero for Renew).
	Slice Slice `json:"slice"`
	// End is the End asked for by Grant and Renew (zero otherwise).
	End time.Time `json:"end,omitzero"`
	At  time.Time `json:"at"`
	// Lease is the lease as the call left it: the first result.
	Lease Lease `json:"lease"`
}

// Same checks that want, a call repeated with o's till and key, asks what o
// did: the same kind, lease (for calls on an existing lease), series,
// slice and End. Otherwise it returns an error matching
// errcode.ErrKeyMismatch naming the first field that differs.
func (o *Op) Same(want *Op) error {
	mismatch := func(field, what string) error {
		return errcode.New(errcode.KeyMismatch, field, "the idempotency key was used for "+what+"; use a new key for a new request")
	}
	switch {
	case o.Kind != want.Kind:
		return mismatch("Key", "a "+o.Kind.String()+", not a "+want.Kind.String())
	case want.Kind != Grant && o.LeaseID != want.LeaseID:
		return mismatch("LeaseID", "another lease")
	case want.SeriesID != "" && o.SeriesID != want.SeriesID:
		return mismatch("SeriesID", "another series")
	case o.Slice != want.Slice:
		return mismatch("Uses", o.Slice.String())
	case !o.End.Equal(want.End):
		return mismatch("End", "another end, "+o.End.UTC().Format(time.RFC3339))
	}
	return nil
}
