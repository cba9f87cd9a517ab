package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// Store is couponkit's store.Store on an SQLite database (see the package
// documentation). Make one with Open or New, run Migrate once, and share
// it: it is safe for concurrent use. Besides the methods of store.Store,
// store.SeriesVersioner and store.Checkpointer it has Migrate, WithTx, DB and Close.
type Store struct {
	*core
	// owned is the database Open opened, which Close closes.
	owned *sql.DB
}

// core is the shared SQL store, embedded under a name of this package.
type core = sqlcore.Store

var (
	_ store.Store           = (*Store)(nil)
	_ store.SeriesVersioner = (*Store)(nil)
	_ store.Checkpointer    = (*Store)(nil)
)

// NotMigratedError is the cause of the error of a store whose database
// lacks couponkit's tables: run Migrate once.
type NotMigratedError = sqlcore.NotMigratedError

// DialectError is the cause of the error of a store of this package over
// a database that is not SQLite (use that database's package).
type DialectError = sqlcore.DialectError

// New returns a Store over db, an SQLite database opened with
// modernc.org/sqlite (OpenDB, or sql.Open("sqlite", DSN(path)) with DSN's
// settings). The Store uses db's pool as it is and never closes it; from a
// pool of three connections or more (or with no limit) it holds one for
// its own writes, which Close gives back (see OpenDB). Over a
// database that is not SQLite every call fails with an InvalidConfig
// error wrapping a *DialectError, and over one never migrated with one
// wrapping a *NotMigratedError.
func New(db *sql.DB) *Store { return &Store{core: sqlcore.New(db, &dialect)} }

// Open opens (creating it if needed) the SQLite database file at path
// with OpenDB and returns a Store over it, which Close closes. Run Migrate
// before using it.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := OpenDB(ctx, path)
	if err != nil {
		return nil, err
	}
	s := New(db)
	s.owned = db
	return s, nil
}

// Migrate creates or upgrades the store's tables to SchemaVersion, with
// the files of Migrations. It is idempotent and versioned (the table
// ck_migrations records each step), serialized with other processes by
// SQLite's write lock, and all or nothing; a database migrated by a newer
// build is refused with InvalidConfig. A busy database past the busy
// timeout fails it with a *store.ConflictError of Kind "transaction": run
// it again. On a Store from WithTx, the steps run in the caller's
// transaction.
func (s *Store) Migrate(ctx context.Context) error { return s.core.Migrate(ctx) }

// WithTx returns a Store bound to the caller's transaction tx, which must
// belong to the store's database. Reads go through tx and see its
// uncommitted writes; Apply, InsertCoupons, UpdateWhere and AddAudience
// run inside tx, each under a SAVEPOINT, so a change that fails (a guard,
// a conflict, a duplicate) is undone alone and leaves tx usable. Nothing
// is committed: the caller commits or rolls back tx, and with it every
// change made through the returned Store.
//
// Use it to run an engine operation with the caller's own writes, for
// example a redemption that commits with the order it belongs to:
//
//	tx, _ := db.BeginTx(ctx, nil)
//	eng, _ := couponkit.New(couponkit.Config{Store: st.WithTx(tx)})
//	res, err := eng.Redeem(ctx, req)
//	// ... write the order with tx ...
//	err = tx.Commit()
//
// The returned Store is for the goroutine that owns tx: a *sql.Tx is not
// safe for concurrent use. tx holds the write lock from its start (with
// DSN's _txlock=immediate) to its end: the unbound Store's writes wait for
// it meanwhile. With a pool of one connection, do not use the unbound
// Store at all while tx is open: tx holds the connection.
func (s *Store) WithTx(tx *sql.Tx) store.Store { return s.core.WithTx(tx) }

// DB returns the database the store works on.
func (s *Store) DB() *sql.DB { return s.core.DB() }

// Close releases the statements the Store prepared and, for a Store from
// Open, closes its database; a Store from New leaves the database open.
// The Store must not be used afterwards.
func (s *Store) Close() error {
	err := s.core.Close()
	if s.owned != nil {
		err = errors.Join(err, s.owned.Close())
	}
	return err
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the migration files, at the root of the FS.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: not reached
	}
	return sub
}

// Migrations returns the SQL files of the schema, one per version, named
// NNNN_name.up.sql and numbered from 0001, each beginning with a
// "-- +goose Up" line: what Migrate applies, for a tool of your own
// (goose, golang-migrate or Atlas in their formats). A database is
// migrated by one tool only: Migrate records its steps in ck_migrations,
// the tools in tables of their own.
func Migrations() fs.FS { return migrations() }

// SchemaVersion is the schema version this build migrates to: the number
// of its last migration file.
func SchemaVersion() int { return sqlcore.SchemaVersion(migrations()) }

// BusyTimeout is how long a connection opened by OpenDB waits for another
// process's write lock before failing with SQLITE_BUSY (which the Store
// reports as a *store.ConflictError of Kind "transaction", for the engine
// to retry).
const BusyTimeout = 10 * time.Second

// CacheKiB is the page cache of a connection opened by OpenDB, in KiB.
// SQLite allocates it as pages are read, up to this size.
const CacheKiB = 64 << 10

// Conns is the size of the pool OpenDB makes.
const Conns = 4

// DSN returns the modernc.org/sqlite data source name OpenDB uses for the
// database file at path:
//
//   - _txlock=immediate: every transaction is BEGIN IMMEDIATE, so it takes
//     the write lock at its start and waits for it under the busy timeout.
//     A deferred transaction that reads first and then writes would fail
//     its lock upgrade with SQLITE_BUSY at once, without waiting.
//   - busy_timeout: wait up to BusyTimeout for a lock.
//   - journal_mode WAL: readers do not block the writer nor it them, and a
//     commit appends to the log instead of rewriting pages.
//   - synchronous NORMAL: with WAL, a commit is durable against a crash of
//     the process and consistent after a power loss (it may lose the last
//     commits then, never corrupt).
//   - foreign_keys on: SQLite does not check foreign keys otherwise.
//   - cache_size of CacheKiB: a bulk batch of ten thousand codes touches
//     pages all over the code index; with SQLite's default 2 MiB cache the
//     pages spill to the log before the commit.
//   - temp_store MEMORY: statement journals (a multi-row insert keeps one
//     to undo itself alone) stay in memory instead of temporary files.
func DSN(path string) string {
	return path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=cache_size(-" + strconv.Itoa(CacheKiB) + ")" +
		"&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(50000)"
}

// OpenDB opens (creating it if needed) the SQLite database file at path
// with the settings of DSN, for use with New.
//
// One writer, several readers. SQLite lets one transaction write at a
// time; a Store writes through one transaction at a time (its group
// commit and a lock around its other write transactions), so its writers
// never contend for the file lock, and none waits on the busy handler,
// which sleeps. It writes on one connection of the pool, which it holds:
// in WAL mode a connection keeps its page cache from one transaction to
// the next only while no other connection writes, so each write finds the
// pages the one before it read still cached (on a hot series this halves
// the pages read from the file). The pool's other connections (Conns in
// all) read meanwhile: in WAL mode readers neither block the writer nor
// wait for it. Other processes sharing the file, and a caller's own
// transaction (WithTx), take the write lock in turn under the busy
// timeout.
func OpenDB(ctx context.Context, path string) (*sql.DB, error) {
	if strings.ContainsRune(path, '?') {
		return nil, errcode.New(errcode.InvalidArgument, "path", "an SQLite path for OpenDB has no '?'; pass DSN parameters with sql.Open and DSN instead")
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(Conns)
	db.SetMaxIdleConns(Conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
