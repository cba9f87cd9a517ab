package refstore

import (
	"context"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
)

var _ store.LeaseStore = (*Store)(nil)

// leaseOpKey is a lease op's unique key: one op per till and key.
type leaseOpKey struct{ till, key string }

// stageLeases checks the lease parts of c against the stored leases and
// ops, with the contract's rules (store.LeaseWrite.Check,
// store.CheckLeaseOp). It writes nothing. A change writes each lease and
// op at most once (store.Change.Validate), so each part is checked
// against the stored state alone.
func (s *Store) stageLeases(c *store.Change) error {
	for _, w := range c.Leases {
		cur, ok := s.leases[w.Lease.ID]
		if err := w.Check(&cur, ok); err != nil {
			return err
		}
	}
	for _, op := range c.LeaseOps {
		_, taken := s.leaseOps[leaseOpKey{op.Till, op.Key}]
		if err := store.CheckLeaseOp(&op, taken); err != nil {
			return err
		}
	}
	for _, e := range c.TillEntries {
		_, taken := s.tillEntries[leaseOpKey{e.Till, e.Key}]
		if err := store.CheckTillEntry(&e, taken); err != nil {
			return err
		}
	}
	for _, u := range c.TillEntryUpdates {
		cur, ok := s.tillEntries[leaseOpKey{u.Entry.Till, u.Entry.Key}]
		if err := store.CheckTillEntryUpdate(&u, &cur, ok); err != nil {
			return err
		}
	}
	return nil
}

// commitLeases writes the lease parts of c, which stageLeases accepted.
func (s *Store) commitLeases(c *store.Change) {
	if s.leases == nil {
		s.leases = make(map[string]lease.Lease)
		s.leaseOps = make(map[leaseOpKey]lease.Op)
		s.tillEntries = make(map[leaseOpKey]lease.Entry)
	}
	for _, e := range c.TillEntries {
		e.Conflicts = slices.Clone(e.Conflicts)
		s.tillEntries[leaseOpKey{e.Till, e.Key}] = e
	}
	for _, u := range c.TillEntryUpdates {
		e := u.Entry
		e.Conflicts = slices.Clone(e.Conflicts)
		s.tillEntries[leaseOpKey{e.Till, e.Key}] = e
	}
	for _, w := range c.Leases {
		s.leases[w.Lease.ID] = w.Lease
	}
	for _, op := range c.LeaseOps {
		s.leaseOps[leaseOpKey{op.Till, op.Key}] = op
	}
}

// Lease implements store.LeaseStore.
func (s *Store) Lease(ctx context.Context, id string) (lease.Lease, error) {
	if err := s.lock(ctx); err != nil {
		return lease.Lease{}, err
	}
	defer s.mu.Unlock()
	l, ok := s.leases[id]
	if !ok {
		return lease.Lease{}, store.NotFound("lease", id)
	}
	return l, nil
}

// Leases implements store.LeaseStore: every lease, filtered by
// q.Match, ordered by id, cut at q.Limit.
func (s *Store) Leases(ctx context.Context, q store.LeaseQuery) ([]lease.Lease, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []lease.Lease
	for _, l := range s.leases {
		if q.Match(&l) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b lease.Lease) int { return strings.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// LeaseOp implements store.LeaseStore.
func (s *Store) LeaseOp(ctx context.Context, till, key string) (lease.Op, error) {
	if err := s.lock(ctx); err != nil {
		return lease.Op{}, err
	}
	defer s.mu.Unlock()
	op, ok := s.leaseOps[leaseOpKey{till, key}]
	if !ok {
		return lease.Op{}, store.NotFound("lease op", till+"/"+key)
	}
	return op, nil
}

// TillEntry implements store.LeaseStore.
func (s *Store) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	if err := s.lock(ctx); err != nil {
		return lease.Entry{}, err
	}
	defer s.mu.Unlock()
	e, ok := s.tillEntries[leaseOpKey{till, key}]
	if !ok {
		return lease.Entry{}, store.NotFound("till entry", till+"/"+key)
	}
	e.Conflicts = slices.Clone(e.Conflicts)
	return e, nil
}

// TillEntries implements store.LeaseStore: every recorded entry q
// matches, ordered by till and key.
func (s *Store) TillEntries(ctx context.Context, q store.TillEntryQuery) ([]lease.Entry, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []lease.Entry
	for _, e := range s.tillEntries {
		if q.Match(&e) {
			e.Conflicts = slices.Clone(e.Conflicts)
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b lease.Entry) int { return store.CompareTillEntries(&a, &b) })
	return out, nil
}
