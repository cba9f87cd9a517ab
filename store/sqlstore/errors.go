package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/couponkit/couponkit/errcode"
)

// retryable wraps a driver error after which the whole transaction may be
// run again: a serialization failure or deadlock (PostgreSQL), a busy or
// locked database (SQLite).
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

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

// isRetryable reports whether err is worth running the transaction again.
func isRetryable(err error) bool {
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
// error: the context's error when ctx is done, a *retryable for a
// transaction worth running again, an InvalidArgument for a value a
// constraint or the database refused as data, and an Unavailable
// otherwise.
func (s *Store) dbErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ce *errcode.Error
	var r *retryable
	switch {
	case errors.As(err, &r), errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if isRetryable(err) {
		return &retryable{err}
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
