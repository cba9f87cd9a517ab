package sqlcore

import (
	"context"
	"database/sql/driver"
	"io/fs"
	"reflect"
	"time"
)

// Dialect is what the core needs to know of one database: the statements
// whose text differs, how it numbers parameters, how to read its errors,
// how it writes, and the hooks through which a dialect package writes in
// ways database/sql cannot (PostgreSQL's pipeline and COPY). A dialect
// package (store/sqlite, store/postgres) makes one value and passes it to
// New; the core never imports a driver.
type Dialect struct {
	// Name is the database, "sqlite" or "postgres", for messages; Package
	// is the Go package that makes its stores, for advice in errors
	// ("sqlite", "postgres").
	Name, Package string

	// SQL holds the statements and fragments whose text differs between
	// databases, each a named constant of the dialect package.
	SQL Statements

	// Param is the placeholder of the n-th parameter of a statement
	// built by the core: "$n", or "?" on a database that binds anonymous
	// parameters faster (SQLite looks a numbered parameter's name up in a
	// list, making binding quadratic in the number of parameters).
	Param func(n int) string
	// TextList encodes a list of strings as the one parameter that
	// Statements.InText takes.
	TextList func([]string) any

	// Classify reads a driver error (see Fault).
	Classify func(err error) Fault
	// DriverDatabase names the database a database/sql driver talks to,
	// when the dialect package can tell ("sqlite", "postgres"), or "".
	DriverDatabase func(driver.Driver) string
	// ErrorDatabase names the database an error comes from, when the
	// dialect package can tell, or "".
	ErrorDatabase func(error) string

	// FeedTx is set for a database whose feed positions are (tx, seq),
	// the writing transaction's id and the event's number (PostgreSQL);
	// else they are (0, seq).
	FeedTx bool

	// OneWriter is set for a database that writes one transaction at a
	// time (SQLite): the store serializes its own write transactions, so
	// that none waits in the database's busy handler, and prepares and
	// keeps its statements (pgx keeps its own per connection).
	OneWriter bool
	// BindShared lets a multi-row insert bind the columns that have one
	// value in every row once (SQLite; see multiRow).
	BindShared bool
	// PadRows writes the rows of a change's multi-row statements as one
	// statement per table, padded to a power of two of rows that its WHERE
	// drops (rows_pad.go), instead of a statement per power of two.
	PadRows bool
	// UnnestRows sends the rows of a change's multi-row statements as one
	// array per column (unnest.go): one statement text whatever the
	// number of rows.
	UnnestRows bool
	// CombineReads reads concurrent ReadCode calls of one shape with one
	// statement, sending their codes and customers as arrays
	// (coderead_batch.go).
	CombineReads bool
	// CombineJSON: a combined read sends its calls as one JSON array of
	// rows, read by json_each (SQLite); else as one array per column,
	// read by unnest (PostgreSQL).
	CombineJSON bool
	// JoinCounters reads each counter of a ReadCode with one LEFT JOIN on
	// its primary key, its n and last in one lookup (SQLite, whose planner
	// always takes the key for an equality on all of it); else with a
	// scalar subquery for each, a plan no statistics can change.
	JoinCounters bool
	// GroupSize bounds the changes of one group commit, and GroupShards is
	// how many group queues (so transactions at once) a store runs.
	GroupSize, GroupShards int
	// GroupLinger, when positive, is how long at most a leader whose
	// queue holds fewer than half as many changes as the group it wrote
	// last waits for it to reach half, before it takes its group (see
	// lead). Under a steady load of many writers, whose reads take about
	// as long as a group's write, the groups then stay about one size,
	// instead of alternating a large group with changes alone, each
	// paying a transaction and a commit (what the process pays on
	// SQLite). A lone writer never waits: its groups hold one change.
	GroupLinger time.Duration
	// RunGroup writes a group of queued changes in one transaction and sets
	// each waiter's Err; nil writes it statement by statement through
	// database/sql (runGroupSeq). Its error is the transaction's, which
	// every change of the group that succeeded takes as its own. It calls
	// commit when the group's writes are done and it is about to commit
	// (it may not call it at all): the next group may then start writing.
	RunGroup func(ctx context.Context, s *Store, group []*Waiter, commit func()) error

	// Migrations holds the dialect's numbered migration files (see
	// ReadMigrations).
	Migrations fs.FS
}

