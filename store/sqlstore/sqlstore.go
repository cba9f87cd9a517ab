package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// Dialect names the SQL database behind a Store.
type Dialect uint8

// The dialects.
const (
	// SQLite is SQLite 3.35 or later through modernc.org/sqlite (pure Go).
	// Open the database with OpenSQLite, or with the same DSN parameters:
	// WAL, a busy timeout, foreign keys on and _txlock=immediate.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 13 or later through
	// github.com/jackc/pgx/v5/stdlib.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + itoa(int64(d)) + ")"
}

// Store is the SQL implementation of store.Store. Create one with New over
// a *sql.DB the caller opened and keeps (the Store never closes it), call
// Migrate once, and share the Store: it is safe for concurrent use.
type Store struct {
	db *sql.DB
	d  Dialect
	// driver is the dialect of db's driver, when the package knows the
	// driver; misuse, when it is not d, the error every statement then
	// returns instead of running (see DialectError).
	driver Dialect
	misuse error
	q      *queries
	// tx, when set, binds the Store to a caller's transaction (WithTx).
	tx *sql.Tx
	// stmts caches prepared statements for SQLite (pgx caches its own per
	// connection). Shared by the stores WithTx derives.
	stmts *stmtCache
	// spSeq numbers savepoints; shared by the stores WithTx derives.
	spSeq *atomic.Uint64
	// groups queues Apply calls for group commit.
	groups *groups
	// wmu serializes the store's own write transactions on SQLite, which
	// writes one transaction at a time: a second would wait in SQLite's
	// busy handler, which sleeps.
	wmu *sync.Mutex
	// texts holds built statement texts by a key (sqlText).
	texts *sync.Map
}

var (
	_ store.Store           = (*Store)(nil)
	_ store.SeriesVersioner = (*Store)(nil)
)

