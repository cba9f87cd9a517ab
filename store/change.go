package store

import (
	"math"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// Change is one atomic unit of work for Store.Apply. A store applies the
// parts in this order, inside one transaction: series, coupon inserts,
// coupon updates, redemption inserts, redemption updates, audience
// updates, events, counter bumps, notices, sequence advance. The guarded
// counter bumps and the sequence advance come last so that locks on hot
// counters and on a series' code sequence are held for the shortest time.
//
// A change writes each record at most once: one insert or one update of a
// coupon or a redemption (by id), one bump of a counter (by key), one
// update of an audience member (by series and customer). Each part is
// therefore checked against the stored state alone, never against another
// part of the same change. Every store checks this first, with Validate,
// and refuses a change that breaks it with Validate's *TwiceError, writing
// nothing; the engine never builds one (it merges what it would write
// twice: IssueBatch bumps a counter once by the number of coupons it
// issues on it).
//
// A store must not keep c, or any slice it holds, after Apply returns: the
// engine reuses them. Copy what you store.
type Change struct {
	// Series, when set, is written: inserted when ExpectVersion is 0 (an
	// existing id is an *ExistsError), else updated only if the stored
	// version equals ExpectVersion (else a *ConflictError).
	Series *SeriesWrite
	// NewCoupons are inserted; a collision on (series, canonical code,
	// slot) or on id is an *ExistsError of kind "coupon", and on (series,
	// IssueKey), for a coupon with an IssueKey, one of kind "issue".
	NewCoupons []coupon.Coupon
	// Coupons are updated, each only if its stored Version equals
	// ExpectVersion; otherwise the change fails with a *ConflictError. An
	// update that takes a unique key another coupon keeps fails as an
	// insert would.
	Coupons []CouponUpdate
	// NewRedemptions are inserted; a collision on id or on (coupon,
	// idempotency key) is an *ExistsError.
	NewRedemptions []coupon.Redemption
	// Redemptions are updated, each only if its stored Status equals
	// ExpectStatus; otherwise a *ConflictError.
	Redemptions []RedemptionUpdate
	// Bumps change counters, each checked against its guard (see Bump).
	Bumps []Bump
	// Events are appended.
	Events []coupon.Event
	// Audience adds customers to audience lists and removes them; see
	// AudienceUpdate.
	Audience []AudienceUpdate
	// Notices are events appended only when the change's bumps take a
	// counter across a value; see Notice.
	Notices []Notice
	// Sequence, when set, advances a series' code sequence in the same
	// transaction (see SequenceAdvance): the change that inserts minted
	// codes also moves the sequence past them, so that a change refused or
	// failed leaves the sequence where it was.
	Sequence *SequenceAdvance
	// Leases insert and update tills' leases, and LeaseOps record the
	// tills' calls that wrote them, in the same transaction (see
	// LeaseStore, LeaseWrite and CheckLeaseOp). Only a store that
	// implements LeaseStore is given them.
	Leases   []LeaseWrite
	LeaseOps []lease.Op
	// TillEntries are inserted: the tills' journal entries as the central
	// recorded them, one per till and key (see CheckTillEntry). Only a
	// store that implements LeaseStore is given them.
	TillEntries []lease.Entry
	// TillEntryUpdates replace recorded entries, guarded by their Reversed
	// time (see TillEntryUpdate): a use given back is marked so once.
	// Only a store that implements LeaseStore is given them.
	TillEntryUpdates []TillEntryUpdate
}

// SequenceAdvance moves the next index of a series' code sequence (see
// Store.NextIndex) from From to To. The store checks that the stored next
// index equals From, else the change fails with a *ConflictError (Kind
// "sequence", ID the series id) and writes nothing; then it sets the next
// index to To. A sequence never advanced stands at 0. From must not be
// negative and To not below From, else the change fails with an
// errcode.InvalidArgument error.
//
// The engine reads the next index, makes the codes of the indexes from
// From to To-1, and applies them with this advance: two changes that read
// the same index cannot both be applied, so an index is never used twice
// and never skipped.
type SequenceAdvance struct {
	SeriesID string
	From, To int64
}

// Next returns the next index after a when it stood at cur: the contract's
// rule for a sequence advance, for stores that check it in Go. It is an
// errcode.InvalidArgument error when From is negative or To below From, a
// *ConflictError when cur is not From, else To.
func (a *SequenceAdvance) Next(cur int64) (int64, error) {
	if err := a.Validate(); err != nil {
		return cur, err
	}
	if cur != a.From {
		return cur, &ConflictError{Kind: "sequence", ID: a.SeriesID}
	}
	return a.To, nil
}

// Validate reports an advance that no stored index could pass: a negative
// From or a To below From, as an errcode.InvalidArgument error.
func (a *SequenceAdvance) Validate() error {
	switch {
	case a.From < 0:
		return errcode.New(errcode.InvalidArgument, "Sequence.From", "must not be negative")
	case a.To < a.From:
		return errcode.New(errcode.InvalidArgument, "Sequence.To", "must not be below From")
	}
	return nil
}

// Notice is an event a change appends on a condition the store checks
// once its bumps are applied: that the counter named by Key stood below
// Reach before the change and stands at Reach or above after it. The
// event then follows the change's Events; otherwise it is left out and
// the change is applied without it. A counter the change does not bump
// never crosses.
//
// The engine records with it, in the same atomic step, that one of many
// concurrent issues took a series past a threshold: counters move one
// change at a time under their guards, so exactly one change sees the
// crossing. The store decides nothing but the comparison of numbers.
type Notice struct {
	Key   CounterKey
	Reach int64
	Event coupon.Event
}

// Crossed reports whether a counter that the change took from before to
// after crossed n's value: the contract's rule, for stores that check
// notices in Go.
func (n *Notice) Crossed(before, after int64) bool {
	return before < n.Reach && n.Reach <= after
}

// SeriesWrite is a series insert or version-guarded update.
type SeriesWrite struct {
	Series        series.Series
	ExpectVersion int64
}

// CouponUpdate replaces a stored coupon whose Version is ExpectVersion by
// Coupon (whose Version is normally ExpectVersion+1).
type CouponUpdate struct {
	Coupon        coupon.Coupon
	ExpectVersion int64
}

// RedemptionUpdate replaces a stored redemption whose Status is
// ExpectStatus by Redemption.
type RedemptionUpdate struct {
	Redemption   coupon.Redemption
	ExpectStatus coupon.RedemptionStatus
}

// AudienceUpdate adds a customer to a series' audience list or, with
// Remove, takes one off it. The store only stores: adding a customer who is
// already on the list fails the change with an *ExistsError of Kind
// "audience", and removing one who is not on it with a *ConflictError of
// Kind "audience". The engine reads the list first and leaves those
// customers out (a no-op that records no event), and reads again when a
// concurrent change makes its read stale. An empty SeriesID or Customer is
// an errcode.InvalidArgument error.
type AudienceUpdate struct {
	SeriesID string
	Customer string
	Remove   bool
	// At is when the customer is added, kept as AudienceMember.AddedAt;
	// unused by a removal.
	At time.Time
}

// Bump adds Delta to a counter.
//
// For Delta > 0 the store first checks Guard against the counter's current
// value and last-increment time at At (limits.Guard.Check); if it refuses,
// the whole change fails with a *GuardError. It then adds Delta and sets
// the last-increment time to At. A bump of Delta > 1 is Delta increments
// of one at At, each checked in turn against the value the one before
// leaves: it passes when the counter stays below the limit after Delta-1
// of them, and only the first sees the stored last-increment time, so a
// guard with a gap refuses any Delta > 1.
//
// For Delta < 0 the guard is not checked; a decrement below zero fails the
// change with a *ConflictError (counters never go negative). The
// last-increment time is kept, unless Rewind is set.
//
// A zero Delta changes nothing; After reads the counter. Next is the rule.
type Bump struct {
	Key   CounterKey
	Delta int64
	Guard limits.Guard
	At    time.Time
	// Rewind, for a decrement, also sets the counter's last-increment time
	// (see Rewind); a store ignores it on an increment.
	Rewind *Rewind
	// After is set by a successful Apply to the counter's value after
	// the bump.
	After Count
}

// Rewind lets a decrement that gives a use back move the counter's
// last-increment time back to the time of the use before it, which the
// engine finds in the records: the redemption gap counts from the
// customer's last use that still counts. The store checks that the counter
// is exactly Expect (count and last-increment time, compared as instants;
// the zero Count for a counter never bumped), else the change fails with a
// *ConflictError and writes nothing; then it applies the decrement and sets
// the last-increment time to Last (the zero time: none). Expect is the
// value the engine read before it read the records, so that a use or a
// give-back of the same counter that commits in between, which may change
// what Last should be, makes the change conflict instead of being
// overwritten.
type Rewind struct {
	Expect Count
	Last   time.Time
}

// Next returns the counter's value after b when it stood at cur: the
// contract's rule for one bump, which every store applies (in Go, or by a
// statement whose condition is the same rule). For Delta > 0 it is a
// *GuardError when Guard refuses one of the Delta increments at At (see
// Bump), else N+Delta with Last set to At; for Delta < 0 it is a
// *ConflictError when N would go below zero or, with Rewind, when cur is
// not Rewind.Expect, else N+Delta with Last kept or, with Rewind, set to
// Rewind.Last; a zero Delta changes nothing. An increment past the largest
// int64 is an errcode.InvalidArgument error.
func (b *Bump) Next(cur Count) (Count, error) {
	switch {
	case b.Delta > 0:
		if cur.N > math.MaxInt64-b.Delta {
			return cur, errcode.New(errcode.InvalidArgument, "Bump.Delta", "the counter would pass the largest int64")
		}
		if !b.Guard.Check(cur.N, cur.Last, b.At) || b.Delta > 1 && !b.Guard.Check(cur.N+b.Delta-1, b.At, b.At) {
			return cur, &GuardError{Key: b.Key, Guard: b.Guard, Count: cur}
		}
		cur.N += b.Delta
		cur.Last = b.At
	case b.Delta < 0:
		r := b.Rewind
		if cur.N+b.Delta < 0 || r != nil && (cur.N != r.Expect.N || !cur.Last.Equal(r.Expect.Last)) {
			return cur, &ConflictError{Kind: "counter", ID: b.Key.String()}
		}
		cur.N += b.Delta
		if r != nil {
			cur.Last = r.Last
		}
	}
	return cur, nil
}

// Slot is the part of a coupon's unique key beside its series and canonical
// code: the holder for a coupon of a shared (common) code, which has one
// coupon per customer, and "" otherwise. Stores enforce uniqueness of
// (series, canonical code, slot).
func Slot(c *coupon.Coupon) string {
	if c.Shared {
		return c.Holder
	}
	return ""
}
