package sqlcore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"testing"
	"time"

	modsqlite "modernc.org/sqlite"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// commitHook is a connector of modernc.org/sqlite's driver whose
// transactions call hook before they commit.
type commitHook struct {
	dsn  string
	hook func()
}

func (c commitHook) Connect(context.Context) (driver.Conn, error) {
	dc, err := (&modsqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return hookConn{dc.(hookedConn), c.hook}, nil
}
func (c commitHook) Driver() driver.Driver { return &modsqlite.Driver{} }

type hookedConn interface {
	driver.Conn
	driver.ConnBeginTx
}

type hookConn struct {
	hookedConn
	hook func()
}

func (c hookConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	tx, err := c.hookedConn.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return hookTx{tx, c.hook}, nil
}

type hookTx struct {
	driver.Tx
	hook func()
}

func (t hookTx) Commit() error { t.hook(); return t.Tx.Commit() }

// asked is a context that reports the first call of its Err: the group
// commit asks a change's context once its group is taken, to leave out a
// change whose caller has gone.
type asked struct {
	context.Context
	once sync.Once
	ch   chan struct{}
}

func (a *asked) Err() error {
	a.once.Do(func() { close(a.ch) })
	return a.Context.Err()
}

// TestGroupSeqHandsOnBeforeCommit checks the pipelining of a store that
// writes its groups through database/sql (SQLite's): once a group's
// statements are done, the next leader takes its group (and merges it)
// while the group before it commits, instead of after. The group before
// is one change (written alone), two (merged), or two that cannot be
// merged (written one by one under savepoints; on this database without
// tables their statements fail, and the group still commits).
func TestGroupSeqHandsOnBeforeCommit(t *testing.T) {
	empty := func() *store.Change { return &store.Change{} }
	sameCoupon := func() *store.Change { // two changes of one coupon are not merged
		return &store.Change{Coupons: []store.CouponUpdate{{Coupon: coupon.Coupon{ID: "c1"}}}}
	}
	for _, tc := range []struct {
		name   string
		n      int
		change func() *store.Change
	}{{"alone", 1, empty}, {"merged", 2, empty}, {"apart", 2, sameCoupon}} {
		t.Run(tc.name, func(t *testing.T) { handsOnBeforeCommit(t, tc.n, tc.change) })
	}
}

func handsOnBeforeCommit(t *testing.T, n int, change func() *store.Change) {
	var once sync.Once
	next := &asked{Context: context.Background(), ch: make(chan struct{})}
	var s *Store
	overlapped := false
	errs := make(chan error, 1)
	hook := func() {
		once.Do(func() { // the first group's commit: queue the next change, and wait for its group to be taken
			go func() { errs <- s.applyGrouped(next, &Planned{c: &store.Change{}}) }()
			select {
			case <-next.ch:
				overlapped = true
			case <-time.After(5 * time.Second):
			}
		})
	}
	db := sql.OpenDB(commitHook{dsn: "file:" + filepath.Join(t.TempDir(), "g.db") + "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)", hook: hook})
	t.Cleanup(func() { db.Close() })
	d := &Dialect{Name: "sqlite", Param: func(int) string { return "?" }, OneWriter: true, GroupSize: 8, GroupShards: 1,
		Classify: func(error) Fault { return Fault{} }}
	s = New(db, d)
	t.Cleanup(func() { s.Close() })
	// The first group: n waiters queued, led at once.
	sh := s.groups.shards[0]
	first := make([]*Waiter, n)
	for i := range first {
		first[i] = &Waiter{Ctx: context.Background(), P: &Planned{c: change(), lazy: true}, wake: make(chan struct{}, 1)}
	}
	sh.mu.Lock()
	sh.queue, sh.leading = first, true
	sh.mu.Unlock()
	s.lead(sh)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if !overlapped {
		t.Error("the next change's group was taken only after the commit before it ended")
	}
}