// New returns a Store over db, which must be a database of dialect d. The
// Store uses db's pool as it is; see OpenSQLite for SQLite's settings.
// Over a database of the other dialect the Store's calls fail with an
// InvalidConfig error wrapping a *DialectError, and over a database never
// migrated with one wrapping a *NotMigratedError.
func New(db *sql.DB, d Dialect) *Store {
	if d != SQLite && d != Postgres {
		panic("sqlstore: unknown dialect " + d.String())
	}
	s := &Store{db: db, d: d, q: queriesFor(d), spSeq: new(atomic.Uint64), groups: newGroups(d), texts: new(sync.Map)}
	if db != nil {
		s.driver = driverDialect(db.Driver())
		s.misuse = s.dialectErr(nil)
	}
	if d == SQLite {
		s.stmts = &stmtCache{}
		s.wmu = new(sync.Mutex)
	}
	return s
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// DB returns the database the store was created over.
func (s *Store) DB() *sql.DB { return s.db }

// WithTx returns a Store bound to the caller's transaction tx, which must
// belong to the store's database. Reads go through tx and see its
// uncommitted writes; Apply, InsertCoupons, UpdateWhere and AddAudience
// run inside tx, each under a SAVEPOINT, so a change that fails
// (a guard, a conflict, a duplicate) is undone alone and leaves tx usable.
// Nothing is committed: the caller commits or rolls back tx, and with it
// every change made through the returned Store.
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
// safe for concurrent use. On SQLite, tx holds the write lock from its
// first write (from its start with _txlock=immediate) to its end: the
// unbound Store's writes wait for it meanwhile. With a pool of one
// connection, do not use the unbound Store at all while tx is open: tx
// holds the connection.
func (s *Store) WithTx(tx *sql.Tx) store.Store {
	c := *s
	c.tx = tx
	return &c
}

// Close releases the statements the Store prepared. It does not close the
// database. The Store must not be used afterwards.
func (s *Store) Close() error {
	if s.stmts != nil && s.tx == nil {
		s.stmts.close()
	}
	return nil
}

// ---- statement execution ----

// conn runs statements on the database or, in a transaction, on tx. For
// SQLite it uses the prepared-statement cache.
type conn struct {
	s  *Store
	tx *sql.Tx
}

func (s *Store) reader() conn { return conn{s: s, tx: s.tx} }

// stmt returns the prepared statement for query when caching applies:
// SQLite only, and outside a transaction only when a free connection can
// prepare it (a transaction holding the one connection must not wait for
// another). ok is false when the query must run unprepared.
func (c conn) stmt(ctx context.Context, query string) (*sql.Stmt, bool) {
	sc := c.s.stmts
	if sc == nil {
		return nil, false
	}
	if st := sc.get(query); st != nil {
		if c.tx != nil {
			return c.tx.StmtContext(ctx, st), true
		}
		return st, true
	}
	if sc.full() {
		return nil, false
	}
	if c.tx != nil {
		// The transaction may hold the only connection: prepare it after
		// the transaction ends (prepareWanted), and run it plain now.
		sc.wanted.Store(query, struct{}{})
		return nil, false
	}
	st, err := c.s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, false // let the plain call report the error
	}
	return sc.put(query, st), true
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if c.s.misuse != nil {
		return nil, c.s.misuse
	}
	if st, ok := c.stmt(ctx, query); ok {
		return st.ExecContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.ExecContext(ctx, query, args...)
	}
	return c.s.db.ExecContext(ctx, query, args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if c.s.misuse != nil {
		return nil, c.s.misuse
	}
	if st, ok := c.stmt(ctx, query); ok {
		return st.QueryContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryContext(ctx, query, args...)
	}
	return c.s.db.QueryContext(ctx, query, args...)
}

func (c conn) row(ctx context.Context, query string, args ...any) scanner {
	if c.s.misuse != nil {
		return errRow{c.s.misuse}
	}
	if st, ok := c.stmt(ctx, query); ok {
		return st.QueryRowContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return c.s.db.QueryRowContext(ctx, query, args...)
}

// errRow is a row that failed before its statement ran.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// stmtCache holds prepared statements by query text.
type stmtCache struct {
	m      sync.Map // string -> *sql.Stmt
	n      atomic.Int32
	wanted sync.Map // string -> struct{}: queries met in a transaction, to prepare
}

// maxStmts bounds the cache; queries past it run unprepared.
const maxStmts = 512

func (c *stmtCache) get(q string) *sql.Stmt {
	if v, ok := c.m.Load(q); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

func (c *stmtCache) full() bool { return c.n.Load() >= maxStmts }

func (c *stmtCache) put(q string, st *sql.Stmt) *sql.Stmt {
	if v, loaded := c.m.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	c.n.Add(1)
	return st
}

// prepareWanted prepares the queries met uncached in a transaction. It
// runs outside any transaction of the store. c may be nil (PostgreSQL).
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	if c == nil {
		return
	}
	c.wanted.Range(func(k, _ any) bool {
		c.wanted.Delete(k)
		q := k.(string)
		if c.get(q) != nil || c.full() {
			return true
		}
		if st, err := db.PrepareContext(ctx, q); err == nil {
			c.put(q, st)
		}
		return true
	})
}

func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		c.n.Add(-1)
		return true
	})
}

// ---- transactions ----

// write runs fn once in a write transaction: its own, committed when fn
// succeeds; or, for a Store from WithTx, a savepoint in the caller's
// transaction. A transaction the database refuses (a serialization
// failure, a deadlock, a busy database) is not run again: its error is a
// *store.ConflictError of Kind "transaction" (see dbErr), for the caller
// to retry.
func (s *Store) write(ctx context.Context, fn func(c conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	err := s.once(ctx, fn)
	s.stmts.prepareWanted(ctx, s.db)
	return err
}

func (s *Store) once(ctx context.Context, fn func(c conn) error) error {
	if s.wmu != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	if err := fn(conn{s: s, tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return s.dbErr(ctx, tx.Commit())
}

func (s *Store) savepoint(ctx context.Context, fn func(c conn) error) error {
	name := "ck_sp" + itoa(int64(s.spSeq.Add(1)))
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return s.dbErr(ctx, err)
	}
	if err := fn(conn{s: s, tx: s.tx}); err != nil {
		// Undo the change alone; the caller's transaction goes on.
		if _, rerr := s.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, s.dbErr(ctx, rerr))
		}
		_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT "+name)
		return err
	}
	_, err := s.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return s.dbErr(ctx, err)
}

// invalid is the error for a malformed argument.
func invalid(field, msg string) error { return errcode.New(errcode.InvalidArgument, field, msg) }
