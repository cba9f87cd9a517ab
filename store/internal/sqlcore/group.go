package sqlcore

import (
	"context"
	"sync"
	"time"
)

// Group commit.
//
// A transaction that bumps a hot counter (the series-wide use counter of a
// busy series) holds that row's lock until its commit is durable: one
// flush of the log per redemption, one redemption at a time. To go faster
// than the disk flushes, concurrent Apply calls are queued by the series
// they touch (a shard) and each queue is drained by one leader, which
// writes a group of changes in one transaction: first merged into one
// change (merge.go), with no savepoint; when that fails, every change under
// a savepoint, undone alone when it fails; one commit for the group.
// Each Apply returns after that commit, so a change reported applied is
// as durable as before; changes of one group are serialized in the order
// they were queued, so the group is equivalent to running them one after
// another (Dialect.RunGroup may write a group its own way, with the same
// outcome). A change that fails is reported to its caller only; a commit
// that fails fails every change of the group that had succeeded, with the
// commit's error: a transaction the database refused as a whole (a
// deadlock, a serialization failure, a busy database) is a
// *store.ConflictError of Kind "transaction", which the engine retries
// from a fresh read; the store runs nothing again.

type groups struct {
	shards []*shard
	max    int
}

// newGroups makes d.GroupShards queues (at least one) of groups of up to
// d.GroupSize changes.
func newGroups(d *Dialect) *groups {
	g := &groups{max: max(1, d.GroupSize), shards: make([]*shard, max(1, d.GroupShards))}
	for i := range g.shards {
		g.shards[i] = &shard{}
	}
	return g
}

type shard struct {
	mu      sync.Mutex
	queue   []*Waiter
	leading bool // a leader drains the queue
	last    int  // the size of the group taken last
	// target, while a leader lingers (Dialect.GroupLinger), is the queue
	// length that ends its wait, with a send on full; else 0.
	target int
	full   chan struct{}
}

// Waiter is one Apply in a queue: Ctx is its caller's context, P its
// change, and Err its outcome, which the group's run sets.
type Waiter struct {
	Ctx  context.Context
	P    *Planned
	Err  error
	done bool          // set under the shard's lock
	wake chan struct{} // done, or asked to lead
}

// applyGrouped queues p and returns when the group that holds it is
// committed or rolled back.
//
// One leader at a time takes a group from the front of the queue and
// writes it; it hands the queue on as soon as the group's writes are done
// and its commit begins, not when the commit ends. On PostgreSQL
// (Dialect.RunGroup) the next group's statements then run while the
// previous group's commit is made durable, row locks keeping the two in
// order where they touch the same rows (the next group's bump of a hot
// counter waits for the previous commit); on a database with one writer
// (Dialect.OneWriter: SQLite) the next leader takes and merges its group
// meanwhile and writes once the commit ends. Either way the outcome is
// that of the groups one after another.
func (s *Store) applyGrouped(ctx context.Context, p *Planned) error {
	sh := s.groups.shards[p.shard%uint32(len(s.groups.shards))]
	w := &Waiter{Ctx: ctx, P: p, wake: make(chan struct{}, 1)}
	sh.mu.Lock()
	sh.queue = append(sh.queue, w)
	if sh.target > 0 && len(sh.queue) >= sh.target { // end the leader's linger
		sh.target = 0
		sh.full <- struct{}{}
	}
	lead := !sh.leading
	sh.leading = true
	sh.mu.Unlock()
	if !lead {
		<-w.wake
		sh.mu.Lock()
		done := w.done
		sh.mu.Unlock()
		if done {
			return w.Err
		}
	}
	// w leads: it is at the front of the queue, so the group it takes
	// holds it.
	s.lead(sh)
	return w.Err
}

// lead takes a group from the front of sh's queue, writes it, hands the
// queue on to the next waiter when the group's commit begins, and wakes
// the group's waiters when it ends. With Dialect.GroupLinger, it first
// lingers while the queue is short of half the last group.
func (s *Store) lead(sh *shard) {
	sh.mu.Lock()
	if d := s.d.GroupLinger; d > 0 && len(sh.queue) < sh.last/2 {
		s.linger(sh, d)
	}
	n := min(len(sh.queue), s.groups.max)
	sh.last = n
	group := sh.queue[:n:n]
	sh.queue = append([]*Waiter(nil), sh.queue[n:]...)
	sh.mu.Unlock()

	handedOn := false
	handOn := func() {
		if handedOn {
			return
		}
		handedOn = true
		sh.mu.Lock()
		if len(sh.queue) > 0 {
			sh.queue[0].wake <- struct{}{} // lead on
		} else {
			sh.leading = false
		}
		sh.mu.Unlock()
	}
	s.runGroup(group, handOn)
	handOn()

	sh.mu.Lock()
	for _, w := range group[1:] {
		w.done = true
		w.wake <- struct{}{}
	}
	group[0].done = true
	sh.mu.Unlock()
}

