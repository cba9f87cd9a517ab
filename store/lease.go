package store

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// LeaseStore is an optional interface: a Store that keeps the leases the
// central grants to tills (package lease) implements it, and then applies
// the lease parts of a Change (Change.Leases, Change.LeaseOps) atomically
// with the rest, so that a grant and the series' counter bump that pays
// for it are written together or not at all. The engine gives lease parts
// only to a store that implements LeaseStore; a store that does not
// ignores fields it does not know.
//
// Lookups that find nothing return an error matching errcode.ErrNotFound;
// Leases returns an empty list and no error instead.
type LeaseStore interface {
	// Lease returns the lease with the given id.
	Lease(ctx context.Context, id string) (lease.Lease, error)
	// Leases returns the leases that match q, ordered by id.
	Leases(ctx context.Context, q LeaseQuery) ([]lease.Lease, error)
	// LeaseOp returns the record of the call the till made with the given
	// idempotency key.
	LeaseOp(ctx context.Context, till, key string) (lease.Op, error)
	// TillEntry returns the journal entry the till uploaded with the
	// given key, as the central recorded it.
	TillEntry(ctx context.Context, till, key string) (lease.Entry, error)
	// TillEntries returns the recorded journal entries that match q,
	// ordered by till and key.
	TillEntries(ctx context.Context, q TillEntryQuery) ([]lease.Entry, error)
}

// LeaseWrite inserts a lease, when ExpectVersion is 0, or replaces the
// stored lease whose Version is ExpectVersion. The lease written has
// Version ExpectVersion+1 (the transitions of package lease set it). See
// Check for the rule.
type LeaseWrite struct {
	Lease         lease.Lease
	ExpectVersion int64
}

// Check is the contract's rule for one lease write, for stores that check
// it in Go: stored is the lease stored under w.Lease.ID and found whether
// there is one. An empty id, a till or series left empty or a Version
// other than ExpectVersion+1 is an errcode.InvalidArgument error; an
// insert of a stored id an *ExistsError of Kind "lease"; an update of a
// lease that is missing or at another version a *ConflictError of Kind
// "lease".
func (w *LeaseWrite) Check(stored *lease.Lease, found bool) error {
	l := &w.Lease
	switch {
	case l.ID == "" || l.Till == "" || l.SeriesID == "":
		return errcode.New(errcode.InvalidArgument, "Leases.Lease", "needs an id, a till and a series")
	case l.Version != w.ExpectVersion+1:
		return errcode.New(errcode.InvalidArgument, "Leases.Lease.Version", "must be ExpectVersion+1")
	case w.ExpectVersion == 0 && found:
		return &ExistsError{Kind: "lease", Key: l.ID}
	case w.ExpectVersion != 0 && (!found || stored.Version != w.ExpectVersion):
		return &ConflictError{Kind: "lease", ID: l.ID}
	}
	return nil
}

// CheckLeaseOp is the contract's rule for inserting op, for stores that
// check it in Go: taken reports whether an op of the same till and key is
// stored. An empty till or key is an errcode.InvalidArgument error; a
// taken one an *ExistsError of Kind "lease op" (Key till/key).
func CheckLeaseOp(op *lease.Op, taken bool) error {
	switch {
	case op.Till == "" || op.Key == "":
		return errcode.New(errcode.InvalidArgument, "LeaseOps", "needs a till and a key")
	case taken:
		return &ExistsError{Kind: "lease op", Key: op.Till + "/" + op.Key}
	}
	return nil
}

// LeaseQuery selects leases. Zero fields select everything; every set
// field must match.
type LeaseQuery struct {
	Till     string
	SeriesID string
	Status   lease.Status
	// EndsBefore keeps leases whose End is not after this time.
	EndsBefore time.Time
	// AfterID keeps leases with ids greater than this, for paging.
	AfterID string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// Match reports whether l passes every set field of q but Limit: the rule
// of Leases, for a store that filters in Go.
func (q *LeaseQuery) Match(l *lease.Lease) bool {
	switch {
	case q.Till != "" && l.Till != q.Till,
		q.SeriesID != "" && l.SeriesID != q.SeriesID,
		q.Status != 0 && l.Status != q.Status,
		!q.EndsBefore.IsZero() && l.End.After(q.EndsBefore),
		q.AfterID != "" && l.ID <= q.AfterID:
		return false
	}
	return true
}

// validateLeases is Validate's part for leases: a lease id among Leases
// twice, a (till, key) among LeaseOps twice, or among TillEntries and
// TillEntryUpdates together twice.
func (c *Change) validateLeases() error {
	if id, ok := firstRepeat(len(c.Leases), func(i int) string { return c.Leases[i].Lease.ID }); ok {
		return &TwiceError{Kind: "lease", Key: id}
	}
	type opKey struct{ till, key string }
	if k, ok := firstRepeat(len(c.LeaseOps), func(i int) opKey { return opKey{c.LeaseOps[i].Till, c.LeaseOps[i].Key} }); ok {
		return &TwiceError{Kind: "lease op", Key: k.till + "/" + k.key}
	}
	n := len(c.TillEntries)
	entryKey := func(i int) opKey {
		if i < n {
			return opKey{c.TillEntries[i].Till, c.TillEntries[i].Key}
		}
		e := &c.TillEntryUpdates[i-n].Entry
		return opKey{e.Till, e.Key}
	}
	if k, ok := firstRepeat(n+len(c.TillEntryUpdates), entryKey); ok {
		return &TwiceError{Kind: "till entry", Key: k.till + "/" + k.key}
	}
	return nil
}
