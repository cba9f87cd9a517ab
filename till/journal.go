package till

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
)

// Journal is a till's local store of leases and offline uses over a SQL
// database (SQLite with the modernc.org/sqlite driver). It is safe for
// concurrent use as far as its database is.
type Journal struct {
	db   *sql.DB
	skew time.Duration
	till string
}

// Option sets an optional parameter of [Open].
type Option func(*Journal)

// WithTill names the till the journal belongs to: the feed's record of
// the till's own uses (events whose Actor is "till "+id) is then skipped
// by [Journal.ApplyFeed], since the journal counts them already.
func WithTill(id string) Option { return func(j *Journal) { j.till = id } }

// Open creates the journal's tables in db if they are missing, brings an
// older file's tables to the current schema (PRAGMA user_version counts
// the steps), and returns the journal. skew is the clock-skew allowance: the till stops using a
// lease that long before its End by its own clock (lease.Lease.UsableAt).
// Redeem reads and then writes in one transaction: on SQLite, give it a
// database whose transactions take the write lock when they begin (the
// modernc.org/sqlite DSN parameter _txlock=immediate) or one open
// connection, so that concurrent uses wait for each other instead of
// failing; the table's CHECK keeps a lease's uses within it either way.
func Open(ctx context.Context, db *sql.DB, skew time.Duration, opts ...Option) (*Journal, error) {
	if skew < 0 {
		return nil, errcode.New(errcode.InvalidArgument, "skew", "must not be negative")
	}
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("till: creating the journal's tables: %w", err)
	}
	j := &Journal{db: db, skew: skew}
	for _, o := range opts {
		o(j)
	}
	return j, nil
}

// Till returns the till's id given to Open (WithTill), or "".
func (j *Journal) Till() string { return j.till }

// PutLease keeps a lease as the central answered it, when the answer is
// newer than the one the journal holds (a greater lease.Lease.Version): a
// new lease is added, a known one gets the central's Granted, Returned
// (uses and money), End, status, Allowance and Version (the till's own
// counts of uses, of money spent, of unverified uses and of uses set
// aside for a return are kept). An older
// answer, or the same one again (a retried call answered with its first
// result, a duplicate delivered late), changes nothing: it must not roll
// the lease back, least of all its Returned, which would let the till
// spend uses it gave back.
func (j *Journal) PutLease(ctx context.Context, l lease.Lease) error {
	return putLease(ctx, j.db, &l)
}

