package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
)

// Leases (store.LeaseStore).
//
// ck_leases holds one row per lease: the lease as a JSON document, with
// its id, till, series, status, End and version beside it. An insert
// (ExpectVersion 0) whose id is taken breaks the primary key, an
// *store.ExistsError; an update is guarded by the stored version (WHERE
// version = ExpectVersion), and one that matches no row is a
// *store.ConflictError. ck_lease_ops and ck_till_entries hold the tills'
// calls and journal entries, keyed by (till, key): a key taken breaks the
// primary key, an *store.ExistsError. An entry's update is guarded by its
// reversed column (its Reversed time, 0 while the use stands), and one
// that matches no row is a *store.ConflictError. Every statement is one of the
// change's, so the lease parts are written atomically with the rest.

var _ store.LeaseStore = (*Store)(nil)

// planLeases appends the statements of the lease parts of p's change: the
// leases, the ops, then the till entries. The contract's argument rules (store.LeaseWrite.Check,
// store.CheckLeaseOp, store.CheckTillEntry) are checked first, so that a
// malformed record fails the change before anything is written.
func (s *Store) planLeases(p *Planned, e *encoder) error {
	c := p.c
	for i := range c.Leases {
		if err := s.planLease(p, e, &c.Leases[i]); err != nil {
			return err
		}
	}
	for i := range c.LeaseOps {
		op := &c.LeaseOps[i]
		if err := store.CheckLeaseOp(op, false); err != nil {
			return err
		}
		doc, err := leaseDoc("LeaseOps", op)
		if err != nil {
			return err
		}
		kind, key := "lease op", op.Till+"/"+op.Key
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: leaseOpInsert, Args: []any{op.Till, op.Key, doc},
			errf: func(err error) error { return s.existsErr(err, kind, key) }})
	}
	for i := range c.TillEntries {
		if err := s.planTillEntry(p, &c.TillEntries[i]); err != nil {
			return err
		}
	}
	for i := range c.TillEntryUpdates {
		if err := s.planTillEntryUpdate(p, &c.TillEntryUpdates[i]); err != nil {
			return err
		}
	}
	return nil
}

// planLease appends the insert or the guarded update of one lease.
func (s *Store) planLease(p *Planned, e *encoder, w *store.LeaseWrite) error {
	// Only the argument rules: the version guard and the unique id are
	// the statements'.
	stored := lease.Lease{Version: w.ExpectVersion}
	if err := w.Check(&stored, w.ExpectVersion != 0); err != nil {
		return err
	}
	l := &w.Lease
	doc, err := leaseDoc("Leases.Lease", l)
	if err != nil {
		return err
	}
	end := e.time("Leases.Lease.End", l.End)
	if e.err != nil {
		return e.err
	}
	id := l.ID
	if w.ExpectVersion == 0 {
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: leaseInsert,
			Args: []any{id, l.Till, l.SeriesID, int64(l.Status), end, l.Version, doc},
			errf: func(err error) error { return s.existsErr(err, "lease", id) }})
		return nil
	}
	p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: leaseUpdate,
		Args: []any{id, l.Till, l.SeriesID, int64(l.Status), end, l.Version, doc, w.ExpectVersion},
		fail: func() error { return &store.ConflictError{Kind: "lease", ID: id} }})
	return nil
}

// planTillEntry appends the insert of one journal entry.
func (s *Store) planTillEntry(p *Planned, en *lease.Entry) error {
	if err := store.CheckTillEntry(en, false); err != nil {
		return err
	}
	doc, err := leaseDoc("TillEntries", en)
	if err != nil {
		return err
	}
	key := en.Till + "/" + en.Key
	p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: tillEntryInsert,
		Args: []any{en.Till, en.Key, en.LeaseID, en.SeriesID, int64(len(en.Conflicts)), reversedAt(en.Reversed), doc},
		errf: func(err error) error { return s.existsErr(err, "till entry", key) }})
	return nil
}

// planTillEntryUpdate appends the guarded update of one journal entry:
// it matches the stored row of the same till, key, lease and series whose
// reversed column holds ExpectReversed, else the change conflicts.
func (s *Store) planTillEntryUpdate(p *Planned, u *store.TillEntryUpdate) error {
	en := &u.Entry
	stored := lease.Entry{LeaseID: en.LeaseID, SeriesID: en.SeriesID, Reversed: u.ExpectReversed}
	if err := store.CheckTillEntryUpdate(u, &stored, true); err != nil {
		return err
	}
	doc, err := leaseDoc("TillEntryUpdates", en)
	if err != nil {
		return err
	}
	id := en.Till + "/" + en.Key
	p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: tillEntryUpdate,
		Args: []any{en.Till, en.Key, en.LeaseID, en.SeriesID, int64(len(en.Conflicts)), reversedAt(en.Reversed), doc, reversedAt(u.ExpectReversed)},
		fail: func() error { return &store.ConflictError{Kind: "till entry", ID: id} }})
	return nil
}

