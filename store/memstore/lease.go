package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
)

var _ store.LeaseStore = (*Store)(nil)

// leaseTable holds the tills' leases and the records of their calls. Its
// zero value is empty and ready.
type leaseTable struct {
	byID map[string]lease.Lease
	ops  map[leaseOpKey]lease.Op
	// entries are the tills' journal entries, by till and key.
	entries map[leaseOpKey]lease.Entry
}

// leaseOpKey is a lease op's unique key.
type leaseOpKey struct{ till, key string }

// checkLeases checks the lease parts of c against the stored leases and
// ops. It writes nothing.
func (s *Store) checkLeases(c *store.Change) error {
	t := &s.leases
	for i := range c.Leases {
		w := &c.Leases[i]
		cur, ok := t.byID[w.Lease.ID]
		if err := w.Check(&cur, ok); err != nil {
			return err
		}
	}
	for i := range c.LeaseOps {
		op := &c.LeaseOps[i]
		_, taken := t.ops[leaseOpKey{op.Till, op.Key}]
		if err := store.CheckLeaseOp(op, taken); err != nil {
			return err
		}
	}
	for i := range c.TillEntries {
		e := &c.TillEntries[i]
		_, taken := t.entries[leaseOpKey{e.Till, e.Key}]
		if err := store.CheckTillEntry(e, taken); err != nil {
			return err
		}
	}
	for i := range c.TillEntryUpdates {
		u := &c.TillEntryUpdates[i]
		cur, ok := t.entries[leaseOpKey{u.Entry.Till, u.Entry.Key}]
		if err := store.CheckTillEntryUpdate(u, &cur, ok); err != nil {
			return err
		}
	}
	return nil
}

// commitLeases writes the lease parts of c, which checkLeases accepted.
func (s *Store) commitLeases(c *store.Change) {
	if len(c.Leases) == 0 && len(c.LeaseOps) == 0 && len(c.TillEntries) == 0 && len(c.TillEntryUpdates) == 0 {
		return
	}
	t := &s.leases
	if t.byID == nil {
		t.byID = make(map[string]lease.Lease)
		t.ops = make(map[leaseOpKey]lease.Op)
		t.entries = make(map[leaseOpKey]lease.Entry)
	}
	for i := range c.TillEntries {
		e := c.TillEntries[i]
		e.Conflicts = slices.Clone(e.Conflicts)
		t.entries[leaseOpKey{e.Till, e.Key}] = e
	}
	for i := range c.TillEntryUpdates {
		e := c.TillEntryUpdates[i].Entry
		e.Conflicts = slices.Clone(e.Conflicts)
		t.entries[leaseOpKey{e.Till, e.Key}] = e
	}
	for i := range c.Leases {
		t.byID[c.Leases[i].Lease.ID] = c.Leases[i].Lease
	}
	for i := range c.LeaseOps {
		op := c.LeaseOps[i]
		t.ops[leaseOpKey{op.Till, op.Key}] = op
	}
}

// Lease implements store.LeaseStore.
func (s *Store) Lease(ctx context.Context, id string) (lease.Lease, error) {
	if err := ctx.Err(); err != nil {
		return lease.Lease{}, err
	}
	s.mu.RLock()
	l, ok := s.leases.byID[id]
	s.mu.RUnlock()
	if !ok {
		return lease.Lease{}, notFound("lease", id)
	}
	return l, nil
}

// Leases implements store.LeaseStore.
func (s *Store) Leases(ctx context.Context, q store.LeaseQuery) ([]lease.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []lease.Lease
	for _, l := range s.leases.byID {
		if q.Match(&l) {
			out = append(out, l)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b lease.Lease) int { return strings.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// LeaseOp implements store.LeaseStore.
func (s *Store) LeaseOp(ctx context.Context, till, key string) (lease.Op, error) {
	if err := ctx.Err(); err != nil {
		return lease.Op{}, err
	}
	s.mu.RLock()
	op, ok := s.leases.ops[leaseOpKey{till, key}]
	s.mu.RUnlock()
	if !ok {
		return lease.Op{}, notFound("lease op", till+"/"+key)
	}
	return op, nil
}

// TillEntry implements store.LeaseStore.
func (s *Store) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	if err := ctx.Err(); err != nil {
		return lease.Entry{}, err
	}
	s.mu.RLock()
	e, ok := s.leases.entries[leaseOpKey{till, key}]
	s.mu.RUnlock()
	if !ok {
		return lease.Entry{}, notFound("till entry", till+"/"+key)
	}
	e.Conflicts = slices.Clone(e.Conflicts)
	return e, nil
}

// TillEntries implements store.LeaseStore.
func (s *Store) TillEntries(ctx context.Context, q store.TillEntryQuery) ([]lease.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []lease.Entry
	for _, e := range s.leases.entries {
		if q.Match(&e) {
			e.Conflicts = slices.Clone(e.Conflicts)
			out = append(out, e)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b lease.Entry) int { return store.CompareTillEntries(&a, &b) })
	return out, nil
}
