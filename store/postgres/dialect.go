package postgres

import (
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// PostgreSQL's statements where they differ from SQLite's: parameters
// whose type PostgreSQL cannot infer from their first use are cast, lists
// of strings are arrays, and IS NOT DISTINCT FROM matches NULL to NULL.
const (
	castBig, castSmall, castText, castBoolean = "::bigint", "::smallint", "::text", "::boolean"

	inText = "%s = ANY(%s::text[])"

	counterBump = "INSERT INTO ck_counters AS c (" + counterCols + ") VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint) " +
		"ON CONFLICT (counter, series_id, code, holder, customer) DO UPDATE SET n = c.n + excluded.n, last = excluded.last " +
		"WHERE c.n < $8::bigint AND (c.last IS NULL OR c.last <= $9::bigint) RETURNING n, last"
	counterUndo = "UPDATE ck_counters SET n = n + $6::bigint WHERE " + sqlcore.CounterKeyWhere +
		" AND n + $6::bigint >= 0 RETURNING n, last"
	counterRewind = "UPDATE ck_counters SET n = n + $6::bigint, last = $9::bigint WHERE " + sqlcore.CounterKeyWhere +
		" AND n + $6::bigint >= 0 AND n = $7::bigint AND last IS NOT DISTINCT FROM $8::bigint RETURNING n, last"
	counterCols = "counter, series_id, code, holder, customer, n, last"

	// countersByKeys reads the counters of many keys, given as arrays, by
	// their primary key.
	countersByKeys = "SELECT k.i, c.n, c.last FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[]) " +
		"AS k (i, counter, series_id, code, holder, customer) JOIN ck_counters c ON " + sqlcore.CounterKeyMatch

	seqAdvance = "UPDATE ck_sequences SET next = $3::bigint WHERE series_id = $1 AND next = $2::bigint"
	seqStart   = "INSERT INTO ck_sequences (series_id, next) VALUES ($1, $3::bigint) " +
		"ON CONFLICT (series_id) DO UPDATE SET next = excluded.next WHERE ck_sequences.next = $2::bigint"

	addAudience = "INSERT INTO ck_audience (series_id, customer) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING"

	// migrateLock serializes migrators of one schema until the migration's
	// transaction ends.
	migrateLock = "SELECT pg_advisory_xact_lock(hashtext('couponkit.migrate.' || current_schema()))"

	// The feed, read by (tx, seq) behind the fence (see the package
	// documentation): $1 the position's transaction as text, $2 its seq,
	// $3 the limit. The order is by the xid8 column, not the text it is
	// read as (an unqualified tx in ORDER BY would name the output
	// column), so that the read is one range scan of ck_events_feed.
	feedFence = "ck_events.tx < pg_snapshot_xmin(pg_current_snapshot())"
	feedRead  = "SELECT ck_events.tx::text AS tx_text, seq, " + sqlcore.EventCols + " FROM ck_events " +
		"WHERE (ck_events.tx, seq) > ($1::text::xid8, $2::bigint) AND " + feedFence + " ORDER BY ck_events.tx, seq LIMIT $3::bigint"
	feedHead = "SELECT ck_events.tx::text AS tx_text, seq FROM ck_events WHERE " + feedFence +
		" ORDER BY ck_events.tx DESC, seq DESC LIMIT 1"
)

// The SQLSTATE codes of PostgreSQL's errors that the package tells apart
// (PostgreSQL's documentation, appendix A).
const (
	// dataExceptionClass is the class (the first two characters) of the
	// errors about a value: invalid UTF-8 or a NUL byte in text (22021),
	// an unsupported escape in JSON (22P05), a number out of range
	// (22003), a string too long (22001), and others.
	dataExceptionClass = "22"

	notNullViolation     = "23502"
	foreignKeyViolation  = "23503"
	uniqueViolation      = "23505"
	checkViolation       = "23514"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
	undefinedTable       = "42P01"
	// programLimitExceeded is a value past a limit of the server, such as
	// an index entry above about 2700 bytes.
	programLimitExceeded = "54000"
)

// dialect is PostgreSQL's.
var dialect = sqlcore.Dialect{
	Name: "postgres", Package: "postgres",
	SQL: sqlcore.Statements{
		Big: castBig, Small: castSmall, Text: castText, Boolean: castBoolean,
		InText:      inText,
		CounterBump: counterBump, CounterUndo: counterUndo, CounterRewind: counterRewind,
		SeqAdvance: seqAdvance, SeqStart: seqStart,
		CountersByKeys:   countersByKeys,
		AddAudience:      addAudience,
		UpdateWhereInOne: true,
		MigrateLock:      migrateLock,
		FeedRead:         feedRead, FeedHead: feedHead,
	},
	FeedTx:         true,
	Param:          func(n int) string { return "$" + itoa(int64(n)) },
	TextList:       func(ss []string) any { return ss },
	Classify:       classify,
	DriverDatabase: driverDatabase,
	ErrorDatabase:  errorDatabase,
	// PostgreSQL keeps 64 subtransactions per transaction in shared
	// memory, past which every snapshot gets slower: groups of 32, and up
	// to eight groups of different series at once.
	GroupSize:   32,
	GroupShards: 8,
	UnnestRows:  true,
	// Combined code reads (sqlcore's coderead_batch.go): concurrent
	// redemptions' code reads are one statement, whose executor start, plan
	// and index scans serve them all. A client waits for the combined
	// statement in flight before its own; on the hot series of hotbench
	// (32 clients, 2 cores shared with the server) that costs far less than
	// it saves: 3,125-3,245 redemptions/s against 1,502-1,776/s one read
	// per statement, the machine's CPU per redemption 460-483 us against
	// 938-1,070. TestSQLUncombinedReads keeps the other path tested.
	CombineReads: true,
	// JoinCounters (a LEFT JOIN per counter instead of its subqueries)
	// helps SQLite but cut the hot series to a third here (measured with
	// hotbench, alternating binaries): off.
	JoinCounters: false,
	RunGroup:     runGroup,
	Migrations:   migrations(),
}

// classify reads a PostgreSQL error by its SQLSTATE.
func classify(err error) sqlcore.Fault {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlcore.Fault{}
	}
	var f sqlcore.Fault
	switch pe.Code {
	case uniqueViolation:
		f.Violation, f.Constraint = sqlcore.UniqueViolation, pe.ConstraintName
	case foreignKeyViolation:
		f.Violation, f.Constraint = sqlcore.ForeignKeyViolation, pe.ConstraintName
	case checkViolation, notNullViolation:
		f.Violation, f.Constraint = sqlcore.CheckViolation, pe.ConstraintName
	case serializationFailure, deadlockDetected:
		f.Refused = true
	case programLimitExceeded:
		f.BadData = true
	case undefinedTable:
		f.MissingTable = missingTable(pe)
	}
	if strings.HasPrefix(pe.Code, dataExceptionClass) {
		f.BadData = true
	}
	return f
}

// missingTable is the table an undefined_table error names.
func missingTable(pe *pgconn.PgError) string {
	if pe.TableName != "" {
		return pe.TableName
	}
	// relation "ck_series" does not exist
	if _, rest, ok := strings.Cut(pe.Message, `"`); ok {
		if name, _, ok := strings.Cut(rest, `"`); ok && name != "" {
			return name
		}
	}
	return "(unnamed)"
}

// sqlitePackage is the package of modernc.org/sqlite's driver and errors:
// what tells an SQLite database, without linking it.
const sqlitePackage = "modernc.org/sqlite"

// driverDatabase tells pgx's database/sql driver, and modernc.org/sqlite's
// by its package.
func driverDatabase(d driver.Driver) string {
	switch {
	case isPgxDriver(d):
		return "postgres"
	case sqlcore.TypeFrom(d, sqlitePackage):
		return "sqlite"
	}
	return ""
}

func isPgxDriver(d driver.Driver) bool {
	_, ok := d.(*stdlib.Driver)
	return ok
}

// errorDatabase tells PostgreSQL's errors, and SQLite's by their package.
func errorDatabase(err error) string {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		return "postgres"
	case sqlcore.ErrorFrom(err, sqlitePackage):
		return "sqlite"
	}
	return ""
}
