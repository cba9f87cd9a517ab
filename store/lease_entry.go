package store

import (
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// CheckTillEntry is the contract's rule for inserting e, for stores that
// check it in Go: taken reports whether an entry of the same till and key
// is stored. An empty till, key or series, or an empty lease on an entry
// that is not Online (a use decided online may draw on no lease), is an
// errcode.InvalidArgument error; a taken key an *ExistsError of Kind "till
// entry" (Key till/key).
func CheckTillEntry(e *lease.Entry, taken bool) error {
	switch {
	case e.Till == "" || e.Key == "" || e.SeriesID == "" || (e.LeaseID == "" && !e.Online):
		return errcode.New(errcode.InvalidArgument, "TillEntries", "needs a till, a key, a lease and a series")
	case taken:
		return &ExistsError{Kind: "till entry", Key: e.Till + "/" + e.Key}
	}
	return nil
}

// TillEntryQuery selects recorded journal entries. Zero fields select
// everything; every set field must match.
type TillEntryQuery struct {
	Till     string
	SeriesID string
	LeaseID  string
	// Conflicted keeps only entries with conflicts.
	Conflicted bool
}

// Match reports whether e passes every set field of q: the rule of
// TillEntries, for a store that filters in Go.
func (q *TillEntryQuery) Match(e *lease.Entry) bool {
	switch {
	case q.Till != "" && e.Till != q.Till,
		q.SeriesID != "" && e.SeriesID != q.SeriesID,
		q.LeaseID != "" && e.LeaseID != q.LeaseID,
		q.Conflicted && !e.Conflicted():
		return false
	}
	return true
}

// CompareTillEntries orders entries by till, then key: the order of
// TillEntries.
func CompareTillEntries(a, b *lease.Entry) int {
	switch {
	case a.Till < b.Till:
		return -1
	case a.Till > b.Till:
		return 1
	case a.Key < b.Key:
		return -1
	case a.Key > b.Key:
		return 1
	}
	return 0
}

// TillEntryUpdate replaces the recorded entry of Entry's till and key,
// which must be stored with Reversed equal to ExpectReversed (the zero
// time: a use not given back yet). Its lease, series and key stay those
// of the stored entry. See CheckTillEntryUpdate for the rule.
type TillEntryUpdate struct {
	Entry          lease.Entry
	ExpectReversed time.Time
}

// CheckTillEntryUpdate is the contract's rule for one entry update, for
// stores that check it in Go: stored is the entry stored under u's till
// and key, and found whether there is one. An empty till or key, or a
// lease or series other than the stored one, is an
// errcode.InvalidArgument error; an entry that is missing, or whose
// Reversed is not ExpectReversed, a *ConflictError of Kind "till entry"
// (ID till/key).
func CheckTillEntryUpdate(u *TillEntryUpdate, stored *lease.Entry, found bool) error {
	e := &u.Entry
	switch {
	case e.Till == "" || e.Key == "":
		return errcode.New(errcode.InvalidArgument, "TillEntryUpdates", "needs a till and a key")
	case !found || !stored.Reversed.Equal(u.ExpectReversed):
		return &ConflictError{Kind: "till entry", ID: e.Till + "/" + e.Key}
	case stored.LeaseID != e.LeaseID || stored.SeriesID != e.SeriesID:
		return errcode.New(errcode.InvalidArgument, "TillEntryUpdates", "an update keeps the entry's lease and series")
	}
	return nil
}