// linger waits, for at most d, until sh's queue holds half as many
// changes as the last group. It is called and returns with sh.mu held,
// which it releases meanwhile.
func (s *Store) linger(sh *shard, d time.Duration) {
	sh.target = sh.last / 2
	if sh.full == nil {
		sh.full = make(chan struct{}, 1)
	}
	sh.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-sh.full:
	case <-t.C:
	}
	t.Stop()
	sh.mu.Lock()
	sh.target = 0
	select {
	case <-sh.full: // sent after the timer fired
	default:
	}
}

// runGroup writes the group's changes in one transaction and sets each
// waiter's err. It calls commit once the group's writes are done, before
// its commit (or, at the latest, when it returns).
func (s *Store) runGroup(group []*Waiter, commit func()) {
	ctx := context.Background() // no one caller's cancellation ends the group
	var err error
	if s.d.RunGroup != nil {
		err = s.d.RunGroup(ctx, s, group, commit)
	} else {
		err = s.runGroupSeq(ctx, group, commit)
		s.stmts.prepareWanted(ctx, s.db)
	}
	if err != nil {
		for _, w := range group {
			if w.Err == nil {
				w.Err = err
			}
		}
	}
}

// The savepoint each change of a group runs under.
const (
	SpChange   = "SAVEPOINT ck_change"
	SpRelease  = "RELEASE SAVEPOINT ck_change"
	SpRollback = "ROLLBACK TO SAVEPOINT ck_change"
)

// runGroupSeq runs a group through database/sql, statement by statement.
// It returns an error for the whole group (the transaction failed), which
// the changes that had succeeded take as theirs. It calls commit once the
// group's statements are done, before its commit: the next leader then
// takes its group and merges it while this one commits, and waits for
// the store's write lock (wmu, held until the commit ends) only to write.
func (s *Store) runGroupSeq(ctx context.Context, group []*Waiter, commit func()) error {
	m := MergeGroup(s, group) // before the lock: while the group before commits
	if s.wmu != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	if m != nil {
		if done, err := s.runMerged(ctx, m, commit); done {
			return err
		}
	}
	tx, err := s.beginWrite(ctx)
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
		if w.Err = w.Ctx.Err(); w.Err == nil {
			w.Err = s.runSeq(ctx, x, w.P)
		}
		if w.Err != nil {
			return s.dbErr(ctx, tx.Rollback())
		}
		commit()
		return s.dbErr(ctx, tx.Commit())
	}
	for _, w := range group {
		if w.Err = w.Ctx.Err(); w.Err != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, SpChange); err != nil {
			_ = tx.Rollback()
			return s.dbErr(ctx, err)
		}
		if w.Err = s.runSeq(ctx, x, w.P); w.Err != nil {
			if _, err := tx.ExecContext(ctx, SpRollback); err != nil {
				_ = tx.Rollback()
				return s.dbErr(ctx, err)
			}
		}
		if _, err := tx.ExecContext(ctx, SpRelease); err != nil {
			_ = tx.Rollback()
			return s.dbErr(ctx, err)
		}
	}
	commit()
	return s.dbErr(ctx, tx.Commit())
}

// runMerged writes a merged group (see merge.go) in a transaction of its
// own, calling commit before its commit. It returns false, having rolled
// it back, when a statement of it failed: the group is then to be written
// the usual way. Otherwise the group is done, with the commit's error.
func (s *Store) runMerged(ctx context.Context, m *Merged, commit func()) (bool, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return false, nil
	}
	if err := s.runSeq(ctx, conn{s: s, tx: tx}, m.P); err != nil {
		_ = tx.Rollback()
		return false, nil
	}
	commit()
	if err := tx.Commit(); err != nil {
		return true, s.dbErr(ctx, err)
	}
	m.Done()
	return true, nil
}
