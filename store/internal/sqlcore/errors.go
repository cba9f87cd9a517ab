package sqlcore

import (
	"context"
	"errors"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// DBErr is the store's error for a driver error that no caller mapped (see
// dbErr), for the dialect packages.
func DBErr(ctx context.Context, s *Store, err error) error { return s.dbErr(ctx, err) }

// dbErr turns a driver error that no caller mapped into the store's
// error: the context's error when ctx is done; an InvalidConfig for a
// database of another kind (*DialectError) or one never migrated
// (*NotMigratedError); a *store.ConflictError of Kind "transaction" (ID
// the database's message) for a transaction the database refused as a
// whole, which the store does not run again; an InvalidArgument for a
// value a constraint or the database refused as data; and an Unavailable
// otherwise.
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
	if s.d.ErrorDatabase != nil {
		if other := s.d.ErrorDatabase(err); other != "" && other != s.d.Name {
			return s.dialectErr(other, err)
		}
	}
	f := s.d.Classify(err)
	switch {
	case f.Refused:
		return &store.ConflictError{Kind: "transaction", ID: err.Error()}
	case f.MissingTable != "":
		return &errcode.Error{Code: errcode.InvalidConfig, Field: "schema",
			Message: "couponkit's tables do not exist: run Migrate once on this database before using the store",
			Err:     &NotMigratedError{Database: s.d.Name, Table: f.MissingTable, Err: err}}
	case f.Violation == CheckViolation:
		return &errcode.Error{Code: errcode.InvalidArgument, Field: f.Constraint, Message: "a value breaks a constraint of the store", Err: err}
	case f.Violation != NoViolation:
		return &errcode.Error{Code: errcode.InvalidArgument, Field: f.Constraint, Message: "a key breaks a constraint of the store", Err: err}
	case f.BadData:
		return &errcode.Error{Code: errcode.InvalidArgument, Message: "the " + s.d.Name + " store cannot keep a value as given", Err: err}
	}
	return &errcode.Error{Code: errcode.Unavailable, Message: "couponkit's " + s.d.Name + " store", Err: err}
}

// constraint classifies err: which kind of constraint it violates, and the
// constraint's name or columns.
func (s *Store) constraint(err error) (Violation, string) {
	f := s.d.Classify(err)
	return f.Violation, f.Constraint
}

// NotMigratedError is the cause of the error of a store whose database
// lacks couponkit's tables: Migrate was never run on it (on PostgreSQL, in
// the schema the connection uses). The error is an InvalidConfig
// *errcode.Error on field "schema" wrapping it; run the store's Migrate
// once.
type NotMigratedError struct {
	Database string // "sqlite" or "postgres"
	Table    string // the missing table, as the database names it
	Err      error  // the database's error
}

func (e *NotMigratedError) Error() string {
	return "no table " + e.Table + " in the " + e.Database + " database: " + e.Err.Error()
}

// Unwrap returns the database's error.
func (e *NotMigratedError) Unwrap() error { return e.Err }

// DialectError is the cause of the error of a store made over a database
// of another kind: a store of package sqlite over a PostgreSQL database,
// or one of package postgres over an SQLite one. The error is an
// InvalidConfig *errcode.Error on field "DB" wrapping it; make the store
// with the New of the package the database's kind names.
//
// The database is told from db's driver when the store's package knows it
// (pgx's stdlib driver, modernc.org/sqlite's): then every call of the
// store fails with the error, before any statement runs. Behind a driver
// that wraps another, it is told from the database's errors: Migrate, whose
// first statement runs on one kind only, reports it, and so does any call
// that fails with an error of the other database.
type DialectError struct {
	Store    string // the store's package: "sqlite" or "postgres"
	Database string // the database's kind, which is the package to use
	Err      error  // the database's error, if there was one
}

func (e *DialectError) Error() string {
	msg := "a store of package " + e.Store + " over a " + e.Database + " database: make it with " + e.Database + ".New"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the database's error, if any.
func (e *DialectError) Unwrap() error { return e.Err }

// dialectErr is the error of a store over a database of kind other.
func (s *Store) dialectErr(other string, err error) error {
	return &errcode.Error{Code: errcode.InvalidConfig, Field: "DB",
		Message: "the store was made for another kind of database",
		Err:     &DialectError{Store: s.d.Package, Database: other, Err: err}}
}

// isIDConstraint reports whether a unique constraint, as constraint names
// it, is a table's primary key.
func isIDConstraint(name string) bool {
	return strings.HasSuffix(name, "_pkey") || strings.HasSuffix(name, ".id")
}

// couponKey names a coupon's unique key (series, canonical code and slot,
// store.Slot) in an error.
func couponKey(c *coupon.Coupon) string {
	k := c.SeriesID + "/" + c.Canonical
	if slot := store.Slot(c); slot != "" {
		k += "/" + slot
	}
	return k
}

// couponErr maps a constraint error of a coupon write; nil when err is not
// one.
func (s *Store) couponErr(err error, c *coupon.Coupon) error {
	switch kind, name := s.constraint(err); {
	case kind == UniqueViolation && isIDConstraint(name):
		return &store.ExistsError{Kind: "coupon", Key: c.ID}
	case kind == UniqueViolation && strings.Contains(name, "issue_key"):
		return &store.ExistsError{Kind: "issue", Key: c.SeriesID + "/" + c.IssueKey}
	case kind == UniqueViolation:
		return &store.ExistsError{Kind: "coupon", Key: couponKey(c)}
	case kind == ForeignKeyViolation:
		return store.NotFound("series", c.SeriesID)
	}
	return nil
}

// redemptionErr maps a constraint error of a redemption write; nil when
// err is not one.
func (s *Store) redemptionErr(err error, r *coupon.Redemption) error {
	switch kind, name := s.constraint(err); {
	case kind == UniqueViolation && isIDConstraint(name):
		return &store.ExistsError{Kind: "redemption", Key: r.ID}
	case kind == UniqueViolation:
		return &store.ExistsError{Kind: "redemption", Key: r.CouponID + "/" + r.IdempotencyKey}
	case kind == ForeignKeyViolation:
		return store.NotFound("coupon", r.CouponID)
	}
	return nil
}

// BulkErr maps an error of a bulk coupon insert.
func BulkErr(ctx context.Context, s *Store, err error) error {
	switch kind, name := s.constraint(err); kind {
	case ForeignKeyViolation:
		return &errcode.Error{Code: errcode.NotFound, Field: "SeriesID", Message: "a coupon names a series that does not exist", Err: err}
	case UniqueViolation:
		if strings.Contains(name, "events") {
			return &store.ExistsError{Kind: "event", Key: name}
		}
	}
	return s.dbErr(ctx, err)
}

// updateErr maps an error of UpdateWhere.
func (s *Store) updateErr(ctx context.Context, err error) error {
	if kind, _ := s.constraint(err); kind == UniqueViolation {
		return &store.ExistsError{Kind: "event", Key: "an event id of the update"}
	}
	return s.dbErr(ctx, err)
}
