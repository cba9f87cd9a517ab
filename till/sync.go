package till

import (
	"context"
	"fmt"
	"strings"
)

// Pending returns at most limit entries the central has not acknowledged,
// in journal order, starting after the entry numbered after (0: from the
// start).
func (j *Journal) Pending(ctx context.Context, after int64, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := j.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM till_journal
WHERE synced = 0 AND seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("till: reading the journal: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("till: reading the journal: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("till: reading the journal: %w", err)
	}
	return out, nil
}

// MarkSynced marks the entries with the given keys acknowledged by the
// central. Marking an entry twice, or a key the journal does not have,
// changes nothing.
func (j *Journal) MarkSynced(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	q := `UPDATE till_journal SET synced = 1 WHERE key IN (?` + strings.Repeat(", ?", len(keys)-1) + `)`
	if _, err := j.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("till: marking entries synced: %w", err)
	}
	return nil
}

// Left returns the uses the till may still make of a lease by its own
// count: what the central granted less what was returned, what the till
// used and what it set aside for a return in doubt
// ([Journal.ReserveReturn]).
func (j *Journal) Left(ctx context.Context, leaseID string) (int64, error) {
	var n int64
	err := j.db.QueryRowContext(ctx, `SELECT granted - returned - used - reserved FROM till_lease WHERE id = ?`, leaseID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("till: reading lease %s: %w", leaseID, err)
	}
	return n, nil
}
