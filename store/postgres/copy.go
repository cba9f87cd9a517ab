package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// The PostgreSQL bulk path copies a batch's coupons straight into
// ck_coupons (copyDirect). When one of them is there already (a batch run
// again), it stages them in a session-local temporary table instead
// (created once per connection, emptied at every commit) and moves them
// with one INSERT ... SELECT ... ON CONFLICT DO NOTHING. Then it copies
// the events of the coupons that went in straight into ck_events.
// The table's name carries the schema version that last changed the
// coupon columns (4: issue_key) so that a connection that outlives a
// migration does not reuse a stale shape.
const (
	pgStageCoupons = "ck_in_coupons_v4"

	pgCreateStageCoupons = "CREATE TEMP TABLE IF NOT EXISTS " + pgStageCoupons + " (ord INTEGER NOT NULL, " +
		"id TEXT, series_id TEXT, code TEXT, canonical TEXT, shared BOOLEAN, state SMALLINT, holder TEXT, " +
		"created_at BIGINT, issued_at BIGINT, expires_at BIGINT, redemptions INTEGER, holds INTEGER, " +
		"reversed BOOLEAN, last_status_change BIGINT, reissued_from TEXT, reissued_to TEXT, version BIGINT, " +
		"slot TEXT, issue_key TEXT) ON COMMIT DELETE ROWS"
	// pgMoveCoupons inserts the staged coupons that collide with no stored
	// one, in batch order, and returns their ids.
	pgMoveCoupons = "INSERT INTO ck_coupons (" + sqlcore.CouponCols + ") SELECT " + sqlcore.CouponCols + " FROM " + pgStageCoupons +
		" ORDER BY ord ON CONFLICT DO NOTHING RETURNING id"
)

// batchPosition is the first column of the i-th staged coupon: its
// position in the batch.
func batchPosition(i int) []any {
	row := make([]any, 1, 20)
	row[0] = int32(i)
	return row
}

// stagedCols, couponCols and eventCols are the columns COPY writes: a
// staged coupon's position in the batch, then its columns; a coupon's
// columns; an event's columns.
var (
	stagedCols = append([]string{"ord"}, strings.Split(sqlcore.CouponCols, ", ")...)
	couponCols = stagedCols[1:]
	eventCols  = strings.Split(sqlcore.EventCols, ", ")
)

// couponRows reads staged coupon rows (batch position first) as rows of
// couponCols, in batch order.
func couponRows(crows [][]any) pgx.CopyFromSource {
	i := -1
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i++; i >= len(crows) {
			return nil, nil
		}
		return crows[i][1:], nil
	})
}

// copyDirect copies rows straight into table under a savepoint, in their
// order, and reports whether they all went in. When one of them breaks a
// constraint (a coupon of a batch run again is there already, a counter
// exists), the savepoint is rolled back and false returned: the caller
// then writes the rows a way that skips or updates the existing ones. The
// direct copy writes each row once, where staging writes it twice and
// sorts it.
func copyDirect(ctx context.Context, tx pgx.Tx, table string, cols []string, rows pgx.CopyFromSource) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	if _, err := sp.CopyFrom(ctx, pgx.Identifier{table}, cols, rows); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code[:2] != "23" {
			return false, err
		}
		return false, sp.Rollback(ctx)
	}
	return true, sp.Commit(ctx)
}

// dbErr is the store's error for a driver error (sqlcore.DBErr).
func (s *Store) dbErr(ctx context.Context, err error) error { return sqlcore.DBErr(ctx, s.core, err) }

// pgBulkWorkers is how many transactions a large PostgreSQL batch is split
// into, run at once on as many connections: the server inserts rows on
// one core per statement, and the indexes of a large table make that the
// bound of a bulk job.
const pgBulkWorkers = 2

// pgSplitMin is the smallest batch that is split.
const pgSplitMin = 4000

