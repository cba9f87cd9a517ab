package sqlcore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"

	"github.com/couponkit/couponkit/store"
)

// runSeq runs a planned change statement by statement on x, planning it
// first when planFor left it unplanned.
func (s *Store) runSeq(ctx context.Context, x conn, p *Planned) error {
	if err := s.planLazy(p); err != nil {
		return err
	}
	for i := range p.Ops {
		o := &p.Ops[i]
		switch o.Kind {
		case OpExec, OpExpectOne, OpExpectN:
			res, err := x.exec(ctx, o.SQL, o.Args...)
			if err != nil {
				return s.opErr(ctx, o, err)
			}
			if o.Kind != OpExec {
				if n, err := res.RowsAffected(); err != nil || n != o.Rows() {
					return cmp.Or(s.dbErr(ctx, err), o.fail())
				}
			}
		case OpBump, OpUndo, OpRead, OpRefuse:
			var n int64
			var last sql.NullInt64
			err := x.row(ctx, o.SQL, o.Args...).Scan(&n, &last)
			switch {
			case errors.Is(err, sql.ErrNoRows) && (o.Kind == OpRead || o.Kind == OpRefuse):
			case errors.Is(err, sql.ErrNoRows) && o.Kind == OpUndo:
				return o.Fail()
			case errors.Is(err, sql.ErrNoRows):
				return s.guardErr(ctx, x, p.c, o.Bump)
			case err != nil:
				return s.dbErr(ctx, err)
			}
			cur := store.Count{N: n, Last: FromNanos(last)}
			if o.Kind == OpRefuse {
				return RefusedErr(&p.c.Bumps[o.Bump], cur)
			}
			p.after[o.Bump] = cur
		case OpCouponNarrow:
			if err := s.updateCouponNarrow(ctx, x, o.cu); err != nil {
				return err
			}
		case OpBumps:
			if err := s.runBumps(ctx, x, p, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rows is how many rows an OpExpectOne or OpExpectN must affect.
func (o *Op) Rows() int64 {
	if o.Kind == OpExpectN {
		return o.want
	}
	return 1
}

// Fail is the error of a statement whose check failed: no row, or not as
// many rows as it must affect.
func (o *Op) Fail() error { return o.fail() }

// OpErr maps a driver error of statement o: its own mapping, else dbErr.
func OpErr(ctx context.Context, s *Store, o *Op, err error) error { return s.opErr(ctx, o, err) }

func (s *Store) opErr(ctx context.Context, o *Op, err error) error {
	if o.errf != nil {
		if mapped := o.errf(err); mapped != nil {
			return mapped
		}
	}
	return s.dbErr(ctx, err)
}

// guardErr is the *store.GuardError of the i-th bump of c, which its
// guarded statement refused, with the value the counter has now.
func (s *Store) guardErr(ctx context.Context, x conn, c *store.Change, i int) error {
	b := &c.Bumps[i]
	cur, err := s.counter(ctx, x, b.Key)
	if err != nil {
		return err
	}
	return RefusedErr(b, cur)
}

// RefusedErr is the error of bump b, which its guard refused, when the
// counter stands at cur: the one store.Bump.Next gives or, when the
// counter has moved since so that b would pass now, a *store.GuardError
// with cur.
func RefusedErr(b *store.Bump, cur store.Count) error {
	if _, err := b.Next(cur); err != nil {
		return err
	}
	return &store.GuardError{Key: b.Key, Guard: b.Guard, Count: cur}
}

func (s *Store) counter(ctx context.Context, x conn, k store.CounterKey) (store.Count, error) {
	var n int64
	var last sql.NullInt64
	err := x.row(ctx, CounterGet, CounterKeyArgs(&k)...).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Count{}, nil
	}
	if err != nil {
		return store.Count{}, s.dbErr(ctx, err)
	}
	return store.Count{N: n, Last: FromNanos(last)}, nil
}

// updateCouponSQLite updates a coupon naming only the indexed columns
// that change: SQLite rewrites the entries of every index whose columns an
// UPDATE names, changed or not. The usual update (a redemption, a hold)
// changes the state at most: it is tried first, with the other indexed
// columns required unchanged in its WHERE. When it matches nothing, the
// stored indexed columns are read (the write lock is held, so they cannot
// change meanwhile) to tell a stale version from a change of those

// firstGuardFailure reports, of the bumps of c that the stored counters
// refuse (store.Bump.Next), the first in c's order, as a store with no
// lock order would: the bumps ran sorted, so the one that failed may not
// be the first failing one. It falls back to seen when the counters moved
// meanwhile.
func (s *Store) firstGuardFailure(ctx context.Context, c *store.Change, seen *store.GuardError) error {
	keys := make([]store.CounterKey, len(c.Bumps))
	for i := range c.Bumps {
		keys[i] = c.Bumps[i].Key
	}
	counts := make([]store.Count, len(keys))
	if err := s.readCounters(ctx, s.reader(), keys, counts); err != nil {
		return seen
	}
	for i := range c.Bumps {
		var ge *store.GuardError
		if _, err := c.Bumps[i].Next(counts[i]); errors.As(err, &ge) {
			return ge
		}
	}
	return seen
}