// putLease is PutLease on a *sql.DB or a *sql.Tx.
func putLease(ctx context.Context, tx execer, l *lease.Lease) error {
	if err := l.Check(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO till_lease (id, series_id, granted, returned, end_ns, closed, allowance, version, money_granted, money_returned)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET granted = excluded.granted, returned = excluded.returned,
	end_ns = excluded.end_ns, closed = excluded.closed, allowance = excluded.allowance, version = excluded.version,
	money_granted = excluded.money_granted, money_returned = excluded.money_returned
WHERE excluded.version > till_lease.version`,
		l.ID, l.SeriesID, l.Granted.Uses, l.Returned.Uses, l.End.UnixNano(), l.Status == lease.Closed, l.Allowance, l.Version,
		l.Granted.Money, l.Returned.Money)
	if err != nil {
		return fmt.Errorf("till: keeping lease %s: %w", l.ID, err)
	}
	return nil
}

// execer is a *sql.DB or a *sql.Tx, for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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

// Entry is a journal entry: a use (or a reversal), its place in the
// journal, the lease it drew on, and whether the central has acknowledged
// it.
type Entry struct {
	Seq int64 `json:"seq"`
	// LeaseID is the lease the use drew on; "" for an online use the
	// central did not count on a lease the till holds.
	LeaseID string `json:"lease_id"`
	Use
	Synced bool `json:"synced"`
	// Online is true for a use the central decided ([Till.Redeem]), which
	// the journal keeps so that the till's levels count it.
	Online bool `json:"online,omitempty"`
	// Verified is true for a use of a code the till knew from the feed
	// (issued, not denied); an unverified use took one of its lease's
	// Allowance.
	Verified bool `json:"verified,omitempty"`
	// Reverses is set on a reversal: the key of the use it gives back.
	// Its Code, Customer and Bill repeat that use's, At is when it was
	// given back.
	Reverses string `json:"reverses,omitempty"`
	// Reversed is true for a use a later reversal gave back.
	Reversed bool `json:"reversed,omitempty"`
	// Discount is the discount the till gave offline, for a series with a
	// budget (the series' discount of the bill, or less when the series
	// reduces it to what the lease's money had left), and Budget what it
	// spent of its lease's money, in minor units of the series' currency.
	Discount series.Money `json:"discount,omitzero"`
	Budget   int64        `json:"budget,omitempty"`
}

// Redeem records u as an offline use within a lease of its series, and
// runs hook, when not nil, on the same transaction: the use, its journal
// entry and whatever the hook writes commit together or not at all (a
// hook's error rolls everything back and is returned).
//
// The code is kept in its canonical form for the series
// (series.Source.CanonicalCode): "abc", " ABC " and, in a series with the
// confusion-free alphabet, "O" for "0" are one code, counted as one. The
// use is then decided ([Decide]) under the series' rules as the till last
// synced them ([Journal.PutSeries], [Journal.ApplyFeed]), with what the
// feed told of the code (its state, holder and the central's uses) and
// the till's own journal: a use the rules refuse returns a *refusal.Error
// with the codes the central uses, and a series the till has no
// configuration of is refused with an error matching
// errcode.ErrUnavailable. A code the feed did not tell of (or not as
// issued) is unverified: it draws only on a lease whose Allowance of
// unverified uses has one left, else it is refused with an error matching
// errcode.ErrAllowanceExceeded on field "Allowance". With no lease of the
// series usable at u.At, it is refused with an error matching
// errcode.ErrNoLease on "SeriesID" (not ErrLimitReached, which the rules'
// refusals match: a caller may ask for a lease on this error alone). A refused use writes nothing. A
// repeat of u.Key with the same parameters returns the first entry and
// runs no hook; with other parameters it is refused with
// errcode.ErrKeyMismatch.
func (j *Journal) Redeem(ctx context.Context, u Use, hook func(*sql.Tx) error) (Entry, error) {
	if u.Key == "" || u.SeriesID == "" || u.Code == "" || u.At.IsZero() {
		return Entry{}, errcode.New(errcode.InvalidArgument, "Use", "needs a key, a series, a code and a sale time")
	}
	tx, s, first, err := j.begin(ctx, &u)
	if tx == nil {
		return first, err
	}
	defer tx.Rollback() // after a commit, a rollback does nothing
	k, err := knownCode(ctx, tx, &s, &u)
	if err != nil {
		return Entry{}, err
	}
	c, err := journalCounts(ctx, tx, &u, &k)
	if err != nil {
		return Entry{}, err
	}
	if err := Decide(&s, &c, &u, &k); err != nil {
		return Entry{}, err
	}
	e := Entry{Use: u, Verified: k.Verified()}
	want, err := offlineSpend(&s, &u)
	if err != nil {
		return Entry{}, err
	}
	var spend int64
	if e.LeaseID, spend, err = j.pickLease(ctx, tx, u.SeriesID, u.At, !e.Verified, &want); err != nil {
		return Entry{}, err
	}
	if want.budgeted {
		e.Discount, e.Budget = want.money(spend), spend
	}
	if err := j.write(ctx, tx, &e, hook); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// begin opens the transaction of a use u and reads its series' synced
// configuration, putting u's code in the series' canonical form. When u's
// key is in the journal already it returns no transaction, and the first
// entry with nil (the same sale) or a KeyMismatch error, as it returns a
// failure.
func (j *Journal) begin(ctx context.Context, u *Use) (*sql.Tx, series.Series, Entry, error) {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, series.Series{}, Entry{}, fmt.Errorf("till: %w", err)
	}
	s, err := seriesIn(ctx, tx, u.SeriesID)
	if err == nil {
		u.Code, err = s.Source.CanonicalCode(nil, u.Code)
	}
	var first Entry
	found := false
	if err == nil {
		first, found, err = entryByKey(ctx, tx, u.Key)
	}
	if err == nil && found {
		err = sameUse(&first, u)
	}
	if err != nil || found {
		tx.Rollback()
		return nil, s, first, err
	}
	return tx, s, Entry{}, nil
}

// write takes a use of e's lease (and of its allowance when e is
// unverified) for an offline use, writes e, runs hook and commits. An
// online use's lease was counted by RecordOnline, a reversal takes none.
func (j *Journal) write(ctx context.Context, tx *sql.Tx, e *Entry, hook func(*sql.Tx) error) error {
	if e.LeaseID != "" && e.Reverses == "" && !e.Online {
		unverified := 0
		if !e.Verified {
			unverified = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE till_lease SET used = used + 1, unverified = unverified + ?, money_used = money_used + ? WHERE id = ?`,
			unverified, e.Budget, e.LeaseID); err != nil {
			return fmt.Errorf("till: taking a use of lease %s: %w", e.LeaseID, err)
		}
	}
	discount := ""
	if e.Discount.Currency != "" {
		discount = e.Discount.Amount.String()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO till_journal (key, lease_id, series_id, code, customer, bill, currency, sale_ns,
	synced, online, reverses, verified, discount, discount_cur, budget) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Key, sql.NullString{String: e.LeaseID, Valid: e.LeaseID != ""}, e.SeriesID, e.Code, e.Customer, e.Bill, e.Currency,
		e.At.UnixNano(), e.Synced, e.Online, e.Reverses, e.Verified, discount, e.Discount.Currency, e.Budget)
	if err != nil {
		return fmt.Errorf("till: writing the journal entry: %w", err)
	}
	if e.Seq, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("till: %w", err)
	}
	if hook != nil {
		if err := hook(tx); err != nil {
			return fmt.Errorf("till: the sale's hook: %w", err)
		}
	}
	if e.Reverses == "" { // after the hook, which may mark it being given back
		if err := settled(ctx, tx, e.Key); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("till: committing the journal entry: %w", err)
	}
	return nil
}