// Statements are the SQL texts of one dialect that differ from the
// other's: whole statements, and the fragments the core's statement
// builders take from the dialect (each used by one builder).
type Statements struct {
	// Big, Small, Text and Boolean cast a parameter where PostgreSQL cannot
	// infer its type ("::bigint"; "" on SQLite).
	Big, Small, Text, Boolean string
	// InText is a format of one condition: the column (first %s) is one of
	// the strings of a TextList parameter (second %s).
	InText string

	// CounterBump is the counter guard, one upsert: a counter never bumped
	// has no row and is created by the insert (n = delta, last = at),
	// which is what the guard allows for n = 0 and no last bump (a bump
	// that no value passes never reaches it: see planBump); an existing
	// row is locked and the guard, the DO UPDATE's WHERE, is evaluated on
	// its newest version (after any lock wait, also under READ
	// COMMITTED). So a missing row never escapes the guard and no row is
	// read and then written. No row returned: the guard refused. $1 to $5
	// are the key (CounterKeyArgs), $6 the delta, $7 the time, $8 the
	// bound n stays below and $9 the latest allowed last bump:
	//
	//	INSERT INTO ck_counters AS c (counter, series_id, code, holder, customer, n, last)
	//	VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (counter, series_id, code, holder, customer)
	//	DO UPDATE SET n = c.n + excluded.n, last = excluded.last
	//	WHERE c.n < $8 AND (c.last IS NULL OR c.last <= $9) RETURNING n, last
	//
	// CounterUndo is a decrement ($6 the delta), a guarded UPDATE (n + $6
	// >= 0) returning n, last; CounterRewind one that rewinds the last bump
	// (store.Rewind): it also requires n = $7 and last not distinct from
	// $8, and sets last to $9. No row: the counter is not as expected.
	CounterBump, CounterUndo, CounterRewind string
	// SeqAdvance and SeqStart advance a code sequence
	// (store.SequenceAdvance): $1 the series, $2 From, $3 To. They move the
	// row only when it stands at From: no row affected means it did not.
	// From 0 may find no row (a sequence never advanced), which SeqStart's
	// upsert inserts; a row inserted meanwhile by another transaction is
	// locked and checked like an existing one.
	SeqAdvance, SeqStart string
	// CountersByKeys, when set, reads many counters with one statement of
	// five array parameters (index, counter, series, code, holder,
	// customer: six); else the core joins a VALUES list of the keys.
	CountersByKeys string
	// AddAudience adds a TextList of customers ($2) to series $1, skipping
	// members.
	AddAudience string

	// CouponUpdateUsual, when set, is the narrow coupon update (see
	// updateCouponNarrow): CouponUpdateUsualSet its SET list and
	// CouponIndexed the read of the indexed columns; else coupons are
	// updated with CouponUpdate.
	CouponUpdateUsual, CouponUpdateUsualSet, CouponIndexed string
	// MaxRowid and CouponsAfterRowid, when set, find the coupons a
	// multi-row insert inserted by the rowids it gave them (SQLite); else
	// the insert returns their ids.
	MaxRowid, CouponsAfterRowid string
	// UpdateWhereInOne: UpdateWhere is one statement whose UPDATE ...
	// RETURNING feeds the events' INSERT (PostgreSQL); else two.
	UpdateWhereInOne bool

	// FeedRead reads the event feed: the events after a position, in
	// position order, at most a limit of them, each row the position's
	// high part as decimal text, seq, then EventCols. Its parameters are
	// the high part as text (only with Dialect.FeedTx), the low part, the
	// limit. FeedHead is the high part as text and seq of the last event a
	// read may return now (no row: none). A database that numbers events
	// in the order of commit (SQLite) reads by seq, high part '0'; one
	// that does not reads by (tx, seq) behind a fence (PostgreSQL).
	FeedRead, FeedHead string

	// MigrateBegin, when set, opens Migrate's transaction on a connection
	// of its own, taking the write lock first ("BEGIN IMMEDIATE"); else
	// Migrate begins a transaction and runs MigrateLock first.
	MigrateBegin, MigrateLock string
}

// Violation is the kind of constraint a driver error reports.
type Violation uint8

// The violations.
const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
	CheckViolation
)

// Fault is what a driver error means to the store.
type Fault struct {
	// Violation is the constraint the error breaks, and Constraint its
	// name (PostgreSQL) or the columns the database lists ("ck_coupons.id").
	Violation  Violation
	Constraint string
	// Refused: the database refused the transaction as a whole and wrote
	// nothing of it (a serialization failure, a deadlock, a busy or locked
	// database), so it may be run again as it is.
	Refused bool
	// BadData: the database refused a value as data (a data exception, a
	// value past a limit of the server, a string too big); the same value
	// fails the same way every time.
	BadData bool
	// MissingTable is the table the error says does not exist, or "".
	MissingTable string
}

// TypeFrom reports whether v's type (or the type it points to) is declared
// in the package with the given import path: how a dialect package tells
// a driver it does not import.
func TypeFrom(v any, pkgPath string) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == pkgPath
}

// ErrorFrom reports whether err, or an error it wraps, has a type of the
// package with the given import path (see TypeFrom).
func ErrorFrom(err error, pkgPath string) bool {
	for err != nil {
		if TypeFrom(err, pkgPath) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if ErrorFrom(e, pkgPath) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
