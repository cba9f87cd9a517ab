package till

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// Call is a lease call the till is sending to the central and has no
// answer to yet: a grant of Uses uses of a series until End, a renewal of
// a lease to End, a top-up or a return of Uses uses. The journal keeps it
// ([Journal.BeginCall]) from before it is sent until its answer is kept
// ([Journal.SettleCall]), so that a till that got no answer, or crashed
// meanwhile, sends it again with the same Key: the central answers a
// repeated key with the call's first result, and the till learns the
// lease a lost grant made, or that a return in doubt was made.
type Call struct {
	Key      string     `json:"key"`
	Kind     lease.Kind `json:"kind"`
	SeriesID string     `json:"series_id"`
	LeaseID  string     `json:"lease_id,omitempty"`
	Uses     int64      `json:"uses,omitempty"`
	End      time.Time  `json:"end,omitzero"`
}

// BeginCall writes c down before it is sent. A return sets its uses aside
// at once: from then on the lease's Left excludes them, so that the till
// does not spend them while the answer is in doubt; they stay set aside
// until the answer is kept (SettleCall), and for good if none comes (the
// central reclaims them once the lease lapses). A return of more than the
// lease has left by the till's count is refused with an error matching
// errcode.ErrInvalidArgument on "Uses", of a lease the journal does not
// hold with errcode.ErrNotFound. Writing the same call down again changes
// nothing; another call under the key is refused with
// errcode.ErrKeyMismatch.
func (j *Journal) BeginCall(ctx context.Context, c Call) error {
	if c.Key == "" || c.Kind < lease.Grant || c.Kind > lease.Return || (c.Kind == lease.Grant) == (c.LeaseID != "") {
		return errcode.New(errcode.InvalidArgument, "Call", "needs a key, a kind, and a lease but for a grant")
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback()
	if first, found, err := callByKey(ctx, tx, c.Key); err != nil || found {
		if err == nil && (first.Kind != c.Kind || first.LeaseID != c.LeaseID || first.Uses != c.Uses || !first.End.Equal(c.End)) {
			err = errcode.New(errcode.KeyMismatch, "Key", "the key was used for another lease call")
		}
		return err
	}
	if c.LeaseID != "" {
		var left int64
		err := tx.QueryRowContext(ctx, `SELECT series_id, granted - returned - used - reserved FROM till_lease WHERE id = ?`,
			c.LeaseID).Scan(&c.SeriesID, &left)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errcode.New(errcode.NotFound, "LeaseID", "the till holds no lease "+c.LeaseID)
		case err != nil:
			return fmt.Errorf("till: reading lease %s: %w", c.LeaseID, err)
		case c.Kind == lease.Return && (c.Uses <= 0 || c.Uses > left):
			return errcode.New(errcode.InvalidArgument, "Uses", fmt.Sprintf("a return needs 1 to %d uses, what lease %s has left", left, c.LeaseID))
		}
	}
	if c.Kind == lease.Return {
		if _, err := tx.ExecContext(ctx, `UPDATE till_lease SET reserved = reserved + ? WHERE id = ?`, c.Uses, c.LeaseID); err != nil {
			return fmt.Errorf("till: setting uses aside on lease %s: %w", c.LeaseID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO till_call (key, kind, series_id, lease_id, uses, end_ns) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Key, c.Kind, c.SeriesID, c.LeaseID, c.Uses, nanos(c.End)); err != nil {
		return fmt.Errorf("till: writing the lease call down: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("till: writing the lease call down: %w", err)
	}
	return nil
}

// ReserveReturn writes down a return of uses of a lease under key before
// it is sent, setting the uses aside (BeginCall of a return).
func (j *Journal) ReserveReturn(ctx context.Context, leaseID string, uses int64, key string) error {
	return j.BeginCall(ctx, Call{Key: key, Kind: lease.Return, LeaseID: leaseID, Uses: uses})
}

// SettleCall keeps the central's answer to the call written down under
// key, in one transaction: the lease answered, when not nil, as PutLease
// keeps it (an older answer than the journal's changes nothing), and the
// call is done: a return's uses are no longer set aside (the answer's
// Returned counts them, or, when the central refused the return, the
// lease still has them). Pass nil for a refusal. A key with no call
// written down just keeps the lease.
func (j *Journal) SettleCall(ctx context.Context, key string, answer *lease.Lease) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback()
	c, found, err := callByKey(ctx, tx, key)
	if err != nil {
		return err
	}
	if found && c.Kind == lease.Return {
		if _, err := tx.ExecContext(ctx, `UPDATE till_lease SET reserved = MAX(0, reserved - ?) WHERE id = ?`, c.Uses, c.LeaseID); err != nil {
			return fmt.Errorf("till: ending the return's reservation on lease %s: %w", c.LeaseID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM till_call WHERE key = ?`, key); err != nil {
		return fmt.Errorf("till: settling lease call %s: %w", key, err)
	}
	if answer != nil {
		if err := putLease(ctx, tx, answer); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("till: settling lease call %s: %w", key, err)
	}
	return nil
}

// Calls returns the lease calls written down and not settled, in the
// order they were begun.
func (j *Journal) Calls(ctx context.Context) ([]Call, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+callColumns+` FROM till_call ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("till: reading lease calls: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("till: reading lease calls: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("till: reading lease calls: %w", err)
	}
	return out, nil
}

const callColumns = `key, kind, series_id, lease_id, uses, end_ns`

func scanCall(row interface{ Scan(...any) error }) (Call, error) {
	var c Call
	var end int64
	err := row.Scan(&c.Key, &c.Kind, &c.SeriesID, &c.LeaseID, &c.Uses, &end)
	c.End = timeOf(end)
	return c, err
}

// callByKey reads the call written down under key, and whether there is
// one.
func callByKey(ctx context.Context, tx querier, key string) (Call, bool, error) {
	c, err := scanCall(tx.QueryRowContext(ctx, `SELECT `+callColumns+` FROM till_call WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, false, nil
	}
	if err != nil {
		return Call{}, false, fmt.Errorf("till: reading lease call %s: %w", key, err)
	}
	return c, true, nil
}
