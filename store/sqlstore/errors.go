package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// The SQLSTATE codes of PostgreSQL's errors that the package tells apart
// (PostgreSQL's documentation, appendix A).
const (
	// sqlstateDataException is the class (the first two characters) of
	// the errors about a value: invalid UTF-8 or a NUL byte in text
	// (22021), an unsupported escape in JSON (22P05), a number out of
	// range (22003), a string too long (22001), and others.
	sqlstateDataException = "22"

	sqlstateNotNullViolation     = "23502"
	sqlstateForeignKeyViolation  = "23503"
	sqlstateUniqueViolation      = "23505"
	sqlstateCheckViolation       = "23514"
	sqlstateSerializationFailure = "40001"
	sqlstateDeadlockDetected     = "40P01"
	sqlstateUndefinedTable       = "42P01"
	// sqlstateProgramLimitExceeded is a value past a limit of the server,
	// such as an index entry above about 2700 bytes.
	sqlstateProgramLimitExceeded = "54000"
)

// violation is the kind of constraint a driver error reports.
type violation uint8

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
	checkViolation
)

// constraint classifies err: which kind of constraint it violates, and the
// constraint's name (PostgreSQL) or the columns SQLite lists in its message
// ("ck_coupons.id").
func constraint(err error) (violation, string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case sqlstateUniqueViolation:
			return uniqueViolation, pe.ConstraintName
		case sqlstateForeignKeyViolation:
			return foreignKeyViolation, pe.ConstraintName
		case sqlstateCheckViolation, sqlstateNotNullViolation:
			return checkViolation, pe.ConstraintName
		}
		return noViolation, ""
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		msg := se.Error()
		detail := ""
		if i := strings.Index(msg, "constraint failed: "); i >= 0 {
			detail = msg[i+len("constraint failed: "):]
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation, detail
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation, detail
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_DATATYPE:
			return checkViolation, detail
		}
	}
	return noViolation, ""
}

// refusedTx reports whether err is the database refusing the transaction
// as a whole, which may be run again as it is: a serialization failure or
// deadlock (PostgreSQL), a busy or locked database (SQLite).
func refusedTx(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == sqlstateSerializationFailure || pe.Code == sqlstateDeadlockDetected
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// badData reports whether err is the database refusing a value as data
// rather than failing: a data exception or a value past a server limit
// (PostgreSQL), or a string or blob too big or of the wrong type (SQLite).
// The same value fails the same way every time, so it is InvalidArgument,
// never Unavailable.
func badData(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, sqlstateDataException) || pe.Code == sqlstateProgramLimitExceeded
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}

// dbErr turns a driver error that no caller mapped into the store's
// error: the context's error when ctx is done, a *store.ConflictError of
// Kind "transaction" (ID the database's message) for a transaction the
// database refused as a whole (refusedTx), which the store does not run
// again, an InvalidConfig for a database of the other dialect
// (*DialectError) or one never migrated (*NotMigratedError), an
// InvalidArgument for a value a constraint or the database refused as
// data, and an Unavailable otherwise.
func (s *Store) dbErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ce *errcode.Error
	switch {
	case errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if de := s.dialectErr(err); de != nil {
		return de
	}
	if refusedTx(err) {
		return &store.ConflictError{Kind: "transaction", ID: err.Error()}
	}
	if nm := s.notMigrated(err); nm != nil {
		return nm
	}
	switch v, name := constraint(err); v {
	case checkViolation:
		return &errcode.Error{Code: errcode.InvalidArgument, Field: name, Message: "a value breaks a constraint of the store", Err: err}
	case uniqueViolation, foreignKeyViolation:
		return &errcode.Error{Code: errcode.InvalidArgument, Field: name, Message: "a key breaks a constraint of the store", Err: err}
	}
	if badData(err) {
		return &errcode.Error{Code: errcode.InvalidArgument, Message: "the " + s.d.String() + " store cannot keep a value as given", Err: err}
	}
	return &errcode.Error{Code: errcode.Unavailable, Message: "sqlstore (" + s.d.String() + ")", Err: err}
}

