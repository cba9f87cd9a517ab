package till

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Reversal gives back a use the journal holds: Key is the reversal's own
// idempotency key, Reverses the key of the use, At when it was given back
// (the till's clock).
type Reversal struct {
	Key      string    `json:"key"`
	Reverses string    `json:"reverses"`
	At       time.Time `json:"at"`
}

// Reverse records r, a reversal of a use the journal holds (offline or
// online), as a journal entry of its own, and runs hook, when not nil, on
// the same transaction: the reversal and whatever the hook writes commit
// together or not at all. From then on the use no longer counts toward the
// till's code, customer and series levels. The use stays counted on its
// lease (the central gives it back to the series, not to the lease), and
// the reversal is uploaded by [Journal.Sync] in journal order, after the
// use.
//
// A repeat of r.Key with the same parameters returns the first entry and
// runs no hook; the same key with other parameters (or the key of a use)
// is refused with an error matching errcode.ErrKeyMismatch. A key the
// journal has no use of is refused with an error matching
// errcode.ErrNotFound (RedemptionNotFound), a reversal of a reversal with
// errcode.ErrInvalidArgument, and a use already given back with
// errcode.AlreadyReversed. A refused reversal writes nothing.
func (j *Journal) Reverse(ctx context.Context, r Reversal, hook func(*sql.Tx) error) (Entry, error) {
	if r.Key == "" || r.Reverses == "" || r.At.IsZero() {
		return Entry{}, errcode.New(errcode.InvalidArgument, "Reversal", "needs a key, the key of the use and a time")
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return Entry{}, fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback()
	if first, found, err := entryByKey(ctx, tx, r.Key); err != nil || found {
		if err == nil && (first.Reverses != r.Reverses || !first.At.Equal(r.At)) {
			err = errcode.New(errcode.KeyMismatch, "Key", "the idempotency key was used for another request; use a new key for a new request")
		}
		return first, err
	}
	use, found, err := entryByKey(ctx, tx, r.Reverses)
	switch {
	case err != nil:
		return Entry{}, err
	case !found:
		return Entry{}, errcode.New(errcode.RedemptionNotFound, "Reverses", "the journal has no use of key "+r.Reverses)
	case use.Reverses != "":
		return Entry{}, errcode.New(errcode.InvalidArgument, "Reverses", "entry "+r.Reverses+" is a reversal, not a use")
	case use.Reversed:
		return Entry{}, errcode.New(errcode.AlreadyReversed, "Reverses", "the use of key "+r.Reverses+" was already given back")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE till_journal SET reversed = 1 WHERE key = ?`, r.Reverses); err != nil {
		return Entry{}, fmt.Errorf("till: marking %s reversed: %w", r.Reverses, err)
	}
	e := Entry{LeaseID: use.LeaseID, Use: use.Use, Reverses: r.Reverses}
	if e.LeaseID == "" {
		// An online use the central counted on no lease: the reversal is
		// reported under any lease of the series the till holds.
		if e.LeaseID, err = anyLease(ctx, tx, use.SeriesID); err != nil {
			return Entry{}, err
		}
	}
	e.Key, e.At = r.Key, r.At
	if err := j.write(ctx, tx, &e, hook); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// anyLease returns the lease of the series the till holds that ends last;
// none is an errcode.Unavailable error.
func anyLease(ctx context.Context, tx *sql.Tx, seriesID string) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM till_lease WHERE series_id = ? ORDER BY end_ns DESC, id LIMIT 1`, seriesID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errcode.New(errcode.Unavailable, "Reverses", "the till holds no lease of series "+seriesID+" to report the reversal under; sync first")
	}
	if err != nil {
		return "", fmt.Errorf("till: reading leases: %w", err)
	}
	return id, nil
}
