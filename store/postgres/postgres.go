package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// Store is couponkit's store.Store on a PostgreSQL database (see the
// package documentation). Make one with Open or New, run Migrate once, and
// share it: it is safe for concurrent use. Besides the methods of
// store.Store, store.SeriesVersioner, store.Checkpointer and
// store.ReadAhead it has
// Migrate, WithTx, DB and Close.
type Store struct {
	*core
	// owned is the database Open opened, which Close closes.
	owned *sql.DB
	// copyMin is the fewest new coupons of a change that Apply writes
	// with COPY (applyCopy): copyMin, or fewer in the tests.
	copyMin int
}

// core is the shared SQL store, embedded under a name of this package.
type core = sqlcore.Store

var (
	_ store.Store           = (*Store)(nil)
	_ store.SeriesVersioner = (*Store)(nil)
	_ store.Checkpointer    = (*Store)(nil)
	_ store.ReadAhead       = (*Store)(nil)
)

// ReadsAhead reports true: the server reads on other connections while a
// change is written, so a stream of issue batches reads each batch while
// the one before it is written (store.ReadAhead).
func (*Store) ReadsAhead() bool { return true }

// NotMigratedError is the cause of the error of a store whose database
// (its schema, the connection's search_path) lacks couponkit's tables:
// run Migrate once.
type NotMigratedError = sqlcore.NotMigratedError

// DialectError is the cause of the error of a store of this package over
// a database that is not PostgreSQL (use that database's package).
type DialectError = sqlcore.DialectError

// New returns a Store over db, a PostgreSQL database opened through pgx's
// database/sql driver (github.com/jackc/pgx/v5/stdlib: sql.Open("pgx",
// dsn) or stdlib.OpenDB). The Store uses db's pool as it is and never
// closes it; see Open for the pool's settings. Over a database that is
// not PostgreSQL every call fails with an InvalidConfig error wrapping a
// *DialectError, and over one never migrated with one wrapping a
// *NotMigratedError.
func New(db *sql.DB) *Store { return &Store{core: sqlcore.New(db, &dialect), copyMin: copyMin} }

// Conns is how many connections a pool from Open keeps open and idle.
// Opening a PostgreSQL connection costs more than a redemption, and
// database/sql keeps two idle by default and closes the others.
const Conns = 40

// Open connects to the PostgreSQL database of dsn (a URL or key=value
// string, as pgx reads it; the schema is the connection's search_path)
// with a pool of up to Conns connections, all kept idle, and returns a
// Store over it, which Close closes. Run Migrate before using it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(Conns)
	db.SetMaxIdleConns(Conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s := New(db)
	s.owned = db
	return s, nil
}

// Apply implements store.Store (see the package documentation). A large
// change of new coupons (at least 1,000) with their events, bumps, notices
// and a sequence advance alone, as Generate's batches and IssueBatch's
// changes are, is written with COPY, in a transaction of its own
// (applyCopy), with the outcome of Apply.
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if s.copyShaped(c) {
		return s.applyCopy(ctx, c)
	}
	return s.core.Apply(ctx, c)
}

// InsertCoupons implements store.Store: the batch is copied into a
// temporary table and inserted from it with one statement; a large batch
// is split in two parts written at once, each a transaction of its own.
func (s *Store) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	if err := sqlcore.CheckCouponIDs(coupons); err != nil {
		return 0, err
	}
	if len(coupons) == 0 && len(events) == 0 {
		return 0, ctx.Err()
	}
	return s.copyCoupons(ctx, coupons, events, sqlcore.UniqueIDs(coupons))
}

// Migrate creates or upgrades the store's tables, in the schema of the
// connection's search_path, to SchemaVersion, with the files of
// Migrations. It is idempotent and versioned (the table ck_migrations
// records each step), serialized with other processes by an advisory lock
// per schema, and all or nothing; a database migrated by a newer build is
// refused with InvalidConfig. A transaction PostgreSQL refuses fails it
// with a *store.ConflictError of Kind "transaction": run it again. On a
// Store from WithTx, the steps run in the caller's transaction.
func (s *Store) Migrate(ctx context.Context) error { return s.core.Migrate(ctx) }

// WithTx returns a Store bound to the caller's transaction tx, which must
// belong to the store's database. Reads go through tx and see its
// uncommitted writes; Apply, InsertCoupons, UpdateWhere and AddAudience
// run inside tx, each under a SAVEPOINT, so a change that fails (a guard,
// a conflict, a duplicate) is undone alone and leaves tx usable; they are
// written with ordinary statements, not COPY. Nothing is committed: the
// caller commits or rolls back tx, and with it every change made through
// the returned Store.
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
// safe for concurrent use.
func (s *Store) WithTx(tx *sql.Tx) store.Store { return s.core.WithTx(tx) }

// DB returns the database the store works on.
func (s *Store) DB() *sql.DB { return s.core.DB() }

// Close closes, for a Store from Open, its database; a Store from New
// leaves the database open. The Store must not be used afterwards.
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
