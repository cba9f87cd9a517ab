package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// The lease part of the store contract: Change.Leases and Change.LeaseOps
// are written atomically with the rest of their change, under their
// version guard and unique keys, and read back by id, by query and by
// (till, key).

// leaseContractTests are the lease subtests of the contract tier.
var leaseContractTests = []test{
	{"ReadBack", testLeaseReadBack},
	{"Atomic", testLeaseAtomic},
	{"Guards", testLeaseGuards},
	{"Twice", testLeaseTwice},
	{"Query", testLeaseQuery},
}

// leaseStore returns e's store as a store.LeaseStore, or skips the test.
func leaseStore(t *testing.T, e *env) store.LeaseStore {
	t.Helper()
	ls, ok := e.st.(store.LeaseStore)
	if !ok {
		t.Skip("the store keeps no leases (store.LeaseStore)")
	}
	return ls
}

// rawLease returns an open lease of uses granted to till on seriesID at t0,
// ending an hour later.
func rawLease(id, till, seriesID string, uses int64) lease.Lease {
	l, err := lease.New(lease.Params{ID: id, Till: till, SeriesID: seriesID, Slice: lease.Slice{Uses: uses}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		panic(err)
	}
	return l
}

// grantChange is the change that grants l: the lease, its op under opKey,
// and the series' use counter bumped by what it grants, under limit.
func grantChange(l lease.Lease, opKey string, limit limits.Limit) *store.Change {
	return &store.Change{
		Leases:   []store.LeaseWrite{{Lease: l}},
		LeaseOps: []lease.Op{{Till: l.Till, Key: opKey, Kind: lease.Grant, LeaseID: l.ID, SeriesID: l.SeriesID, Slice: l.Granted, End: l.End, At: t0, Lease: l}},
		Bumps: []store.Bump{{Key: key(limits.SeriesUses, l.SeriesID, "", ""), Delta: l.Granted.Uses,
			Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}, At: t0}},
	}
}

func testLeaseReadBack(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1")
	l := rawLease("l1", "till-1", "s1", 5)
	mustOK(t, e.st.Apply(e.ctx, grantChange(l, "k1", 10)), "a grant")
	got, err := ls.Lease(e.ctx, "l1")
	if wantOK(t, err, "Lease reads a stored lease") {
		same(t, got, l, "a lease reads back as written")
	}
	op, err := ls.LeaseOp(e.ctx, "till-1", "k1")
	if wantOK(t, err, "LeaseOp reads a stored op") {
		same(t, op.Lease, l, "an op keeps the lease as its call left it")
		same(t, op.Kind, lease.Grant, "an op keeps its kind")
	}
	if n := e.count(key(limits.SeriesUses, "s1", "", "")).N; n != 5 {
		t.Errorf("the grant's bump applied with it: series uses %d, want 5", n)
	}
	_, err = ls.Lease(e.ctx, "nope")
	wantCode(t, err, errcode.NotFound, "an unknown lease")
	_, err = ls.LeaseOp(e.ctx, "till-2", "k1")
	wantCode(t, err, errcode.NotFound, "an op key is another till's: not found")
}

// testLeaseAtomic checks that a change refused for any part writes no lease
// and no op, and that a lease refused writes none of the rest.
func testLeaseAtomic(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1")
	k := key(limits.SeriesUses, "s1", "", "")
	err := e.st.Apply(e.ctx, grantChange(rawLease("l1", "t", "s1", 4), "k1", 3))
	var ge *store.GuardError
	if !errors.As(err, &ge) {
		t.Fatalf("a grant past the series' limit: err = %v, want a *store.GuardError", err)
	}
	if _, err := ls.Lease(e.ctx, "l1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a grant refused by its guard wrote the lease: %v", err)
	}
	if _, err := ls.LeaseOp(e.ctx, "t", "k1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a grant refused by its guard wrote the op: %v", err)
	}
	mustOK(t, e.st.Apply(e.ctx, grantChange(rawLease("l1", "t", "s1", 3), "k1", 3)), "a grant up to the limit")
	// The same op key again, with a lease of its own: the op collides,
	// nothing of the change is written.
	err = e.st.Apply(e.ctx, grantChange(rawLease("l2", "t", "s1", 1), "k1", limits.NoLimit))
	var ex *store.ExistsError
	if !errors.As(err, &ex) || ex.Kind != "lease op" {
		t.Fatalf("an op key used again: err = %v, want an *store.ExistsError of kind lease op", err)
	}
	if _, err := ls.Lease(e.ctx, "l2"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a change refused by its op wrote its lease: %v", err)
	}
	if n := e.count(k).N; n != 3 {
		t.Errorf("a change refused by its op bumped the counter: %d, want 3", n)
	}
}

