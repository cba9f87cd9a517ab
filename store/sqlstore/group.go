package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/store"
)

// Group commit.
//
// A transaction that bumps a hot counter (the series-wide use counter of a
// busy series) holds that row's lock until its commit is durable: one
// flush of the log per redemption, one redemption at a time. To go faster
// than the disk flushes, concurrent Apply calls are queued by the series
// they touch (a shard) and each queue is drained by one leader, which
// writes a group of changes in one transaction: every change under a
// savepoint, undone alone when it fails, and one commit for the group.
// Each Apply returns after that commit, so a change reported applied is
// as durable as before; changes of one group are serialized in the order
// they were queued, so the group is equivalent to running them one after
// another. A change that fails is reported to its caller only; a commit
// that fails fails every change of the group that had succeeded, with the
// commit's error: a transaction the database refused as a whole (a
// deadlock, a serialization failure, a busy database) is a
// *store.ConflictError of Kind "transaction", which the engine retries
// from a fresh read; the store runs nothing again.

const (
	// sqliteGroup and pgGroup bound the changes of one group transaction
	// (PostgreSQL keeps 64 subtransactions per transaction in shared memory;
	// past that every snapshot gets slower).
	sqliteGroup = 128
	pgGroup     = 32
	// pgShards is how many group queues (and so transactions at once) a
	// Store runs on PostgreSQL; SQLite, with one writer, has one.
	pgShards = 8
)

type groups struct {
	shards []*shard
	max    int
}

func newGroups(d Dialect) *groups {
	g := &groups{max: sqliteGroup, shards: make([]*shard, 1)}
	if d == Postgres {
		g.max, g.shards = pgGroup, make([]*shard, pgShards)
	}
	for i := range g.shards {
		g.shards[i] = &shard{}
	}
	return g
}

type shard struct {
	mu      sync.Mutex
	queue   []*waiter
	leading bool // a leader drains the queue
}

// waiter is one Apply in a queue.
type waiter struct {
	ctx  context.Context
	p    *planned
	err  error
	done bool          // set under the shard's lock
	wake chan struct{} // done, or asked to lead
}

// applyGrouped queues p and returns when the group that holds it is
// committed or rolled back.
func (s *Store) applyGrouped(ctx context.Context, p *planned) error {
	sh := s.groups.shards[p.shard%uint32(len(s.groups.shards))]
	w := &waiter{ctx: ctx, p: p, wake: make(chan struct{}, 1)}
	sh.mu.Lock()
	sh.queue = append(sh.queue, w)
	lead := !sh.leading
	sh.leading = true
	sh.mu.Unlock()
	if !lead {
		<-w.wake
		sh.mu.Lock()
		done := w.done
		sh.mu.Unlock()
		if done {
			return w.err
		}
	}
	s.lead(sh, w)
	return w.err
}