// copyCoupons is InsertCoupons on PostgreSQL outside a caller's
// transaction: COPY straight into ck_coupons or, when a coupon is there
// already, into the staging table, then pgMoveCoupons, in one
// transaction on one pooled connection reached through (*sql.Conn).Raw.
// A large batch whose ids are unique is split in pgBulkWorkers parts,
// coupon by coupon in turn (so that every part appends to the right edge
// of the id-ordered indexes, as the batch itself would), each with its
// coupons' events (events of coupons outside the batch go with the
// first), written by concurrent transactions. Each part
// is whole or absent after a crash, and a batch run again skips what is
// there, so the job stays resumable; the parts' events interleave in the
// history, each coupon's in order.
func (s *Store) copyCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event, unique bool) (int, error) {
	k := 1
	if unique && len(coupons) >= pgSplitMin {
		k = pgBulkWorkers
	}
	all, err := sqlcore.EncodeCoupons(coupons, batchPosition)
	if err != nil {
		return 0, err
	}
	evs, err := sqlcore.EncodeEvents(events)
	if err != nil {
		return 0, err
	}
	part := make(map[string]int, len(coupons))
	crows := make([][][]any, k)
	for i := range coupons {
		p := i % k
		part[coupons[i].ID] = p
		crows[p] = append(crows[p], all[i])
	}
	erows := make([][][]any, k)
	for i := range events {
		p := part[events[i].CouponID] // 0 for a coupon outside the batch
		erows[p] = append(erows[p], evs[i])
	}
	if k == 1 {
		return s.copyPart(ctx, crows[0], erows[0])
	}
	ns := make([]int, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for p := range k {
		wg.Go(func() { ns[p], errs[p] = s.copyPart(ctx, crows[p], erows[p]) })
	}
	wg.Wait()
	n := 0
	for p := range k {
		n += ns[p]
	}
	return n, errors.Join(errs...)
}

// copyPart writes one part of a batch in its own transaction.
func (s *Store) copyPart(ctx context.Context, crows, erows [][]any) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := withPgx(ctx, s.core, func(pc *pgx.Conn) error {
		var err error
		n, err = s.copyOnce(ctx, pc, crows, erows)
		return err
	})
	return n, err
}

// copyOnce writes one part: crows are the coupons (batch position first,
// then sqlcore.CouponCols), erows their events (sqlcore.EventCols).
func (s *Store) copyOnce(ctx context.Context, pc *pgx.Conn, crows, erows [][]any) (int, error) {
	tx, err := pc.Begin(ctx)
	if err != nil {
		return 0, s.dbErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	n := 0
	if len(crows) > 0 {
		direct, err := copyDirect(ctx, tx, "ck_coupons", couponCols, couponRows(crows))
		if err != nil {
			return 0, sqlcore.BulkErr(ctx, s.core, err)
		}
		if direct {
			n = len(crows)
			crows = nil
		}
	}
	if len(crows) > 0 {
		if _, err := tx.Exec(ctx, pgCreateStageCoupons); err != nil {
			return 0, s.dbErr(ctx, err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{pgStageCoupons}, stagedCols, pgx.CopyFromRows(crows)); err != nil {
			return 0, sqlcore.BulkErr(ctx, s.core, err)
		}
		rows, err := tx.Query(ctx, pgMoveCoupons)
		if err != nil {
			return 0, sqlcore.BulkErr(ctx, s.core, err)
		}
		inserted := make(map[string]bool, len(crows))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, s.dbErr(ctx, err)
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, sqlcore.BulkErr(ctx, s.core, err)
		}
		n = len(inserted)
		if n < len(crows) {
			// Leave out the events of the skipped coupons.
			skipped := make(map[string]bool, len(crows)-n)
			for _, r := range crows {
				if id := r[1].(string); !inserted[id] {
					skipped[id] = true
				}
			}
			keep := make([][]any, 0, len(erows))
			for _, r := range erows {
				if !skipped[r[2].(string)] { // coupon_id
					keep = append(keep, r)
				}
			}
			erows = keep
		}
	}
	if len(erows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ck_events"}, eventCols, pgx.CopyFromRows(erows)); err != nil {
			return 0, s.dbErr(ctx, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, s.dbErr(ctx, err)
	}
	return n, nil
}
