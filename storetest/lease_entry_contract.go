package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/shopspring/decimal"
)

// The till-entry part of the store contract: Change.TillEntries are
// inserted atomically with the rest of their change, once per (till,
// key), and read back by (till, key) and by query.

// leaseEntryContractTests are the till-entry subtests of the contract tier.
var leaseEntryContractTests = []test{
	{"EntryReadBack", testTillEntryReadBack},
	{"EntryOnce", testTillEntryOnce},
	{"EntryQuery", testTillEntryQuery},
	{"EntryUpdate", testTillEntryUpdate},
	{"EntryOnline", testTillEntryOnline},
}

// rawEntry is a journal entry of till under key on lease l1 of series s1.
func rawEntry(till, key string, conflicts ...refusal.Refusal) lease.Entry {
	return lease.Entry{
		Till: till, Key: key, LeaseID: "l1", SeriesID: "s1", Code: "CODE-" + key, Customer: "c1",
		Bill:     series.Money{Amount: decimal.NewFromInt(40), Currency: "EUR"},
		Discount: series.Money{Amount: decimal.NewFromInt(5), Currency: "EUR"},
		At:       t0, Applied: t0.Add(time.Hour), Counted: lease.OnLease, Conflicts: conflicts,
	}
}

func testTillEntryReadBack(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	in := rawEntry("t1", "k1", refusal.Refusal{Code: errcode.Revoked, Message: "revoked"})
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{in}}), "an entry")
	in.Conflicts[0].Message = "changed by the caller after Apply"
	got, err := ls.TillEntry(e.ctx, "t1", "k1")
	if wantOK(t, err, "TillEntry reads a stored entry") {
		same(t, got.Conflicts[0].Message, "revoked", "a store keeps its own copy of an entry's conflicts")
		same(t, got.Bill.Amount.String(), "40", "an entry's bill reads back")
		same(t, got.At.Equal(t0), true, "an entry's sale time reads back")
	}
	_, err = ls.TillEntry(e.ctx, "t2", "k1")
	wantCode(t, err, errcode.NotFound, "a key of another till: not found")
	err = e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{{Till: "t1", Key: "k2"}}})
	wantCode(t, err, errcode.InvalidArgument, "an entry with no lease or series")
}

// testTillEntryOnce checks that a (till, key) taken refuses the whole
// change, and that one change cannot write it twice.
func testTillEntryOnce(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{rawEntry("t1", "k1")}}), "an entry")
	l := rawLease("l7", "t1", "s1", 1)
	err := e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: l}}, TillEntries: []lease.Entry{rawEntry("t1", "k1")}})
	var ex *store.ExistsError
	if !errors.As(err, &ex) || ex.Kind != "till entry" {
		t.Fatalf("an entry key used again: err = %v, want an *store.ExistsError of kind till entry", err)
	}
	if _, err := ls.Lease(e.ctx, "l7"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a change refused by its entry wrote its lease: %v", err)
	}
	err = e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{rawEntry("t1", "k2"), rawEntry("t1", "k2")}})
	var tw *store.TwiceError
	if !errors.As(err, &tw) {
		t.Errorf("a change writing an entry twice: err = %v, want a *store.TwiceError", err)
	}
	if _, err := ls.TillEntry(e.ctx, "t1", "k2"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a change refused as written twice wrote its entry: %v", err)
	}
}

func testTillEntryQuery(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	b := rawEntry("t1", "b")
	b.SeriesID = "s2"
	entries := []lease.Entry{rawEntry("t2", "a"), b, rawEntry("t1", "c", refusal.Refusal{Code: errcode.Redeemed}), rawEntry("t1", "a")}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntries: entries}), "four entries")
	keys := func(q store.TillEntryQuery) []string {
		t.Helper()
		got, err := ls.TillEntries(e.ctx, q)
		mustOK(t, err, "TillEntries")
		out := []string{}
		for _, x := range got {
			out = append(out, x.Till+"/"+x.Key)
		}
		return out
	}
	same(t, keys(store.TillEntryQuery{}), []string{"t1/a", "t1/b", "t1/c", "t2/a"}, "every entry, by till and key")
	same(t, keys(store.TillEntryQuery{Till: "t1", SeriesID: "s1"}), []string{"t1/a", "t1/c"}, "a till's entries of a series")
	same(t, keys(store.TillEntryQuery{Conflicted: true}), []string{"t1/c"}, "conflicted entries")
	same(t, keys(store.TillEntryQuery{LeaseID: "l9"}), []string{}, "a lease with no entries")
}

