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
	st      *sqlite.Store
	conn    *sql.Conn
	batch   int // coupons per transaction
	batches int
	// the rows staged of each table, and whether the series has a code
	// sequence to advance per batch
	coupons, events, counters int64
	sequence                  bool
	seriesID                  string
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
	steps := []struct {
		q    string
		args []any
	}{
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
	for _, s := range steps {
		if _, err := r.conn.ExecContext(ctx, s.q, s.args...); err != nil {
			return nil, fmt.Errorf("staging (%s): %w", s.q, err)
		}
	}
	var seqs int
	err = r.conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM stage.coupons), (SELECT count(*) FROM stage.events), "+
		"(SELECT count(*) FROM stage.counters) + (SELECT count(*) FROM stage.series_counters), "+
		"(SELECT count(*) FROM main.ck_sequences WHERE series_id = ?)", seriesID).Scan(&r.coupons, &r.events, &r.counters, &seqs)
	if err != nil {
		return nil, err
	}
	r.sequence = seqs > 0
	r.batches = int((r.coupons + int64(batch) - 1) / int64(batch))
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
	batch := r.batch
	start := time.Now()
	for b := range r.batches {
		lo, hi := int64(b*batch)+1, min(int64(b+1)*int64(batch), r.coupons)
		elo, ehi := int64(b)*r.events/int64(r.batches)+1, int64(b+1)*r.events/int64(r.batches)
		if _, err := inTx(ctx, r.conn, func(tx *sql.Tx) (bool, error) {
			for _, s := range []struct {
				q    string
				args []any
			}{
				{"INSERT INTO main.ck_coupons SELECT * FROM stage.coupons WHERE rowid BETWEEN ? AND ?", []any{lo, hi}},
				{"INSERT INTO main.ck_events SELECT * FROM stage.events WHERE rowid BETWEEN ? AND ?", []any{elo, ehi}},
				{"INSERT INTO main.ck_counters SELECT counter, series_id, code, holder, customer, n, last FROM stage.counters WHERE batch = ?", []any{b}},
				{"INSERT INTO main.ck_counters SELECT counter, series_id, code, holder, customer, ?, last FROM stage.series_counters WHERE true " +
					"ON CONFLICT (counter, series_id, code, holder, customer) DO UPDATE SET n = n + excluded.n, last = excluded.last", []any{hi - lo + 1}},
			} {
				if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
					return false, fmt.Errorf("batch %d (%s): %w", b, s.q, err)
				}
			}
			if !r.sequence {
				return true, nil
			}
			_, err := tx.ExecContext(ctx, "UPDATE main.ck_sequences SET next = next + ? WHERE series_id = ?", hi-lo+1, r.seriesID)
			return err == nil, err
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