// NotMigratedError is the cause of the error of a Store whose database
// lacks couponkit's tables: Migrate was never run on it (on PostgreSQL, in
// the schema the connection uses). The error is an InvalidConfig
// *errcode.Error on field "schema" wrapping it; run Store.Migrate once.
type NotMigratedError struct {
	Dialect Dialect // the store's dialect
	Table   string  // the missing table, as the database names it
	Err     error   // the database's error
}

func (e *NotMigratedError) Error() string {
	return "no table " + e.Table + " in the " + e.Dialect.String() + " database: " + e.Err.Error()
}

// Unwrap returns the database's error.
func (e *NotMigratedError) Unwrap() error { return e.Err }

// notMigrated returns the error of a store whose tables do not exist, when
// err says a table does not exist, or nil.
func (s *Store) notMigrated(err error) error {
	table := missingTable(err)
	if table == "" {
		return nil
	}
	return &errcode.Error{Code: errcode.InvalidConfig, Field: "schema",
		Message: "couponkit's tables do not exist: run Store.Migrate once on this database before using the store",
		Err:     &NotMigratedError{Dialect: s.d, Table: table, Err: err}}
}

// missingTable returns the table err says does not exist (PostgreSQL's
// undefined_table, SQLite's "no such table"), or "".
func missingTable(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlstateUndefinedTable {
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
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_ERROR {
		if _, rest, ok := strings.Cut(se.Error(), "no such table: "); ok {
			name, _, _ := strings.Cut(rest, " ")
			if name == "" {
				name = "(unnamed)"
			}
			return name
		}
	}
	return ""
}

// DialectError is the cause of the error of a Store made with the wrong
// dialect for its database: New(db, SQLite) over a PostgreSQL database, or
// New(db, Postgres) over an SQLite one. The error is an InvalidConfig
// *errcode.Error on field "Dialect" wrapping it; make the store again with
// New(db, Database).
//
// The database's dialect is read from db's driver when it is pgx's stdlib
// driver or modernc.org/sqlite's: then every call of the store fails with
// the error, before any statement runs (statements of one dialect may run
// on the other, and do the wrong thing). Behind a driver that wraps
// another, it is read from the database's errors: Migrate, whose first
// statement runs on one dialect only, reports it, and so does any call
// that fails with an error of the other database.
type DialectError struct {
	Dialect  Dialect // the store's, as given to New
	Database Dialect // the database's
	Err      error   // the database's error, if there was one
}

func (e *DialectError) Error() string {
	msg := "the store's dialect is " + e.Dialect.ident() + " but the database is " + e.Database.ident() +
		": use sqlstore.New(db, sqlstore." + e.Database.ident() + ")"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the database's error, if any.
func (e *DialectError) Unwrap() error { return e.Err }

// ident is the name of the dialect's constant.
func (d Dialect) ident() string {
	switch d {
	case SQLite:
		return "SQLite"
	case Postgres:
		return "Postgres"
	}
	return d.String()
}

// driverDialect is the dialect of a database/sql driver the package knows,
// or 0.
func driverDialect(d driver.Driver) Dialect {
	switch d.(type) {
	case *stdlib.Driver:
		return Postgres
	case *sqlite.Driver:
		return SQLite
	}
	return 0
}

// errDialect is the dialect of the database a driver error comes from, or
// 0.
func errDialect(err error) Dialect {
	var pe *pgconn.PgError
	var se *sqlite.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &pe):
		return Postgres
	case errors.As(err, &se):
		return SQLite
	}
	return 0
}

// dialectErr returns the error of a store over a database of the other
// dialect, as its driver or err shows, or nil. err may be nil.
func (s *Store) dialectErr(err error) error {
	db := s.driver
	if db == 0 {
		db = errDialect(err)
	}
	if db == 0 || db == s.d {
		return nil
	}
	return &errcode.Error{Code: errcode.InvalidConfig, Field: "Dialect",
		Message: "the store was made for another kind of database",
		Err:     &DialectError{Dialect: s.d, Database: db, Err: err}}
}
