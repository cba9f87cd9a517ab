package till

import (
	"context"
	"fmt"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
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
// more), and marks synced each entry the central acknowledged. It stops
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
		keys := make([]string, len(ack.Entries))
		for i, a := range ack.Entries {
			keys[i] = a.Key
		}
		if len(keys) == 0 {
			return done, errcode.New(errcode.Unavailable, "", "the central acknowledged no entry")
		}
		if err := j.MarkSynced(ctx, keys); err != nil {
			return done, err
		}
		done += len(keys)
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
		Bill: series.Money{Amount: amount, Currency: e.Currency}, At: e.At, Reverses: e.Reverses}, nil
}
