package till

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// A sale in doubt: the till asked the central to decide it and had no
// answer (the deadline passed, the network failed, the answer was lost),
// and then could not make it offline either (no lease, a refusal by the
// rules the till holds, an allowance spent). The customer got no
// discount, yet the central may have made the use: left alone, a coupon
// would be used up centrally by a sale that never happened. Redeem keeps
// such a sale in the journal (till_doubt), and Sync settles it: it asks
// the central for the sale again under its key, which answers the use it
// made (or makes it now), records the use and gives it back at once
// (Journal.Reverse, under the sale's key and "/void"), so that the central and the till end with the same
// use, given back, recorded once; a sale the central refuses now was
// never made there, and is settled with nothing to give back. A sale the
// central still does not answer stays in doubt for the next Sync. A sale
// made after all under its key (the cashier tried again, online or
// offline) is no longer in doubt: the journal entry that records it
// settles it in its own transaction. Settling marks the sale (voiding)
// in the transaction that records the central's use, so that the use it
// records is given back even if the till stops before the reversal, and a
// till stopped before that record leaves the sale in doubt, to be made
// after all or asked again; do not retry a sale while a Sync settles it.

// migrationV2 brings a version 1 file to version 2: till_doubt keeps the
// sales in doubt, by key.
const migrationV2 = `
CREATE TABLE till_doubt (
	key     TEXT PRIMARY KEY,
	sale    TEXT NOT NULL,
	voiding INTEGER NOT NULL DEFAULT 0
);
`

// voidSuffix is added to a sale's key to make the key of the reversal
// that gives back a sale in doubt.
const voidSuffix = "/void"

// putDoubt keeps s as a sale in doubt; keeping it twice changes nothing.
func (j *Journal) putDoubt(ctx context.Context, s *Sale) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("till: encoding sale %s: %w", s.Key, err)
	}
	if _, err := j.db.ExecContext(ctx, `INSERT INTO till_doubt (key, sale) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		s.Key, string(doc)); err != nil {
		return fmt.Errorf("till: keeping sale %s in doubt: %w", s.Key, err)
	}
	return nil
}

// Doubts returns the sales in doubt, by key.
func (j *Journal) Doubts(ctx context.Context) ([]Sale, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT sale FROM till_doubt ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("till: reading the sales in doubt: %w", err)
	}
	defer rows.Close()
	var out []Sale
	for rows.Next() {
		var doc string
		var s Sale
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("till: reading the sales in doubt: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			return nil, fmt.Errorf("till: decoding a sale in doubt: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// markVoiding marks the sale in doubt of key as being given back, in the
// transaction that records the central's use of it.
func markVoiding(ctx context.Context, tx *sql.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE till_doubt SET voiding = 1 WHERE key = ?`, key); err != nil {
		return fmt.Errorf("till: settling sale %s: %w", key, err)
	}
	return nil
}

// settled settles, in tx, the sale in doubt of key when an entry records
// it as made: every use, online or offline, that is not being given back.
func settled(ctx context.Context, tx *sql.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM till_doubt WHERE key = ? AND voiding = 0`, key); err != nil {
		return fmt.Errorf("till: settling sale %s: %w", key, err)
	}
	return nil
}

func (j *Journal) dropDoubt(ctx context.Context, key string) error {
	if _, err := j.db.ExecContext(ctx, `DELETE FROM till_doubt WHERE key = ?`, key); err != nil {
		return fmt.Errorf("till: settling sale %s: %w", key, err)
	}
	return nil
}

// doubt keeps s in doubt after it was asked of the central in vain and
// then failed offline with err, and returns err (joined with a failure to
// keep it). It writes even when ctx is done: the question is open either
// way.
func (t *Till) doubt(ctx context.Context, s *Sale, err error) error {
	if perr := t.j.putDoubt(context.WithoutCancel(ctx), s); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

// settle settles the sales in doubt (see above) and returns how many it
// gave back and how many stay in doubt.
func (t *Till) settle(ctx context.Context) (voided, left int, err error) {
	doubts, err := t.j.Doubts(ctx)
	if err != nil {
		return 0, 0, err
	}
	for i := range doubts {
		made, done, err := t.settleOne(ctx, &doubts[i])
		if err != nil {
			return voided, left, err
		}
		if made {
			voided++
		}
		if !done {
			left++
		}
	}
	return voided, left, nil
}

// settleOne settles the sale in doubt s: it reports whether the central
// had made the use (now given back) and whether s is settled.
func (t *Till) settleOne(ctx context.Context, s *Sale) (made, done bool, err error) {
	if e, found, err := t.j.Entry(ctx, s.Key); err != nil || found {
		// Recorded by an earlier settle that stopped before it dropped
		// the doubt (a sale made after all settles its doubt as it is
		// recorded): give it back if it is not.
		if err != nil {
			return false, false, err
		}
		return t.void(ctx, s, e)
	}
	req, err := t.request(ctx, s)
	if err != nil {
		return false, false, err
	}
	// A use the central makes now is counted on the series, not on a
	// lease use the till may have spent offline since (a reversal gives a
	// use back to the series, never to the lease).
	req.NoLease = true
	cctx, cancel := context.WithTimeout(ctx, t.cfg.Deadline)
	res, err := t.cfg.Central.RedeemAtTill(cctx, req)
	cancel()
	var re *refusal.Error
	switch {
	case err == nil:
	case errors.As(err, &re) || !Unanswered(err):
		// The central refuses the sale now: it never made it.
		return false, true, t.j.dropDoubt(ctx, s.Key)
	default:
		return false, false, nil
	}
	e, err := t.j.RecordOnline(ctx, *s, res.Entry, func(tx *sql.Tx) error { return markVoiding(ctx, tx, s.Key) })
	if err != nil {
		return false, false, err
	}
	return t.void(ctx, s, e)
}

// void gives back e, the recorded use of the sale in doubt s, unless it
// was given back already, and settles s. A till that holds no lease of
// the series to report the reversal under keeps s in doubt, for a Sync
// after it has one (the use stays recorded, and is given back then).
func (t *Till) void(ctx context.Context, s *Sale, e Entry) (made, done bool, err error) {
	if !e.Reversed {
		_, err := t.j.Reverse(ctx, Reversal{Key: s.Key + voidSuffix, Reverses: s.Key, At: t.cfg.Now()}, nil)
		if errors.Is(err, errcode.ErrUnavailable) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
	}
	return true, true, t.j.dropDoubt(ctx, s.Key)
}