// testLeaseGuards checks the version guard and the inserts' unique id.
func testLeaseGuards(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1")
	l := rawLease("l1", "t", "s1", 3)
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: l}}}), "an insert")
	err := e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: l}}})
	var ex *store.ExistsError
	if !errors.As(err, &ex) || ex.Kind != "lease" {
		t.Errorf("an insert of a stored id: err = %v, want an *store.ExistsError of kind lease", err)
	}
	up, err := l.Return(lease.Slice{Uses: 1}, t0.Add(time.Minute))
	mustOK(t, err, "a return")
	stale := up
	stale.Version = 3
	err = e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: stale, ExpectVersion: 2}}})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "lease" {
		t.Errorf("an update at a version not stored: err = %v, want an *store.ConflictError of kind lease", err)
	}
	err = e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: up, ExpectVersion: 2}}})
	wantCode(t, err, errcode.InvalidArgument, "a lease whose Version is not ExpectVersion+1")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: up, ExpectVersion: 1}}}), "an update at the stored version")
	got, err := ls.Lease(e.ctx, "l1")
	if wantOK(t, err, "Lease") {
		same(t, got, up, "an update replaces the lease")
	}
	missing := rawLease("l9", "t", "s1", 1)
	missing.Version = 2
	err = e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: missing, ExpectVersion: 1}}})
	if !errors.As(err, &ce) {
		t.Errorf("an update of a lease never stored: err = %v, want an *store.ConflictError", err)
	}
	err = e.st.Apply(e.ctx, &store.Change{LeaseOps: []lease.Op{{Till: "t"}}})
	wantCode(t, err, errcode.InvalidArgument, "an op without a key")
}

func testLeaseTwice(t *testing.T, e *env) {
	l := rawLease("l1", "t", "s1", 1)
	for name, c := range map[string]*store.Change{
		"lease": {Leases: []store.LeaseWrite{{Lease: l}, {Lease: l}}},
		"op":    {LeaseOps: []lease.Op{{Till: "t", Key: "k"}, {Till: "t", Key: "k"}}},
	} {
		err := e.st.Apply(e.ctx, c)
		var tw *store.TwiceError
		if !errors.As(err, &tw) {
			t.Errorf("a change writing a %s twice: err = %v, want a *store.TwiceError", name, err)
		}
	}
	if ls, ok := e.st.(store.LeaseStore); ok {
		if _, err := ls.Lease(e.ctx, "l1"); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("a change refused as written twice wrote its lease: %v", err)
		}
	}
}

func testLeaseQuery(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	e.putRawSeries("s1", "s2")
	l3 := rawLease("l3", "t1", "s1", 1)
	l1 := rawLease("l1", "t1", "s2", 1)
	l2 := rawLease("l2", "t2", "s1", 1)
	l2.End = t0.Add(10 * time.Minute)
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: l3}, {Lease: l1}, {Lease: l2}}}), "three leases")
	closed, _, err := l1.Reclaim(l1.End, 0)
	mustOK(t, err, "reclaim")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Leases: []store.LeaseWrite{{Lease: closed, ExpectVersion: 1}}}), "close l1")
	ids := func(q store.LeaseQuery) []string {
		t.Helper()
		ls, err := ls.Leases(e.ctx, q)
		mustOK(t, err, "Leases")
		out := []string{}
		for _, l := range ls {
			out = append(out, l.ID)
		}
		return out
	}
	same(t, ids(store.LeaseQuery{}), []string{"l1", "l2", "l3"}, "every lease, by id")
	same(t, ids(store.LeaseQuery{Till: "t1"}), []string{"l1", "l3"}, "a till's leases")
	same(t, ids(store.LeaseQuery{SeriesID: "s1"}), []string{"l2", "l3"}, "a series' leases")
	same(t, ids(store.LeaseQuery{Status: lease.Open}), []string{"l2", "l3"}, "open leases")
	same(t, ids(store.LeaseQuery{EndsBefore: t0.Add(10 * time.Minute)}), []string{"l2"}, "leases ending by a time (inclusive)")
	same(t, ids(store.LeaseQuery{AfterID: "l1", Limit: 1}), []string{"l2"}, "a page")
}
