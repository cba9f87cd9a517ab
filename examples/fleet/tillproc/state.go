package tillproc

import (
	"context"
	"database/sql"
	"fmt"
)

// stateSchema is the till process's own tables, in the journal's SQLite
// file: every sale attempt and its outcome (a sold one is written in the
// same transaction as its journal entry, and says whether the central
// decided it online; a reversed one is marked in the transaction of its
// reversal's entry; an unsettled one was refused or declined offline
// after the central was asked in vain, and may have been used there), and
// the returns of leases written down before they are sent, so that a
// restarted till sends them again with the same idempotency key.
const stateSchema = `
CREATE TABLE IF NOT EXISTS fleet_attempt (
	n         INTEGER PRIMARY KEY,
	outcome   TEXT NOT NULL,
	key       TEXT NOT NULL,
	code      TEXT NOT NULL,
	online    INTEGER NOT NULL DEFAULT 0,
	reversed  INTEGER NOT NULL DEFAULT 0,
	unsettled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fleet_call (
	key      TEXT PRIMARY KEY,
	lease_id TEXT NOT NULL,
	uses     INTEGER NOT NULL
);
`

// Outcomes of a sale attempt.
const (
	sold     = "sold"     // the coupon was used (journal entry written)
	refused  = "refused"  // the rules refused the coupon
	declined = "declined" // the till could not decide it: sold without the discount
	voided   = "voided"   // refused or declined, then used and given back (see settle)
)

// call is a lease return written down and not yet answered.
type call struct {
	key, leaseID string
	uses         int64
}

// execer is a *sql.DB or a *sql.Tx, for writes.
type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// nextAttempt is the number of the next sale attempt.
func nextAttempt(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM fleet_attempt`).Scan(&n)
	return n, err
}

// recordAttempt records attempt n's outcome, on a transaction or not.
func recordAttempt(ctx context.Context, db execer, n int, outcome, key, code string, online, unsettled bool) error {
	_, err := db.ExecContext(ctx, `INSERT INTO fleet_attempt (n, outcome, key, code, online, unsettled) VALUES (?, ?, ?, ?, ?, ?)`,
		n, outcome, key, code, online, unsettled)
	return err
}

// recordVoid records that attempt n, unsettled, was used (on the use's
// transaction), to be given back; or, with outcome "", that it is settled
// with nothing to give back.
func recordVoid(ctx context.Context, db execer, n int, outcome string, online bool) error {
	if outcome == "" {
		_, err := db.ExecContext(ctx, `UPDATE fleet_attempt SET unsettled = 0 WHERE n = ?`, n)
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE fleet_attempt SET outcome = ?, online = ?, unsettled = 0 WHERE n = ?`, outcome, online, n)
	return err
}

// unsettled returns the attempts to settle: those unsettled, and those
// voided and not yet given back.
func unsettled(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT n FROM fleet_attempt WHERE unsettled = 1 OR (outcome = 'voided' AND reversed = 0) ORDER BY n`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var a int
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// outcomeOf reads attempt n's outcome.
func outcomeOf(ctx context.Context, db *sql.DB, n int) (string, error) {
	var o string
	err := db.QueryRowContext(ctx, `SELECT outcome FROM fleet_attempt WHERE n = ?`, n).Scan(&o)
	return o, err
}

// markReversed marks the sale of key reversed, on the reversal's
// transaction.
func markReversed(ctx context.Context, tx execer, key string) error {
	res, err := tx.ExecContext(ctx, `UPDATE fleet_attempt SET reversed = 1 WHERE key = ? AND outcome IN ('sold', 'voided') AND reversed = 0`, key)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("tillproc: no standing sale of key %s to reverse (%d rows, %v)", key, n, err)
	}
	return nil
}

// tally is what the till's attempts came to.
type tally struct {
	sold, online, reversed, refused, declined, voided, unsettled int
}

// counts reads the tally of the till's attempts.
func counts(ctx context.Context, db *sql.DB) (tally, error) {
	var t tally
	err := db.QueryRowContext(ctx, `SELECT
	COALESCE(SUM(outcome = 'sold'), 0), COALESCE(SUM(outcome = 'sold' AND online), 0), COALESCE(SUM(outcome = 'sold' AND reversed), 0),
	COALESCE(SUM(outcome = 'refused'), 0), COALESCE(SUM(outcome = 'declined'), 0),
	COALESCE(SUM(outcome = 'voided'), 0), COALESCE(SUM(unsettled), 0) FROM fleet_attempt`).
		Scan(&t.sold, &t.online, &t.reversed, &t.refused, &t.declined, &t.voided, &t.unsettled)
	return t, err
}

func saveCall(ctx context.Context, db *sql.DB, c call) error {
	_, err := db.ExecContext(ctx, `INSERT INTO fleet_call (key, lease_id, uses) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		c.key, c.leaseID, c.uses)
	return err
}

func dropCall(ctx context.Context, db *sql.DB, key string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM fleet_call WHERE key = ?`, key)
	return err
}

// pendingCalls returns the returns written down and not answered.
func pendingCalls(ctx context.Context, db *sql.DB) ([]call, error) {
	rows, err := db.QueryContext(ctx, `SELECT key, lease_id, uses FROM fleet_call ORDER BY key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []call
	for rows.Next() {
		var c call
		if err := rows.Scan(&c.key, &c.leaseID, &c.uses); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