// lead runs groups from the front of sh's queue until me is done, then
// hands the queue to the next waiter, if any.
func (s *Store) lead(sh *shard, me *waiter) {
	for {
		sh.mu.Lock()
		n := min(len(sh.queue), s.groups.max)
		group := sh.queue[:n:n]
		sh.queue = append([]*waiter(nil), sh.queue[n:]...)
		sh.mu.Unlock()

		s.runGroup(group)

		sh.mu.Lock()
		for _, w := range group {
			w.done = true
			if w != me {
				w.wake <- struct{}{}
			}
		}
		if me.done {
			if len(sh.queue) > 0 {
				sh.queue[0].wake <- struct{}{} // lead on
			} else {
				sh.leading = false
			}
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
	}
}

// runGroup writes the group's changes in one transaction and sets each
// waiter's err.
func (s *Store) runGroup(group []*waiter) {
	ctx := context.Background() // no one caller's cancellation ends the group
	var err error
	if s.d == Postgres {
		err = s.runGroupPG(ctx, group)
	} else {
		err = s.runGroupSeq(ctx, group)
		s.stmts.prepareWanted(ctx, s.db)
	}
	if err != nil {
		for _, w := range group {
			if w.err == nil {
				w.err = err
			}
		}
	}
}

const (
	spChange   = "SAVEPOINT ck_change"
	spRelease  = "RELEASE SAVEPOINT ck_change"
	spRollback = "ROLLBACK TO SAVEPOINT ck_change"
)

// runGroupSeq runs a group through database/sql, statement by statement.
// It returns an error for the whole group (the transaction failed), which
// the changes that had succeeded take as theirs.
func (s *Store) runGroupSeq(ctx context.Context, group []*waiter) error {
	if s.wmu != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	x := conn{s: s, tx: tx}
	if len(group) == 1 {
		// A group of one change needs no savepoint: the transaction is
		// the change's own and is rolled back when it fails. (On SQLite a
		// savepoint journals every page the change touches, and every
		// statement under it truncates that journal when it ends, at a
		// cost that grows with the change.)
		w := group[0]
		if w.err = w.ctx.Err(); w.err == nil {
			w.err = s.runSeq(ctx, x, w.p)
		}
		if w.err != nil {
			return s.dbErr(ctx, tx.Rollback())
		}
		return s.dbErr(ctx, tx.Commit())
	}
	for _, w := range group {
		if w.err = w.ctx.Err(); w.err != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, spChange); err != nil {
			_ = tx.Rollback()
			return s.dbErr(ctx, err)
		}
		if w.err = s.runSeq(ctx, x, w.p); w.err != nil {
			if _, err := tx.ExecContext(ctx, spRollback); err != nil {
				_ = tx.Rollback()
				return s.dbErr(ctx, err)
			}
		}
		if _, err := tx.ExecContext(ctx, spRelease); err != nil {
			_ = tx.Rollback()
			return s.dbErr(ctx, err)
		}
	}
	return s.dbErr(ctx, tx.Commit())
}

// runGroupPG runs a group on one pooled connection with pgx's pipeline:
// each change is one round trip (the previous change's RELEASE, its
// SAVEPOINT and its statements in one batch), plus one for the commit and
// one more for a change that fails.
func (s *Store) runGroupPG(ctx context.Context, group []*waiter) error {
	return s.withPgx(ctx, func(pc *pgx.Conn) error {
		err := s.pipelineGroup(ctx, pc, group)
		if err != nil && pc.PgConn().TxStatus() != 'I' && !pc.IsClosed() {
			_, _ = pc.Exec(ctx, "ROLLBACK")
		}
		return err
	})
}

// withPgx runs fn on a pooled connection's pgx connection, for what
// database/sql cannot do (pipelines, COPY). The PostgreSQL dialect needs
// the pgx stdlib driver.
func (s *Store) withPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			if err := s.dialectErr(nil); err != nil {
				return err
			}
			return fmt.Errorf("sqlstore: the PostgreSQL dialect needs the pgx stdlib driver, not %T", dc)
		}
		return fn(sc.Conn())
	})
}

func (s *Store) pipelineGroup(ctx context.Context, pc *pgx.Conn, group []*waiter) error {
	pre := []string{"BEGIN"} // sent before the next change
	for _, w := range group {
		if w.err = w.ctx.Err(); w.err != nil {
			continue
		}
		b := &pgx.Batch{}
		for _, q := range pre {
			b.Queue(q)
		}
		b.Queue(spChange)
		for i := range w.p.ops {
			b.Queue(w.p.ops[i].sql, w.p.ops[i].args...)
		}
		br := pc.SendBatch(ctx, b)
		var err error
		for range len(pre) + 1 {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
		var out outcome
		if err == nil {
			out, err = s.readOps(ctx, br, w.p)
		}
		cerr := br.Close()
		switch {
		case err != nil:
			return s.dbErr(ctx, err)
		case cerr != nil && !isServerErr(pc, cerr):
			return s.dbErr(ctx, cerr)
		case out.err == nil && !out.refused && cerr != nil:
			out.err = s.dbErr(ctx, cerr)
		}
		if w.err = out.err; w.err == nil && !out.refused {
			pre = []string{spRelease}
			continue
		}
		// For a refused guard, read the counter (the transaction is not in
		// error), then undo the change alone. The undo is sent as a simple
		// query: in a transaction in error, the server refuses to prepare
		// anything but ROLLBACK TO.
		if out.refused {
			b := &w.p.c.Bumps[out.bump]
			var cnt store.Count
			var last sql.NullInt64
			err := pc.QueryRow(ctx, s.q.counterGet, counterKeyArgs(&b.Key)...).Scan(&cnt.N, &last)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return s.dbErr(ctx, err)
			}
			cnt.Last = fromNanos(last)
			w.err = refusedErr(b, cnt)
		}
		if _, err := pc.PgConn().Exec(ctx, spRollback+"; "+spRelease).ReadAll(); err != nil {
			return s.dbErr(ctx, err)
		}
		pre = nil
	}
	if len(pre) > 0 && pre[0] == "BEGIN" {
		return nil // nothing was sent
	}
	b := &pgx.Batch{}
	for _, q := range pre {
		b.Queue(q)
	}
	b.Queue("COMMIT")
	return s.dbErr(ctx, pc.SendBatch(ctx, b).Close())
}

