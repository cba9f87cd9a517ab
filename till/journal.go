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

// schema is the journal's tables: the leases the till holds (with its own
// count of the uses it made of each), the journal of offline uses and the
// configuration of each series as the till last synced it.
const schema = `
CREATE TABLE IF NOT EXISTS till_lease (
	id        TEXT PRIMARY KEY,
	series_id TEXT NOT NULL,
	granted   INTEGER NOT NULL,
	returned  INTEGER NOT NULL DEFAULT 0,
	used      INTEGER NOT NULL DEFAULT 0 CHECK (used + returned <= granted),
	end_ns    INTEGER NOT NULL,
	closed    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS till_journal (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	key       TEXT NOT NULL UNIQUE,
	lease_id  TEXT NOT NULL REFERENCES till_lease(id),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	customer  TEXT NOT NULL,
	bill      TEXT NOT NULL,
	currency  TEXT NOT NULL,
	sale_ns   INTEGER NOT NULL,
	synced    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS till_journal_pending ON till_journal (synced, seq);
CREATE INDEX IF NOT EXISTS till_journal_code ON till_journal (series_id, code, customer);
CREATE INDEX IF NOT EXISTS till_journal_customer ON till_journal (series_id, customer, sale_ns);
CREATE TABLE IF NOT EXISTS till_series (
	id     TEXT PRIMARY KEY,
	config TEXT NOT NULL
);
`

// Journal is a till's local store of leases and offline uses over a SQL
// database (SQLite with the modernc.org/sqlite driver). It is safe for
// concurrent use as far as its database is.
type Journal struct {
	db   *sql.DB
	skew time.Duration
}

// Open creates the journal's tables in db if they are missing and returns
// the journal. skew is the clock-skew allowance: the till stops using a
// lease that long before its End by its own clock (lease.Lease.UsableAt).
// Redeem reads and then writes in one transaction: on SQLite, give it a
// database whose transactions take the write lock when they begin (the
// modernc.org/sqlite DSN parameter _txlock=immediate) or one open
// connection, so that concurrent uses wait for each other instead of
// failing; the table's CHECK keeps a lease's uses within it either way.
func Open(ctx context.Context, db *sql.DB, skew time.Duration) (*Journal, error) {
	if skew < 0 {
		return nil, errcode.New(errcode.InvalidArgument, "skew", "must not be negative")
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("till: creating the journal's tables: %w", err)
	}
	return &Journal{db: db, skew: skew}, nil
}

// PutLease keeps a lease as the central last answered it: a new lease is
// added, a known one gets the central's Granted, Returned, End and status
// (the till's own count of uses is kept).
func (j *Journal) PutLease(ctx context.Context, l lease.Lease) error {
	if err := l.Check(); err != nil {
		return err
	}
	_, err := j.db.ExecContext(ctx, `
INSERT INTO till_lease (id, series_id, granted, returned, end_ns, closed) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET granted = excluded.granted, returned = excluded.returned,
	end_ns = excluded.end_ns, closed = excluded.closed`,
		l.ID, l.SeriesID, l.Granted.Uses, l.Returned.Uses, l.End.UnixNano(), l.Status == lease.Closed)
	if err != nil {
		return fmt.Errorf("till: keeping lease %s: %w", l.ID, err)
	}
	return nil
}

// Use is one offline redemption as the till records it.
type Use struct {
	// Key is the sale's idempotency key (the POS transaction id), unique
	// in the journal.
	Key      string `json:"key"`
	SeriesID string `json:"series_id"`
	Code     string `json:"code"`
	Customer string `json:"customer"`
	Bill     string `json:"bill"`
	Currency string `json:"currency"`
	// At is the sale time by the till's clock.
	At time.Time `json:"at"`
}

// Entry is a journal entry: a use, its place in the journal, the lease it
// drew on, and whether the central has acknowledged it.
type Entry struct {
	Seq     int64  `json:"seq"`
	LeaseID string `json:"lease_id"`
	Use
	Synced bool `json:"synced"`
}

