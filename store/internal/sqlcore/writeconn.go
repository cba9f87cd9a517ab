package sqlcore

import (
	"context"
	"database/sql"
)

// One connection for the store's writes (Dialect.OneWriter).
//
// SQLite keeps a page cache per connection. In WAL mode a connection
// empties it when it starts a transaction after another connection has
// written, and keeps it when the last write was its own. A store writes
// one transaction at a time (wmu); run on whichever pooled connection is
// free, each write would find its cache emptied by the one before and read
// every page it touches again from the log. So the store holds one
// connection of the pool and runs its write transactions there, while its
// reads take the others. A pool of fewer than three connections is not
// held from: with one the reads would wait for it forever, with two they
// would wait for a caller's own transaction (WithTx) on the other.

// writeConn is the connection a store's write transactions run on, taken
// from the pool at the first write. Guarded by Store.wmu.
type writeConn struct {
	c *sql.Conn // nil before the first write, after a failed begin, and after release
}

// beginWrite begins a write transaction of the store's own: on its held
// connection (writeConn) when it has one or can take one, else on any
// connection of the pool. The caller holds s.wmu when s has one.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	if s.wc == nil {
		return s.db.BeginTx(ctx, nil)
	}
	if !holdable(s.db) {
		// The pool was made smaller since the connection was taken.
		_ = s.wc.release()
		return s.db.BeginTx(ctx, nil)
	}
	if s.wc.c == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.wc.c = c
	}
	tx, err := s.wc.c.BeginTx(ctx, nil)
	if err != nil {
		// A connection that cannot begin (broken, or the file busy) is
		// given back: the next write takes a connection again.
		_ = s.wc.release()
	}
	return tx, err
}

// release gives the held connection back to the pool, if any.
func (w *writeConn) release() error {
	if w.c == nil {
		return nil
	}
	err := w.c.Close()
	w.c = nil
	return err
}

// holdable reports whether a store may hold one of db's connections for
// its writes: db's pool has no limit, or at least three connections.
func holdable(db *sql.DB) bool {
	n := db.Stats().MaxOpenConnections
	return n == 0 || n >= 3
}
