package store

import (
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// CheckTillEntry is the contract's rule for inserting e, for stores that
// check it in Go: taken reports whether an entry of the same till and key
// is stored. An empty till, key, lease or series is an
// errcode.InvalidArgument error; a taken key an *ExistsError of Kind "till
// entry" (Key till/key).
func CheckTillEntry(e *lease.Entry, taken bool) error {
	switch {
	case e.Till == "" || e.Key == "" || e.LeaseID == "" || e.SeriesID == "":
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