// outcome is how a pipelined change went: its own error, or the bump
// (index in Bumps) whose guard refused it.
type outcome struct {
	err     error
	refused bool
	bump    int
}

// readOps reads the results of a change's statements and checks them. Its
// error ends the group (the connection failed).
func (s *Store) readOps(ctx context.Context, br pgx.BatchResults, p *planned) (outcome, error) {
	for i := range p.ops {
		o := &p.ops[i]
		switch o.kind {
		case opExec, opExpectOne, opExpectN:
			ct, err := br.Exec()
			if err != nil {
				return s.changeErr(ctx, o, err)
			}
			if o.kind != opExec && ct.RowsAffected() != o.rows() {
				return outcome{err: o.fail()}, nil
			}
		case opBumps:
			rows, err := br.Query()
			if err != nil {
				return s.changeErr(ctx, o, err)
			}
			got := make([]bumped, 0, len(o.bumps))
			for rows.Next() {
				var r bumped
				if err := rows.Scan(&r.counter, &r.series, &r.code, &r.holder, &r.customer, &r.n, &r.last); err != nil {
					rows.Close()
					return s.changeErr(ctx, o, err)
				}
				got = append(got, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return s.changeErr(ctx, o, err)
			}
			if refused := settleBumps(p, o, got); refused >= 0 {
				return outcome{refused: true, bump: refused}, nil // GuardError once the counter is read
			}
		case opBump, opUndo, opRead, opRefuse:
			var n int64
			var last sql.NullInt64
			err := br.QueryRow().Scan(&n, &last)
			switch {
			case errors.Is(err, pgx.ErrNoRows) && (o.kind == opRead || o.kind == opRefuse):
			case errors.Is(err, pgx.ErrNoRows) && o.kind == opUndo:
				return outcome{err: o.fail()}, nil
			case errors.Is(err, pgx.ErrNoRows):
				return outcome{refused: true, bump: o.bump}, nil // GuardError once the counter is read
			case err != nil:
				return s.changeErr(ctx, o, err)
			}
			if o.kind == opRefuse {
				return outcome{refused: true, bump: o.bump}, nil
			}
			p.after[o.bump] = store.Count{N: n, Last: fromNanos(last)}
		default:
			return outcome{}, fmt.Errorf("sqlstore: statement kind %d cannot be pipelined", o.kind)
		}
	}
	return outcome{}, nil
}

// changeErr sorts a statement's error: the server refused it (the change
// fails alone), or the connection failed (the group ends).
func (s *Store) changeErr(ctx context.Context, o *op, err error) (outcome, error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Severity != "FATAL" && pe.Severity != "PANIC" {
		return outcome{err: s.opErr(ctx, o, err)}, nil
	}
	return outcome{}, err
}

// isServerErr reports whether err is an error the server returned while
// the connection stays usable.
func isServerErr(pc *pgx.Conn, err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && !pc.IsClosed()
}