// pickLease returns the lease of the series that the use at at draws on,
// and the money it spends of it (see offlineSpend): of those usable at at
// (lease.Lease.UsableAt with the journal's skew), for an unverified use
// with an unverified use of their allowance left, and whose money left
// covers the use's discount (or, when the series reduces a discount to
// what is left, with some money left), the one ending first, so that no
// lease lapses with uses left that another could have spared.
func (j *Journal) pickLease(ctx context.Context, tx *sql.Tx, seriesID string, at time.Time, unverified bool, want *spendWant) (string, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, unverified < allowance, money_granted - money_returned - money_used FROM till_lease
WHERE series_id = ?1 AND closed = 0 AND granted - returned - used - reserved > 0 AND ?2 < end_ns - ?3
ORDER BY end_ns, id`, seriesID, at.UnixNano(), j.skew.Nanoseconds())
	if err != nil {
		return "", 0, fmt.Errorf("till: reading leases: %w", err)
	}
	defer rows.Close()
	usable, allowed, most := 0, 0, int64(0)
	for rows.Next() {
		var id string
		var allows bool
		var money int64
		if err := rows.Scan(&id, &allows, &money); err != nil {
			return "", 0, fmt.Errorf("till: reading leases: %w", err)
		}
		usable++
		if unverified && !allows {
			continue
		}
		allowed++
		most = max(most, money)
		if spend, ok := want.from(money); ok {
			return id, spend, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("till: reading leases: %w", err)
	}
	switch {
	case allowed > 0:
		return "", 0, want.refused(most)
	case usable > 0:
		return "", 0, errcode.New(errcode.AllowanceExceeded, "Allowance", "the till cannot verify this code offline, and its leases of series "+
			seriesID+" allow no more unverified uses; sync, or ask the central")
	}
	return "", 0, errcode.New(errcode.NoLease, "SeriesID", "the till has no lease of series "+seriesID+" with a use left; sync to get one")
}

// sameUse checks that a use repeated under first's key asks what first
// recorded.
func sameUse(first *Entry, u *Use) error {
	f := &first.Use
	if first.Reverses != "" || f.SeriesID != u.SeriesID || f.Code != u.Code || f.Customer != u.Customer ||
		f.Bill != u.Bill || f.Currency != u.Currency || !f.At.Equal(u.At) {
		return errcode.New(errcode.KeyMismatch, "Key", "the idempotency key was used for another sale; use a new key for a new request")
	}
	return nil
}

const entryColumns = `seq, COALESCE(lease_id, ''), key, series_id, code, customer, bill, currency, sale_ns, synced, online, verified, reverses, reversed,
	discount, discount_cur, budget`

// scanEntry reads one row of entryColumns.
func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var ns int64
	var discount string
	err := row.Scan(&e.Seq, &e.LeaseID, &e.Key, &e.SeriesID, &e.Code, &e.Customer, &e.Bill, &e.Currency, &ns,
		&e.Synced, &e.Online, &e.Verified, &e.Reverses, &e.Reversed, &discount, &e.Discount.Currency, &e.Budget)
	e.At = time.Unix(0, ns).UTC()
	if err == nil && e.Discount.Currency != "" {
		e.Discount.Amount, err = decimal.NewFromString(discount)
	}
	return e, err
}

// entryByKey reads the entry of key, and whether there is one.
func entryByKey(ctx context.Context, tx querier, key string) (Entry, bool, error) {
	e, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM till_journal WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("till: reading the journal: %w", err)
	}
	return e, true, nil
}