// testTillEntryUpdate checks the guarded update that marks a use given
// back: it applies once, atomically with its change, and only to a stored
// entry whose Reversed is the one expected.
func testTillEntryUpdate(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1")
	in := rawEntry("t1", "k1")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{in}}), "an entry")
	rev := in
	rev.Reversed = t0.Add(2 * time.Hour)
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntryUpdates: []store.TillEntryUpdate{{Entry: rev}}}), "marking the use given back")
	got, err := ls.TillEntry(e.ctx, "t1", "k1")
	if wantOK(t, err, "TillEntry after the update") {
		same(t, got.Reversed.Equal(rev.Reversed), true, "the update's Reversed reads back")
	}
	again := rev
	again.Reversed = t0.Add(3 * time.Hour)
	l := rawLease("l8", "t1", "s1", 1)
	err = e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: l}}, TillEntryUpdates: []store.TillEntryUpdate{{Entry: again}}})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "till entry" {
		t.Errorf("an update expecting an unreversed entry of a reversed one: err = %v, want a *store.ConflictError of kind till entry", err)
	}
	if _, err := ls.Lease(e.ctx, "l8"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a change refused by its entry update wrote its lease: %v", err)
	}
	got, err = ls.TillEntry(e.ctx, "t1", "k1")
	if wantOK(t, err, "TillEntry after a refused update") {
		same(t, got.Reversed.Equal(rev.Reversed), true, "a refused update changes nothing")
	}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntryUpdates: []store.TillEntryUpdate{{Entry: again, ExpectReversed: rev.Reversed}}}), "an update expecting the stored Reversed")
	err = e.st.Apply(e.ctx, &store.Change{TillEntryUpdates: []store.TillEntryUpdate{{Entry: rawEntry("t1", "k9")}}})
	if !errors.As(err, &ce) {
		t.Errorf("an update of an entry not stored: err = %v, want a *store.ConflictError", err)
	}
	moved := again
	moved.LeaseID = "l2"
	err = e.st.Apply(e.ctx, &store.Change{TillEntryUpdates: []store.TillEntryUpdate{{Entry: moved, ExpectReversed: again.Reversed}}})
	if !errors.Is(err, errcode.ErrInvalidArgument) && !errors.As(err, &ce) {
		t.Errorf("an update moving the entry to another lease: err = %v, want InvalidArgument or a conflict", err)
	}
	fresh := rawEntry("t1", "k2")
	err = e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{fresh}, TillEntryUpdates: []store.TillEntryUpdate{{Entry: fresh}}})
	var tw *store.TwiceError
	if !errors.As(err, &tw) {
		t.Errorf("a change inserting and updating one entry: err = %v, want a *store.TwiceError", err)
	}
}

// testTillEntryOnline checks that an entry of a use decided online may
// name no lease, and any other may not.
func testTillEntryOnline(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	online := rawEntry("t1", "k1")
	online.LeaseID, online.Online, online.Counted = "", true, lease.OnSeries
	mustOK(t, e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{online}}), "an online entry on no lease")
	got, err := ls.TillEntry(e.ctx, "t1", "k1")
	if wantOK(t, err, "TillEntry of an online entry") {
		same(t, [2]any{got.Online, got.LeaseID}, [2]any{true, ""}, "an online entry reads back")
	}
	offline := rawEntry("t1", "k2")
	offline.LeaseID = ""
	err = e.st.Apply(e.ctx, &store.Change{TillEntries: []lease.Entry{offline}})
	wantCode(t, err, errcode.InvalidArgument, "a journal entry on no lease")
}
