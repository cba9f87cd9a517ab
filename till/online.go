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

// Entry returns the journal's entry of key, and whether there is one.
func (j *Journal) Entry(ctx context.Context, key string) (Entry, bool, error) {
	return entryByKey(ctx, j.db, key)
}

// RecordOnline writes u, a use the central decided online (rec is its
// record of it, couponkit.TillRedeemResult.Entry), to the journal as an
// entry already synced, so that the till's levels count it, and runs
// hook, when not nil, on the same transaction. A use the central counted
// on one of the till's leases is counted on it here too (when the till's
// own count has room). The code is kept in its canonical form; a series
// the till has no configuration of is an errcode.ErrUnavailable error. A
// repeat of u.Key for the same sale returns the first entry and runs no
// hook; for another, errcode.ErrKeyMismatch.
func (j *Journal) RecordOnline(ctx context.Context, u Use, rec lease.Entry, hook func(*sql.Tx) error) (Entry, error) {
	tx, _, first, err := j.begin(ctx, &u)
	if tx == nil {
		return first, err
	}
	defer tx.Rollback()
	e := Entry{Use: u, Online: true, Synced: true, Verified: true}
	if rec.Counted == lease.OnLease && rec.LeaseID != "" {
		res, err := tx.ExecContext(ctx, `UPDATE till_lease SET used = used + 1 WHERE id = ? AND used + returned < granted`, rec.LeaseID)
		if err != nil {
			return Entry{}, fmt.Errorf("till: counting the online use on lease %s: %w", rec.LeaseID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			e.LeaseID = rec.LeaseID
		}
	}
	if err := j.write(ctx, tx, &e, hook); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// drawOn returns the lease an offline use u would draw on now (by the
// till's count, as Redeem picks it), or "" when it would draw on none,
// writing nothing.
func (j *Journal) drawOn(ctx context.Context, u Use) (string, error) {
	tx, s, _, err := j.begin(ctx, &u)
	if tx == nil {
		return "", err
	}
	defer tx.Rollback()
	k, err := knownCode(ctx, tx, &s, &u)
	if err != nil {
		return "", err
	}
	id, _, err := j.pickLease(ctx, tx, u.SeriesID, u.At, !k.Verified(), &spendWant{})
	if errors.Is(err, errcode.ErrNoLease) || errors.Is(err, errcode.ErrAllowanceExceeded) {
		return "", nil
	}
	return id, err
}

// LeaseState is a lease as the till keeps it: the central's Granted,
// Returned, End, status, Allowance and Version (of the newest answer the
// till has), and the till's own counts of the uses it made of it (Used),
// of those unverified, and of the uses it set aside for a return whose
// answer it has not had (Reserved, [Journal.ReserveReturn]).
type LeaseState struct {
	ID         string    `json:"id"`
	SeriesID   string    `json:"series_id"`
	Granted    int64     `json:"granted"`
	Returned   int64     `json:"returned"`
	Used       int64     `json:"used"`
	End        time.Time `json:"end"`
	Closed     bool      `json:"closed"`
	Allowance  int64     `json:"allowance"`
	Unverified int64     `json:"unverified"`
	Reserved   int64     `json:"reserved,omitempty"`
	Version    int64     `json:"version"`
	// Money is the money of the series' budget the central granted with
	// the lease, MoneyReturned what it took back, and MoneyUsed what the
	// till's offline uses spent of it (minor units of the series'
	// currency; zero for a series without a budget).
	Money         int64 `json:"money,omitempty"`
	MoneyReturned int64 `json:"money_returned,omitempty"`
	MoneyUsed     int64 `json:"money_used,omitempty"`
}

// MoneyLeft is the money the till may still spend of the lease by its own
// count.
func (l *LeaseState) MoneyLeft() int64 { return l.Money - l.MoneyReturned - l.MoneyUsed }

// Left is what the till may still use of the lease by its own count: not
// what it set aside for a return in doubt.
func (l *LeaseState) Left() int64 { return l.Granted - l.Returned - l.Used - l.Reserved }

// Leases returns the leases the journal keeps, by series and End.
func (j *Journal) Leases(ctx context.Context) ([]LeaseState, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT id, series_id, granted, returned, used, end_ns, closed, allowance, unverified, reserved, version,
	money_granted, money_returned, money_used
FROM till_lease ORDER BY series_id, end_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("till: reading leases: %w", err)
	}
	defer rows.Close()
	var out []LeaseState
	for rows.Next() {
		var l LeaseState
		var end int64
		if err := rows.Scan(&l.ID, &l.SeriesID, &l.Granted, &l.Returned, &l.Used, &end, &l.Closed, &l.Allowance, &l.Unverified, &l.Reserved, &l.Version,
			&l.Money, &l.MoneyReturned, &l.MoneyUsed); err != nil {
			return nil, fmt.Errorf("till: reading leases: %w", err)
		}
		l.End = time.Unix(0, end).UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("till: reading leases: %w", err)
	}
	return out, nil
}

// Uses counts the uses of a series the journal holds (offline and online,
// less those given back) made at or after since, by the till's clock.
func (j *Journal) Uses(ctx context.Context, seriesID string, since time.Time) (int64, error) {
	var n int64
	err := j.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM till_journal
WHERE series_id = ? AND reverses = '' AND reversed = 0 AND sale_ns >= ?`, seriesID, since.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("till: counting uses of series %s: %w", seriesID, err)
	}
	return n, nil
}