// reversedAt is an entry's Reversed time as its column keeps it: Unix
// nanoseconds, 0 for the zero time (a use not given back).
func reversedAt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// existsErr maps a unique violation of an insert to an *store.ExistsError
// of kind and key; any other error to nil (dbErr's).
func (s *Store) existsErr(err error, kind, key string) error {
	if v, _ := s.constraint(err); v == UniqueViolation {
		return &store.ExistsError{Kind: kind, Key: key}
	}
	return nil
}

// leaseDoc is the JSON document of a lease record as stored.
func leaseDoc(field string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", &errcode.Error{Code: errcode.InvalidArgument, Field: field, Message: "cannot be encoded as JSON", Err: err}
	}
	return string(b), nil
}

// decodeLeaseDoc reads a stored JSON document into v.
func decodeLeaseDoc(field string, doc []byte, v any) error {
	if err := json.Unmarshal(doc, v); err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Field: field, Message: "stored document is malformed", Err: err}
	}
	return nil
}

// Lease implements store.LeaseStore.
func (s *Store) Lease(ctx context.Context, id string) (lease.Lease, error) {
	l, err := scanLease(s.reader().row(ctx, leaseGet, id))
	if errors.Is(err, sql.ErrNoRows) {
		return lease.Lease{}, store.NotFound("lease", id)
	}
	if err != nil {
		return lease.Lease{}, s.dbErr(ctx, err)
	}
	return l, nil
}

// Leases implements store.LeaseStore, with one query.
func (s *Store) Leases(ctx context.Context, q store.LeaseQuery) ([]lease.Lease, error) {
	var w where
	if q.Till != "" {
		w.add("till = " + w.arg(q.Till))
	}
	if q.SeriesID != "" {
		w.add("series_id = " + w.arg(q.SeriesID))
	}
	if q.Status != 0 {
		w.add("status = " + w.arg(int64(q.Status)))
	}
	if !q.EndsBefore.IsZero() {
		switch {
		case q.EndsBefore.Before(minTime):
			w.add("end_at IS NULL")
		case !q.EndsBefore.After(maxTime):
			w.add("(end_at IS NULL OR end_at <= " + w.arg(q.EndsBefore.UnixNano()) + ")")
		}
	}
	if q.AfterID != "" {
		w.add("id > " + w.arg(q.AfterID))
	}
	query := leaseSel + w.sql() + " ORDER BY id"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanLease, query, w.args...)
}

// scanLease reads a row of version, doc.
func scanLease(sc scanner) (lease.Lease, error) {
	var l lease.Lease
	var version int64
	var doc []byte
	if err := sc.Scan(&version, &doc); err != nil {
		return l, err
	}
	if err := decodeLeaseDoc("Lease", doc, &l); err != nil {
		return l, err
	}
	l.Version = version
	return l, nil
}

// LeaseOp implements store.LeaseStore.
func (s *Store) LeaseOp(ctx context.Context, till, key string) (lease.Op, error) {
	var op lease.Op
	err := s.readDoc(ctx, "LeaseOp", &op, leaseOpGet, till, key)
	if errors.Is(err, sql.ErrNoRows) {
		return lease.Op{}, store.NotFound("lease op", till+"/"+key)
	}
	return op, err
}

// TillEntry implements store.LeaseStore.
func (s *Store) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	var en lease.Entry
	err := s.readDoc(ctx, "TillEntry", &en, tillEntryGet, till, key)
	if errors.Is(err, sql.ErrNoRows) {
		return lease.Entry{}, store.NotFound("till entry", till+"/"+key)
	}
	return en, err
}

// TillEntries implements store.LeaseStore, with one query.
func (s *Store) TillEntries(ctx context.Context, q store.TillEntryQuery) ([]lease.Entry, error) {
	var w where
	if q.Till != "" {
		w.add("till = " + w.arg(q.Till))
	}
	if q.SeriesID != "" {
		w.add("series_id = " + w.arg(q.SeriesID))
	}
	if q.LeaseID != "" {
		w.add("lease_id = " + w.arg(q.LeaseID))
	}
	if q.Conflicted {
		w.add("conflicts > 0")
	}
	query := tillEntrySel + w.sql() + " ORDER BY till, key"
	return queryAll(ctx, s, s.reader(), func(sc scanner) (lease.Entry, error) {
		var en lease.Entry
		var doc []byte
		if err := sc.Scan(&doc); err != nil {
			return en, err
		}
		return en, decodeLeaseDoc("TillEntry", doc, &en)
	}, query, w.args...)
}

// readDoc reads the one document query selects into v: sql.ErrNoRows
// when there is none.
func (s *Store) readDoc(ctx context.Context, field string, v any, query string, args ...any) error {
	var doc []byte
	err := s.reader().row(ctx, query, args...).Scan(&doc)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return err
	case err != nil:
		return s.dbErr(ctx, err)
	}
	return decodeLeaseDoc(field, doc, v)
}
