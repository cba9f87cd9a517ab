package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/couponkit/couponkit/store/sqlite"
)

// rawLoad is the hand-written floor of a bulk issue on SQLite: the rows a
// bulk issue wrote (its coupons, events and counters) loaded into a fresh
// file of the same schema and settings, in transactions of the same
// batches, by INSERT ... SELECT from a staging file (no values bound from
// Go, no reads, no decisions): what SQLite's b-trees and write-ahead log
// cost for those rows and indexes, as raw COPY is on PostgreSQL.
type rawLoad struct {
	st    *sqlite.Store
	conn  *sql.Conn
	batch int // coupons per transaction
	// the rows staged of each table
	coupons, events, counters int64
	seriesID                  string
}

// sqlStep is one statement of the load and its arguments.
type sqlStep struct {
	q    string
	args []any
}

// execSteps runs steps in order on x, naming the failing one in its error.
func execSteps(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, steps []sqlStep) error {
	for _, s := range steps {
		if _, err := x.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.q, err)
		}
	}
	return nil
}

// stageRaw prepares a rawLoad in dir from the SQLite file src, in which a
// bulk issue of series seriesID wrote its rows in batches of batch
// coupons: a fresh migrated file, the series' row and code sequence in it,
// and the rows to load in a staging file, each coupon with the number of
// its batch (by the order they were written) and each counter of a
// customer with its first coupon's.
func stageRaw(ctx context.Context, dir, src, seriesID string, batch int) (_ *rawLoad, err error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "raw.db"))
	if err != nil {
		return nil, err
	}
	r := &rawLoad{st: st, seriesID: seriesID, batch: batch}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	if r.conn, err = st.DB().Conn(ctx); err != nil {
		return nil, err
	}
	steps := []sqlStep{
		{"ATTACH ? AS src", []any{src}},
		{"ATTACH ? AS stage", []any{filepath.Join(dir, "stage.db")}},
		{"INSERT INTO main.ck_series SELECT * FROM src.ck_series", nil},
		{"INSERT INTO main.ck_sequences SELECT * FROM src.ck_sequences", nil},
		{"CREATE TABLE stage.coupons AS SELECT * FROM src.ck_coupons ORDER BY rowid", nil},
		// A customer's counter goes with its first coupon's batch.
		{"CREATE TABLE stage.counters AS SELECT (k.first - 1) / ? AS batch, c.* FROM src.ck_counters c " +
			"JOIN (SELECT series_id, holder, min(rowid) AS first FROM stage.coupons GROUP BY 1, 2) k " +
			"ON k.series_id = c.series_id AND k.holder = c.customer " +
			"WHERE c.customer <> '' ORDER BY 1, c.counter, c.series_id, c.code, c.holder, c.customer", []any{batch}},
		{"CREATE INDEX stage.counters_batch ON counters (batch)", nil},
		{"CREATE TABLE stage.series_counters AS SELECT * FROM src.ck_counters WHERE customer = ''", nil},
		{"CREATE TABLE stage.events AS SELECT * FROM src.ck_events ORDER BY seq", nil},
	}
	if err := execSteps(ctx, r.conn, steps); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	err = r.conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM stage.coupons), (SELECT count(*) FROM stage.events), "+
		"(SELECT count(*) FROM stage.counters) + (SELECT count(*) FROM stage.series_counters)").Scan(&r.coupons, &r.events, &r.counters)
	if err != nil {
		return nil, err
	}
	if _, err := r.conn.ExecContext(ctx, "DETACH src"); err != nil {
		return nil, err
	}
	return r, nil
}

// load writes the staged rows, a transaction per batch: the batch's
// coupons, an equal share of the events, its customers' counters, the
// series-wide counters bumped by the batch's coupons, and the code
// sequence advanced by them. It returns the time it took, and checks that
// every row staged was written.
func (r *rawLoad) load(ctx context.Context) (time.Duration, error) {
	batch, batches := int64(r.batch), (r.coupons+int64(r.batch)-1)/int64(r.batch)
	start := time.Now()
	for b := range batches {
		lo, hi := b*batch+1, min((b+1)*batch, r.coupons)
		elo, ehi := b*r.events/batches+1, (b+1)*r.events/batches
		if _, err := inTx(ctx, r.conn, func(tx *sql.Tx) (bool, error) {
			err := execSteps(ctx, tx, []sqlStep{
				{"INSERT INTO main.ck_coupons SELECT * FROM stage.coupons WHERE rowid BETWEEN ? AND ?", []any{lo, hi}},
				{"INSERT INTO main.ck_events SELECT * FROM stage.events WHERE rowid BETWEEN ? AND ?", []any{elo, ehi}},
				{"INSERT INTO main.ck_counters SELECT counter, series_id, code, holder, customer, n, last FROM stage.counters WHERE batch = ?", []any{b}},
				{"INSERT INTO main.ck_counters SELECT counter, series_id, code, holder, customer, ?, last FROM stage.series_counters WHERE true " +
					"ON CONFLICT (counter, series_id, code, holder, customer) DO UPDATE SET n = n + excluded.n, last = excluded.last", []any{hi - lo + 1}},
				// A series without a code sequence updates no row.
				{"UPDATE main.ck_sequences SET next = next + ? WHERE series_id = ?", []any{hi - lo + 1, r.seriesID}},
			})
			if err != nil {
				return false, fmt.Errorf("batch %d: %w", b, err)
			}
			return true, nil
		}); err != nil {
			return 0, err
		}
	}
	d := time.Since(start)
	var coupons, events, counters int64
	err := r.conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM main.ck_coupons), (SELECT count(*) FROM main.ck_events), "+
		"(SELECT count(*) FROM main.ck_counters)").Scan(&coupons, &events, &counters)
	if err == nil && (coupons != r.coupons || events != r.events || counters != r.counters) {
		err = fmt.Errorf("loaded %d coupons, %d events, %d counters; staged %d, %d, %d", coupons, events, counters, r.coupons, r.events, r.counters)
	}
	return d, err
}

func (r *rawLoad) close() error {
	var err error
	if r.conn != nil {
		err = r.conn.Close()
	}
	return errors.Join(err, r.st.Close())
}
