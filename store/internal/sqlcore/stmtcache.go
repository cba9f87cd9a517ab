package sqlcore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

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
// runs outside any transaction of the store. c may be nil (no cache).
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
