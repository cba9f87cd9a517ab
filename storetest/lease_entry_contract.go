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
	e.seedSeries("s1")
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
