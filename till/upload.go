package till

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
	"github.com/shopspring/decimal"
)

// Uploader sends a batch of the journal to the central and returns its
// acknowledgement: couponkit.Engine.ApplyJournal, or the HTTP client of
// package tillhttp.
type Uploader interface {
	UploadJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error)
}

// Sync uploads the journal's pending entries (uses and reversals) in journal order, in
// batches of at most batch entries (couponkit.MaxJournalBatch when 0 or
// more), and marks synced each entry the central acknowledged. A use the
// till decided offline that the central had decided online (its answer
// lost) is counted, from then on, on the lease the central counted it on
// (when the till holds it), not on the one the till drew, so that what the
// till may use of each lease is what the central left it. It stops
// at the first failure and returns how many entries were acknowledged;
// calling it again resumes, and the central counts an entry sent twice
// once.
func (j *Journal) Sync(ctx context.Context, till string, up Uploader, batch int) (int, error) {
	if batch <= 0 || batch > couponkit.MaxJournalBatch {
		batch = couponkit.MaxJournalBatch
	}
	done := 0
	for {
		pending, err := j.Pending(ctx, 0, batch)
		if err != nil || len(pending) == 0 {
			return done, err
		}
		b := couponkit.JournalBatch{Till: till, Entries: make([]couponkit.JournalEntry, len(pending))}
		for i, e := range pending {
			if b.Entries[i], err = journalEntry(&e); err != nil {
				return done, err
			}
		}
		ack, err := up.UploadJournal(ctx, b)
		if err != nil {
			return done, fmt.Errorf("till: uploading the journal: %w", err)
		}
		if len(ack.Entries) == 0 {
			return done, errcode.New(errcode.Unavailable, "", "the central acknowledged no entry")
		}
		if err := j.markAcked(ctx, pending, ack.Entries); err != nil {
			return done, err
		}
		done += len(ack.Entries)
	}
}

// journalEntry is e as the central takes it: a reversal carries the key
// of the use it gives back, with that use's code, customer and bill.
func journalEntry(e *Entry) (couponkit.JournalEntry, error) {
	amount, err := decimal.NewFromString(e.Bill)
	if err != nil {
		return couponkit.JournalEntry{}, errcode.Wrap(errcode.InvalidArgument, err, "entry "+e.Key+": the bill is not a number")
	}
	return couponkit.JournalEntry{Key: e.Key, LeaseID: e.LeaseID, Code: e.Code, Customer: e.Customer,
		Bill: series.Money{Amount: amount, Currency: e.Currency}, At: e.At, Reverses: e.Reverses, Discount: e.Discount}, nil
}

// markAcked marks synced the entries the central acknowledged (recs, of
// the pending entries), in one transaction; an offline use the central
// had recorded online on another lease follows the central's record.
func (j *Journal) markAcked(ctx context.Context, pending []Entry, recs []lease.Entry) error {
	byKey := make(map[string]*Entry, len(pending))
	for i := range pending {
		byKey[pending[i].Key] = &pending[i]
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback()
	for i := range recs {
		rec := &recs[i]
		if e := byKey[rec.Key]; e != nil && rec.Online && !e.Online && e.Reverses == "" && rec.LeaseID != e.LeaseID {
			if err := follow(ctx, tx, e, rec); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE till_journal SET synced = 1 WHERE key = ?`, rec.Key); err != nil {
			return fmt.Errorf("till: marking entries synced: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("till: marking entries synced: %w", err)
	}
	return nil
}

// follow moves the offline use e to where the central counted it online
// (rec): off the lease the till drew, onto rec's lease when the till holds
// it and its count has room, else onto none.
func follow(ctx context.Context, tx *sql.Tx, e *Entry, rec *lease.Entry) error {
	unverified := 0
	if !e.Verified {
		unverified = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE till_lease SET used = used - 1, unverified = unverified - ?, money_used = money_used - ? WHERE id = ?`,
		unverified, e.Budget, e.LeaseID); err != nil {
		return fmt.Errorf("till: giving back the use %s of lease %s: %w", e.Key, e.LeaseID, err)
	}
	to := sql.NullString{}
	if rec.Counted == lease.OnLease && rec.LeaseID != "" {
		res, err := tx.ExecContext(ctx, `UPDATE till_lease SET used = used + 1 WHERE id = ? AND used + returned < granted`, rec.LeaseID)
		if err != nil {
			return fmt.Errorf("till: counting the use %s on lease %s: %w", e.Key, rec.LeaseID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			to = sql.NullString{String: rec.LeaseID, Valid: true}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE till_journal SET lease_id = ? WHERE key = ?`, to, e.Key); err != nil {
		return fmt.Errorf("till: moving the use %s: %w", e.Key, err)
	}
	return nil
}
