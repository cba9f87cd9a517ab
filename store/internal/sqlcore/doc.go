// Package sqlcore is the SQL store shared by couponkit's database
// packages, store/sqlite and store/postgres: the transactions, Apply with
// its guarded statements, group commit, the reads, the bulk methods and
// migrations, over database/sql. It imports no driver.
//
// A database package describes its database with a Dialect (the SQL text
// that differs, how parameters are written, how its errors read, how it
// writes) and embeds the *Store that New returns; the exported methods of
// Store are its store's methods. What a database package needs beyond
// them, to write in ways database/sql cannot (PostgreSQL's pipeline and
// COPY), is a function of this package (ApplyRowByRow, OpErr, DBErr,
// SettleBumps, ...), so that it is not part of its API.
//
// Every statement text is a named constant, of this package when both
// databases run it as it is (queries.go) and of the database package
// otherwise (Statements); the statements that depend on a call (a filter,
// a multi-row insert) are each built by one function.
package sqlcore
