package sqlcore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// Store is store.Store over a *sql.DB of one dialect. The dialect packages
// embed it; its exported methods are their stores' methods. Everything a
// dialect package needs beyond them is a function of this package, so that
// it is not part of their API.
type Store struct {
	db *sql.DB
	d  *Dialect
	// misuse, when set, is the error every statement returns instead of
	// running: the database is of another kind (see DialectError).
	misuse error
	// tx, when set, binds the Store to a caller's transaction (WithTx).
	tx *sql.Tx
	// stmts caches prepared statements (Dialect.OneWriter). Shared by the
	// stores WithTx derives.
	stmts *stmtCache
	// spSeq numbers savepoints; shared by the stores WithTx derives.
	spSeq *atomic.Uint64
	// groups queues Apply calls for group commit.
	groups *groups
	// reads queues ReadCode calls to combine (Dialect.CombineReads).
	reads *codeReads
	// wmu serializes the store's own write transactions (Dialect.OneWriter).
	wmu *sync.Mutex
	// wc is the connection those transactions run on (beginWrite); guarded
	// by wmu.
	wc *writeConn
	// texts holds built statement texts by a key (sqlText).
	texts *sync.Map
}

var (
	_ store.Store           = (*Store)(nil)
	_ store.SeriesVersioner = (*Store)(nil)
)

// New returns a Store over db, a database of dialect d. Over a database
// of another kind (when d can tell from db's driver) every call fails with
// an InvalidConfig error wrapping a *DialectError.
func New(db *sql.DB, d *Dialect) *Store {
	s := &Store{db: db, d: d, spSeq: new(atomic.Uint64), groups: newGroups(d), texts: new(sync.Map),
		reads: &codeReads{shapes: map[string]*readShape{}}}
	if db != nil && d.DriverDatabase != nil {
		if other := d.DriverDatabase(db.Driver()); other != "" && other != d.Name {
			s.misuse = s.dialectErr(other, nil)
		}
	}
	if d.OneWriter {
		s.stmts = &stmtCache{}
		s.wmu = new(sync.Mutex)
		s.wc = new(writeConn)
	}
	return s
}

// DB returns the database the store was created over.
func (s *Store) DB() *sql.DB { return s.db }

// Misuse is the error every call of s fails with when its database is of
// another kind (see DialectError), or nil: for a dialect package's
// statements that do not go through database/sql.
func Misuse(s *Store) error { return s.misuse }

// InTx reports whether the store is bound to a caller's transaction.
func InTx(s *Store) bool { return s.tx != nil }

// WithTx returns a Store bound to the caller's transaction tx, which must
// belong to the store's database: reads go through tx, and every write
// runs inside it under a savepoint of its own, undone alone when it fails.
// Nothing is committed; the caller commits or rolls back tx. The returned
// Store is for the goroutine that owns tx.
func (s *Store) WithTx(tx *sql.Tx) store.Store {
	c := *s
	c.tx = tx
	return &c
}

// Close releases the statements the Store prepared and the connection it
// writes through. It does not close the database. The Store must not be
// used afterwards.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	if s.stmts != nil {
		s.stmts.close()
	}
	if s.wc != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		return s.wc.release()
	}
	return nil
}

// ---- statement execution ----

// conn runs statements on the database or, in a transaction, on tx. With
// a statement cache it uses it.
type conn struct {
	s  *Store
	tx *sql.Tx
}

func (s *Store) reader() conn { return conn{s: s, tx: s.tx} }

// stmt returns the prepared statement for query when caching applies:
// with a cache, and outside a transaction only when a free connection can
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

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// invalid is the error for a malformed argument.
func invalid(field, msg string) error { return errcode.New(errcode.InvalidArgument, field, msg) }