// Redeem records u as an offline use within a lease of its series, and
// runs hook, when not nil, on the same transaction: the use, its journal
// entry and whatever the hook writes commit together or not at all (a
// hook's error rolls everything back and is returned). The use is first
// decided under the series' rules as the till last synced them
// ([Journal.PutSeries], [Decide]): a use the rules refuse returns a
// *refusal.Error with the codes the central uses, and a series the till
// has no configuration of is refused with an error matching
// errcode.ErrUnavailable. With no lease of the series usable at u.At, it
// is refused with an error matching errcode.ErrLimitReached. A refused
// use writes nothing. A repeat of u.Key with
// the same parameters returns the first entry and runs no hook; with
// other parameters it is refused with errcode.ErrKeyMismatch.
func (j *Journal) Redeem(ctx context.Context, u Use, hook func(*sql.Tx) error) (Entry, error) {
	if u.Key == "" || u.SeriesID == "" || u.Code == "" || u.At.IsZero() {
		return Entry{}, errcode.New(errcode.InvalidArgument, "Use", "needs a key, a series, a code and a sale time")
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return Entry{}, fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback() // after a commit, a rollback does nothing
	if first, found, err := entryByKey(ctx, tx, u.Key); err != nil || found {
		if err == nil {
			err = sameUse(&first.Use, &u)
		}
		return first, err
	}
	if err := j.decide(ctx, tx, &u); err != nil {
		return Entry{}, err
	}
	id, err := j.pickLease(ctx, tx, u.SeriesID, u.At)
	if err != nil {
		return Entry{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE till_lease SET used = used + 1 WHERE id = ?`, id); err != nil {
		return Entry{}, fmt.Errorf("till: taking a use of lease %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO till_journal (key, lease_id, series_id, code, customer, bill, currency, sale_ns)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Key, id, u.SeriesID, u.Code, u.Customer, u.Bill, u.Currency, u.At.UnixNano())
	if err != nil {
		return Entry{}, fmt.Errorf("till: writing the journal entry: %w", err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return Entry{}, fmt.Errorf("till: %w", err)
	}
	if hook != nil {
		if err := hook(tx); err != nil {
			return Entry{}, fmt.Errorf("till: the sale's hook: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Entry{}, fmt.Errorf("till: committing the use: %w", err)
	}
	return Entry{Seq: seq, LeaseID: id, Use: u}, nil
}

// pickLease returns the lease of the series that the use at at draws on:
// of those usable at at (lease.Lease.UsableAt with the journal's skew),
// the one ending first, so that no lease lapses with uses left that
// another could have spared.
func (j *Journal) pickLease(ctx context.Context, tx *sql.Tx, seriesID string, at time.Time) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM till_lease
WHERE series_id = ? AND closed = 0 AND granted - returned - used > 0 AND ? < end_ns - ?
ORDER BY end_ns, id LIMIT 1`, seriesID, at.UnixNano(), j.skew.Nanoseconds()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errcode.New(errcode.LimitReached, "SeriesID", "the till has no lease of series "+seriesID+" with a use left")
	}
	if err != nil {
		return "", fmt.Errorf("till: reading leases: %w", err)
	}
	return id, nil
}

// sameUse checks that a use repeated under first's key asks what first
// recorded.
func sameUse(first, u *Use) error {
	if first.SeriesID != u.SeriesID || first.Code != u.Code || first.Customer != u.Customer ||
		first.Bill != u.Bill || first.Currency != u.Currency || !first.At.Equal(u.At) {
		return errcode.New(errcode.KeyMismatch, "Key", "the idempotency key was used for another sale; use a new key for a new request")
	}
	return nil
}

const entryColumns = `seq, lease_id, key, series_id, code, customer, bill, currency, sale_ns, synced`

// scanEntry reads one row of entryColumns.
func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var ns int64
	err := row.Scan(&e.Seq, &e.LeaseID, &e.Key, &e.SeriesID, &e.Code, &e.Customer, &e.Bill, &e.Currency, &ns, &e.Synced)
	e.At = time.Unix(0, ns).UTC()
	return e, err
}

// entryByKey reads the entry of key, and whether there is one.
func entryByKey(ctx context.Context, tx *sql.Tx, key string) (Entry, bool, error) {
	e, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM till_journal WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("till: reading the journal: %w", err)
	}
	return e, true, nil
}
