package tillproc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/lease"
)

// stateSchema is the till process's own tables, in the journal's SQLite
// file: every sale attempt and its outcome (a sold one is written in the
// same transaction as its journal entry), the leases as the central last
// answered them, and the lease calls sent but not yet answered, so that a
// restarted till sends them again with the same idempotency key.
const stateSchema = `
CREATE TABLE IF NOT EXISTS fleet_attempt (
	n       INTEGER PRIMARY KEY,
	outcome TEXT NOT NULL,
	key     TEXT NOT NULL,
	code    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fleet_lease (
	id     TEXT PRIMARY KEY,
	end_ns INTEGER NOT NULL,
	lease  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fleet_call (
	key      TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	lease_id TEXT NOT NULL,
	uses     INTEGER NOT NULL,
	end_ns   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fleet_seq (n INTEGER NOT NULL);
`

// Outcomes of a sale attempt.
const (
	sold     = "sold"     // the coupon was used (journal entry written)
	refused  = "refused"  // the rules refused the coupon
	declined = "declined" // no lease to use it on: sold without the discount
)

// call is a lease call sent (or about to be) and not yet answered.
type call struct {
	key, kind, leaseID string
	uses               int64
	end                time.Time
}

// nextAttempt is the number of the next sale attempt.
func nextAttempt(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM fleet_attempt`).Scan(&n)
	return n, err
}

// recordAttempt records attempt n's outcome, on tx when not nil.
func recordAttempt(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, n int, outcome, key, code string) error {
	_, err := db.ExecContext(ctx, `INSERT INTO fleet_attempt (n, outcome, key, code) VALUES (?, ?, ?, ?)`, n, outcome, key, code)
	return err
}

// counts returns how many attempts had each outcome.
func counts(ctx context.Context, db *sql.DB) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT outcome, COUNT(*) FROM fleet_attempt GROUP BY outcome`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, err
		}
		out[o] = n
	}
	return out, rows.Err()
}

// newKey returns a fresh idempotency key for a lease call.
func newKey(ctx context.Context, db *sql.DB, prefix string) (string, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM fleet_seq`).Scan(&n); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fleet_seq; INSERT INTO fleet_seq (n) VALUES (?)`, n); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d", prefix, n), tx.Commit()
}

func saveCall(ctx context.Context, db *sql.DB, c call) error {
	_, err := db.ExecContext(ctx, `INSERT INTO fleet_call (key, kind, lease_id, uses, end_ns) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		c.key, c.kind, c.leaseID, c.uses, c.end.UnixNano())
	return err
}

func dropCall(ctx context.Context, db *sql.DB, key string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM fleet_call WHERE key = ?`, key)
	return err
}

// pendingCalls returns the calls of kind sent and not answered.
func pendingCalls(ctx context.Context, db *sql.DB, kind string) ([]call, error) {
	rows, err := db.QueryContext(ctx, `SELECT key, kind, lease_id, uses, end_ns FROM fleet_call WHERE kind = ? ORDER BY key`, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []call
	for rows.Next() {
		var c call
		var ns int64
		if err := rows.Scan(&c.key, &c.kind, &c.leaseID, &c.uses, &ns); err != nil {
			return nil, err
		}
		c.end = time.Unix(0, ns).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// saveLease keeps the central's last answer about a lease.
func saveLease(ctx context.Context, db *sql.DB, l lease.Lease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO fleet_lease (id, end_ns, lease) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET end_ns = excluded.end_ns, lease = excluded.lease`, l.ID, l.End.UnixNano(), string(b))
	return err
}

// leases returns the leases the till holds, as the central last answered.
func leases(ctx context.Context, db *sql.DB) ([]lease.Lease, error) {
	rows, err := db.QueryContext(ctx, `SELECT lease FROM fleet_lease ORDER BY end_ns, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []lease.Lease
	for rows.Next() {
		var s string
		var l lease.Lease
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			return nil, fmt.Errorf("tillproc: a kept lease: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
