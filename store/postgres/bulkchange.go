package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// copyMin is the fewest new coupons of a change that applyCopy writes.
const copyMin = 1000

// copyShaped reports whether Apply writes c with applyCopy: a change of at
// least s.copyMin new coupons and nothing else but events, bumps, notices
// and a sequence advance, as Generate's batches and IssueBatch's changes
// are.
func (s *Store) copyShaped(c *store.Change) bool {
	return c != nil && len(c.NewCoupons) >= max(1, s.copyMin) && c.Series == nil &&
		len(c.Coupons) == 0 && len(c.NewRedemptions) == 0 && len(c.Redemptions) == 0 && len(c.Audience) == 0 &&
		len(c.Leases) == 0 && len(c.LeaseOps) == 0 && len(c.TillEntries) == 0 && len(c.TillEntryUpdates) == 0
}

// errUsual reports that a copyShaped change is to be written the usual
// way (a guard refused, a check failed): the copy was rolled back, and
// the usual path gives the change's outcome exactly.
var errUsual = errors.New("postgres: write the change the usual way")

// applyCopy is Apply for a copyShaped change: one transaction of its own
// (not a group's) that copies the coupons straight into ck_coupons, the
// events into ck_events and the counters the bumps create into
// ck_counters (sqlcore.FreshBumps), then runs the other bumps, the
// notices and the sequence advance with the statements of Apply, in one
// round trip. A counter that exists makes the copy of the counters undo
// itself (under a savepoint), and every bump is then an upsert, as in
// Apply. Any constraint the copy of coupons or events breaks undoes the
// change, which is then run again a row at a time, so that the error
// names the row; a guard or check that fails undoes it too, and it is run
// again the usual way (Apply), which gives its outcome.
func (s *Store) applyCopy(ctx context.Context, c *store.Change) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := sqlcore.CheckIDs(c); err != nil {
		return err
	}
	crows, err := sqlcore.EncodeCoupons(c.NewCoupons, batchPosition)
	if err != nil {
		return err
	}
	erows, err := sqlcore.EncodeEvents(c.Events)
	if err != nil {
		return err
	}
	fresh, rest := sqlcore.FreshBumps(c)
	nrows, err := sqlcore.CounterRows(c, fresh)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &copyWrite{c: c, crows: crows, erows: erows, nrows: nrows, fresh: fresh, rest: rest}
	err = withPgx(ctx, s.core, func(pc *pgx.Conn) error { return s.copyChange(ctx, pc, w) })
	switch {
	case sqlcore.IsRedo(err):
		return sqlcore.ApplyRowByRow(ctx, s.core, c)
	case errors.Is(err, errUsual):
		return s.core.Apply(ctx, c)
	}
	return err
}

// copyWrite is a copyShaped change as applyCopy writes it: its coupon
// rows (batch position first), event rows and the counter rows of its
// fresh bumps, and the indexes of its other bumps.
type copyWrite struct {
	c                   *store.Change
	crows, erows, nrows [][]any
	fresh, rest         []int
}

// copyChange writes a copyShaped change in one transaction on pc and sets
// its bumps' After.
func (s *Store) copyChange(ctx context.Context, pc *pgx.Conn, w *copyWrite) error {
	tx, err := pc.Begin(ctx)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ck_coupons"}, couponCols, couponRows(w.crows)); err != nil {
		return s.copyErr(ctx, err)
	}
	if len(w.erows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ck_events"}, eventCols, pgx.CopyFromRows(w.erows)); err != nil {
			return s.copyErr(ctx, err)
		}
	}
	rest, loaded := w.rest, false
	if len(w.nrows) > 0 {
		if loaded, err = copyDirect(ctx, tx, "ck_counters", sqlcore.CounterColumns, pgx.CopyFromRows(w.nrows)); err != nil {
			return s.dbErr(ctx, err)
		}
		if !loaded {
			rest = append(append([]int(nil), w.fresh...), w.rest...)
		}
	}
	p, err := sqlcore.PlanRest(s.core, w.c, rest)
	if err != nil {
		return err
	}
	if err := s.runRest(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return s.dbErr(ctx, err)
	}
	if loaded {
		sqlcore.FreshAfter(w.c, w.fresh, w.nrows)
	}
	sqlcore.SetRestAfter(w.c, rest, p)
	return nil
}

// runRest runs the statements of p (sqlcore.PlanRest) in tx, in one round
// trip. A statement whose check fails (a guard refused, the sequence
// moved) or that the server refuses gives errUsual.
func (s *Store) runRest(ctx context.Context, tx pgx.Tx, p *sqlcore.Planned) error {
	if len(p.Ops) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(noScans)
	for i := range p.Ops {
		b.Queue(p.Ops[i].SQL, p.Ops[i].Args...)
	}
	br := tx.SendBatch(ctx, b)
	_, err := br.Exec()
	var out outcome
	if err == nil {
		out, err = readOps(ctx, s.core, br, p)
	}
	cerr := br.Close()
	switch {
	case err != nil:
		return s.dbErr(ctx, err)
	case cerr != nil && !isServerErr(tx.Conn(), cerr):
		return s.dbErr(ctx, cerr)
	case out.err != nil || out.refused || cerr != nil:
		return errUsual
	}
	return nil
}

// copyErr maps the error of a copy of coupons or events: a constraint it
// breaks asks for the change to be run again a row at a time.
func (s *Store) copyErr(ctx context.Context, err error) error {
	if redo := sqlcore.RedoOnConstraint(s.core, err); redo != nil {
		return redo
	}
	return s.dbErr(ctx, err)
}
