package tillproc

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/couponkit/couponkit/till"
)

// stateSchema is the till process's own tables, in the journal's SQLite
// file: every sale attempt and its outcome (a sold one is written in the
// same transaction as its journal entry, and says whether the central
// decided it online; a reversed one is marked in the transaction of its
// reversal's entry; a refused or declined one is written after the
// till.Till answered it: one asked of the central in vain may have been
// kept in doubt and voided, see voidedCount), and the returns of leases
// written down before they are sent, so that a restarted till sends them
// again with the same idempotency key.
const stateSchema = `
CREATE TABLE IF NOT EXISTS fleet_attempt (
	n         INTEGER PRIMARY KEY,
	outcome   TEXT NOT NULL,
	key       TEXT NOT NULL,
	code      TEXT NOT NULL,
	online    INTEGER NOT NULL DEFAULT 0,
	reversed  INTEGER NOT NULL DEFAULT 0
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
func recordAttempt(ctx context.Context, db execer, n int, outcome, key, code string, online bool) error {
	_, err := db.ExecContext(ctx, `INSERT INTO fleet_attempt (n, outcome, key, code, online) VALUES (?, ?, ?, ?, ?)`,
		n, outcome, key, code, online)
	return err
}

// markReversed marks the sale of key reversed, on the reversal's
// transaction.
func markReversed(ctx context.Context, tx execer, key string) error {
	res, err := tx.ExecContext(ctx, `UPDATE fleet_attempt SET reversed = 1 WHERE key = ? AND outcome = 'sold' AND reversed = 0`, key)
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
	sold, online, reversed, refused, declined int
}

// counts reads the tally of the till's attempts.
func counts(ctx context.Context, db *sql.DB) (tally, error) {
	var t tally
	err := db.QueryRowContext(ctx, `SELECT
	COALESCE(SUM(outcome = 'sold'), 0), COALESCE(SUM(outcome = 'sold' AND online), 0), COALESCE(SUM(outcome = 'sold' AND reversed), 0),
	COALESCE(SUM(outcome = 'refused'), 0), COALESCE(SUM(outcome = 'declined'), 0) FROM fleet_attempt`).
		Scan(&t.sold, &t.online, &t.reversed, &t.refused, &t.declined)
	return t, err
}

// voidedCount counts the attempts refused or declined that the till kept
// in doubt and Till.Sync voided: the central had made the use, and the
// journal recorded it and gave it back under the sale's key and "/void".
func voidedCount(ctx context.Context, db *sql.DB, j *till.Journal) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT key FROM fleet_attempt WHERE outcome IN ('refused', 'declined') ORDER BY n`)
	if err != nil {
		return 0, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		e, found, err := j.Entry(ctx, k+voidSuffix)
		if err != nil {
			return 0, err
		}
		if found && e.Reverses == k {
			n++
		}
	}
	return n, nil
}

// voidSuffix is what till.Till.Sync adds to the key of a sale in doubt to
// key the reversal that gives it back.
const voidSuffix = "/void"

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
