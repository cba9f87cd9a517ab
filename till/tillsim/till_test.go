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
	// lib, when set, is the till.Till the till sells and syncs through,
	// keeping leases of libSeries; online are the keys it acknowledged as
	// decided online, doubt those whose online call got no answer (or
	// whose sale crashed after it) and that it has not acknowledged since.
	lib       *till.Till
	libSeries []string
	online    map[string]bool
	doubt     map[string]bool
	// unanswered are the keys whose online call got no answer; stuck
	// those left in doubt at the end, for want of a lease of the series.
	unanswered map[string]bool
	stuck      map[string]bool
	// copied are the keys whose online call the central decided late, a
	// copy held in flight after the till stopped waiting for it.
	copied map[string]bool
	// reversals are the reversals Journal.Reverse acknowledged, by key;
	// reversed the keys of the uses they give back.
	reversals map[string]till.Entry
	reversed  map[string]bool
}

// leaseCall is a till's call about a lease, as it retries it.
type leaseCall struct {
	kind  lease.Kind
	grant couponkit.LeaseRequest
	call  couponkit.LeaseCall
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
		acked: map[string]till.Entry{}, madeAt: map[string]time.Time{}, known: map[string]lease.Lease{},
		online: map[string]bool{}, doubt: map[string]bool{}, unanswered: map[string]bool{}, stuck: map[string]bool{}, copied: map[string]bool{}, reversals: map[string]till.Entry{}, reversed: map[string]bool{}}
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
	w.drawLibrary(tl)
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
	j, err := till.Open(w.ctx, db, skew, till.WithTill(tl.name))
	if err != nil {
		w.t.Fatal(err)
	}
	tl.db, tl.j = db, j
	if tl.lib != nil {
		w.newLibrary(tl)
	}
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

// learn is the till keeping an answer about a lease: known keeps the
// newest, and the journal keeps it if it is newer than the one it has
// (Journal.PutLease guards by Version). The till mutant keepsStaleAnswers
// writes it over whatever the journal has, as a journal without the guard.
func (w *world) learn(tl *simTill, l lease.Lease) {
	if err := tl.j.PutLease(w.ctx, l); err != nil {
		w.violation("%s: PutLease(%s): %v", tl.name, l.ID, err)
	}
	w.known(tl, l)
}

// known keeps l as the till's view of the lease when it is newer (any
// answer, for the till mutant keepsStaleAnswers, which writes it to the
// journal too, past its guard).
func (w *world) known(tl *simTill, l lease.Lease) {
	if k, ok := tl.known[l.ID]; !ok || k.Version < l.Version {
		tl.known[l.ID] = l
	}
	if w.broken != keepsStaleAnswers {
		return
	}
	tl.known[l.ID] = l
	if _, err := tl.db.ExecContext(w.ctx, `UPDATE till_lease SET granted = ?, returned = ?, end_ns = ?, version = ? WHERE id = ?`,
		l.Granted.Uses, l.Returned.Uses, l.End.UnixNano(), l.Version, l.ID); err != nil {
		w.violation("%s: writing lease %s: %v", tl.name, l.ID, err)
	}
}

// answer is the till handling the central's answer to a lease call: the
// call is settled unless it was lost on the way (errLost); a return's
// answer (or refusal) ends what it set aside, with the lease answered, in
// one transaction (Journal.SettleCall).
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
	if !settles || c.kind != lease.Return {
		if err == nil {
			w.learn(tl, res.Lease)
		}
		return
	}
	var l *lease.Lease
	if err == nil {
		l = &res.Lease
	}
	if err := tl.j.SettleCall(w.ctx, c.key(), l); err != nil {
		w.violation("%s: SettleCall(%s): %v", tl.name, c.key(), err)
	}
	if l != nil {
		w.known(tl, *l)
	}
}

// drawDuration draws a duration in [lo, hi], to the second.
func drawDuration(w *world, label string, lo, hi time.Duration) time.Duration {
	return time.Duration(rapidInt(w, label, int(lo/time.Second), int(hi/time.Second))) * time.Second
}
