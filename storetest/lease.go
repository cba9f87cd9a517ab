package storetest

import (
	"testing"

	"github.com/couponkit/couponkit/store"
)

// RunLeases runs the lease tier, as the subtest Leases, for a store that
// keeps tills' leases (store.LeaseStore); on any other store its subtests
// skip. Contract: Change.Leases and Change.LeaseOps are written atomically
// with the rest of their change (a change refused by a guard, a version
// or a unique key writes no lease and no op, and a lease or op refused
// writes none of the rest), under each lease's version guard, its unique
// id and each op's unique (till, key); each record reads back as written;
// Leases matches, orders and pages as store.LeaseQuery documents.
// Entries: Change.TillEntries are inserted with the rest of their change,
// once per (till, key), and read back by key and by store.TillEntryQuery.
// Engine:
// the engine's lease operations over the store keep the invariants of
// package lease (series uses counted = uses made centrally + what leases
// hold; used + returned + reclaimed + left = granted), answer a repeated
// call with its first result, and never pass a series' limit. Sync: a
// till's journal entries are recorded exactly once, evaluated at their
// sale time, counted on their lease (on the series after a reclaim), and
// the uses the central would have refused are recorded as conflicts and
// reported. Online: a till's use decided online (RedeemAtTill) draws on
// its lease, is recorded once per (till, key) with the journal whichever
// comes first, also when both race, and a refused one changes nothing.
// Money: a lease of a series with a budget holds a slice of it, counted
// on the series' budget counter under its cap at once (never past it, also
// when grants race), spent by the till's uses counted on the lease, and
// given back by a return, a reversal (to the series) and a reclaim.
// Reverse: a reversal in the journal gives its use back to the series and
// its levels once, never to the lease, and the series' counter keeps
// the invariant of package lease with reversals; conflicted uses are
// counted on their lease against its allowance. Feed: a till's sync down
// carries its own series' events only and resumes past the others; a
// lease call tells what the series has left.
//
// Run does not include it yet: a store that keeps leases runs it beside
// Run.
func RunLeases(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Leases", func(t *testing.T) {
		t.Run("Contract", func(t *testing.T) { h.each(t, leaseContractTests) })
		t.Run("Entries", func(t *testing.T) { h.each(t, leaseEntryContractTests) })
		t.Run("Engine", func(t *testing.T) { h.each(t, leaseEngineTests) })
		t.Run("Sync", func(t *testing.T) { h.each(t, leaseSyncTests) })
		t.Run("Online", func(t *testing.T) { h.each(t, leaseOnlineTests) })
		t.Run("Reverse", func(t *testing.T) { h.each(t, leaseReverseTests) })
		t.Run("Money", func(t *testing.T) { h.each(t, leaseMoneyTests) })
		t.Run("Feed", func(t *testing.T) { h.each(t, leaseFeedTests) })
	})
}
