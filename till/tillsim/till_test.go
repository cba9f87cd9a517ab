package tillsim

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// simTill is one till: its journal over its own SQLite file, its clock,
// and the state a till keeps beside the journal (durable in a real till:
// it survives a crash here too).
type simTill struct {
	name string
	path string
	db   *sql.DB
	j    *till.Journal
	// offset is the till's clock minus the central's, within the allowance.
	offset time.Duration
	// cutUntil is when a partition of the till ends (the central's clock).
	cutUntil time.Time
	// acked are the uses Journal.Redeem acknowledged, by key, and when
	// each was made on the central's clock.
	acked  map[string]till.Entry
	madeAt map[string]time.Time
	// known is the newest answer the till got for each lease.
	known map[string]lease.Lease
	// pending is the till's outstanding lease call, retried with its key
	// until it is answered.
	pending *leaseCall
	// sale is a sale that crashed before its commit, which the cashier
	// tries again with the same key.
	sale *till.Use
	// crashAfterUpload makes the till crash once its sync returns.
	crashAfterUpload bool
}

// leaseCall is a till's call about a lease, as it retries it.
type leaseCall struct {
	kind  lease.Kind
	grant couponkit.LeaseRequest
	call  couponkit.LeaseCall
	// reserved is what a return set aside of the lease locally.
	reserved int64
}

func (c *leaseCall) key() string {
	if c.kind == lease.Grant {
		return c.grant.Key
	}
	return c.call.Key
}

// newTill makes a till with its journal, its clock offset drawn, and
// every series' configuration synced.
func (w *world) newTill(name string) *simTill {
	off := drawDuration(w, name+" clock offset", -(skew - time.Second), skew-time.Second)
	tl := &simTill{name: name, path: filepath.Join(w.dir, name+".db"), offset: off,
		acked: map[string]till.Entry{}, madeAt: map[string]time.Time{}, known: map[string]lease.Lease{}}
	w.open(tl)
	for _, s := range w.series {
		cfg, err := w.eng.Series(w.ctx, s.id)
		if err != nil {
			w.t.Fatal(err)
		}
		if err := tl.j.PutSeries(w.ctx, cfg); err != nil {
			w.t.Fatal(err)
		}
	}
	return tl
}

// open opens the till's SQLite file and its journal. The file keeps its
// rollback journal in memory and is not synced to disk: a simulated
// crash closes the database, so what was committed is in the file and
// what was not is rolled back, which is all the simulation needs (it does
// not test SQLite's own durability under power loss), at twice the speed.
func (w *world) open(tl *simTill) {
	db, err := sql.Open("sqlite", "file:"+tl.path+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(OFF)&_pragma=journal_mode(MEMORY)")
	if err != nil {
		w.t.Fatal(err)
	}
	j, err := till.Open(w.ctx, db, skew)
	if err != nil {
		w.t.Fatal(err)
	}
	tl.db, tl.j = db, j
}

// crash closes the till's database, as a till that died, and reopens its
// file.
func (w *world) crash(tl *simTill) {
	w.logf("  %s crashes", tl.name)
	if err := tl.db.Close(); err != nil {
		w.violation("%s: closing its database: %v", tl.name, err)
	}
	w.open(tl)
}

// clock is the till's clock.
func (w *world) clock(tl *simTill) time.Time { return w.now.Add(tl.offset) }

// cut reports whether the till is partitioned from the central.
func (w *world) cut(tl *simTill) bool { return w.now.Before(tl.cutUntil) }

// learn keeps an answer about a lease if it is newer than the one the
// till has, and writes the lease to the journal with what a return in
// doubt has reserved of it.
func (w *world) learn(tl *simTill, l lease.Lease) {
	if k, ok := tl.known[l.ID]; ok && k.Version >= l.Version && w.broken != keepsStaleAnswers {
		return
	}
	tl.known[l.ID] = l
	w.putLease(tl, l.ID)
}

// putLease writes the till's view of a lease: the newest answer, with a
// return in doubt counted as returned already.
func (w *world) putLease(tl *simTill, id string) {
	l := tl.known[id]
	l.Used, l.Reclaimed, l.Status = lease.Slice{}, lease.Slice{}, lease.Open
	if c := tl.pending; c != nil && c.kind == lease.Return && c.call.LeaseID == id && w.broken != spendsReturnsInDoubt {
		l.Returned.Uses += c.reserved
	}
	if err := tl.j.PutLease(w.ctx, l); err != nil {
		w.violation("%s: PutLease(%s): %v", tl.name, id, err)
	}
}

// answer is the till handling the central's answer to a lease call: the
// call is settled unless it was lost on the way (errLost).
func (w *world) answer(tl *simTill, c *leaseCall, res couponkit.LeaseResult, err error) {
	if errors.Is(err, errLost) {
		return
	}
	if !expected(err) {
		w.violation("%s: %s %s: %v", tl.name, c.kind, c.key(), err)
	}
	w.stats[fmt.Sprintf("lease call: %s: %v", c.kind, errcode.CodeOf(err))]++
	if l := &res.Lease; err == nil {
		w.logf("  %s <- central: %s %s: lease %s v%d granted %d returned %d, end %s",
			tl.name, c.kind, c.key(), l.ID, l.Version, l.Granted.Uses, l.Returned.Uses, l.End.Sub(t0))
	} else {
		w.logf("  %s <- central: %s %s: %v", tl.name, c.kind, c.key(), err)
	}
	settles := tl.pending == c
	if settles {
		tl.pending = nil
	}
	if err == nil {
		w.learn(tl, res.Lease)
	}
	if settles && c.kind == lease.Return {
		w.putLease(tl, c.call.LeaseID) // the reservation ends
	}
}

// drawDuration draws a duration in [lo, hi], to the second.
func drawDuration(w *world, label string, lo, hi time.Duration) time.Duration {
	return time.Duration(rapidInt(w, label, int(lo/time.Second), int(hi/time.Second))) * time.Second
}
