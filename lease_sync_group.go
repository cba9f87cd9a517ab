package couponkit

import (
	"context"
	"errors"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Grouped sync: ApplyJournal records consecutive entries of a batch in
// one store change while they touch disjoint records, so that a till's
// batch costs the central a few writes rather than one per use.
//
// Every entry is decided against the stored state, as one at a time, and
// joins the open group only when nothing the group will write is
// something the entry reads or writes: its coupon (by series and
// canonical code), its customer's counters in the series, the series' use
// counter (read by a use its lease cannot take, written by such a use and
// by a reversal), its own key and the key it reverses. An entry that
// overlaps closes the group first (the group is applied), and is then
// decided against the state that includes it. So each entry's decision
// reads exactly what it would read were the entries before it applied
// one by one. The leases are the exception: the group carries each
// lease's state as its entries change it, and writes it once, guarded by
// the version it read.
//
// A group whose change fails because a concurrent writer moved something
// (a conflict, a failed guard, a key recorded meanwhile) wrote nothing,
// a change being atomic: its entries are then recorded one at a time
// (applyEntry), each with its own retries.

// journalGroupMax is the most entries one change records. A group's change
// holds some seven writes per entry (the coupon, the redemption, its
// event, three or four counters, the entry) and locks their rows until it
// commits, the lease's row among them, which online uses of the same lease
// wait for. A hundred entries divide the central's transactions by a
// hundred and keep one within tens of milliseconds on the SQL stores of a
// loaded machine; larger groups no longer pay, each entry's reads (its
// coupon, its counters) being then most of the cost, and hold the locks
// longer.
const journalGroupMax = 100

// journalGroup is the open group of a batch being recorded: its change,
// the running state of the leases its entries changed, the keys its
// entries touch (see entryFootprint), and the entries it records.
type journalGroup struct {
	ch     store.Change
	leases []groupLease
	keys   map[string]struct{}
	idx    []int         // the batch indexes of the entries it records
	recs   []lease.Entry // and their records

	// Kept from group to group: the batch's fresh entries (see
	// journalCheck) and the series its entries name.
	fresh  []bool
	series map[string]*series.Series
}

// groupLease is a lease as the group's entries leave it, and the version
// stored when the group first read it.
type groupLease struct {
	l       lease.Lease
	stored  int64
	changed bool
}

func newJournalGroup() *journalGroup {
	return &journalGroup{keys: make(map[string]struct{}), series: make(map[string]*series.Series)}
}

func (g *journalGroup) empty() bool { return len(g.idx) == 0 }

func (g *journalGroup) reset() {
	*g = journalGroup{keys: g.keys, idx: g.idx[:0], recs: g.recs[:0], fresh: g.fresh, series: g.series}
	clear(g.keys)
}

// overlaps reports whether one of keys is among the group's; a key "*"
// overlaps any group that records something, and a group holding "*"
// overlaps everything.
func (g *journalGroup) overlaps(keys []string) bool {
	if _, solo := g.keys["*"]; solo {
		return true
	}
	for _, k := range keys {
		if _, ok := g.keys[k]; ok || k == "*" && !g.empty() {
			return true
		}
	}
	return false
}

// lease returns the lease id as the group leaves it, reading it from ls
// when the group has not used it.
func (g *journalGroup) lease(ctx context.Context, ls store.LeaseStore, id string) (*groupLease, error) {
	for i := range g.leases {
		if g.leases[i].l.ID == id {
			return &g.leases[i], nil
		}
	}
	l, err := ls.Lease(ctx, id)
	if err != nil {
		return nil, err
	}
	g.leases = append(g.leases, groupLease{l: l, stored: l.Version})
	return &g.leases[len(g.leases)-1], nil
}

// add puts an entry's change ch, its record rec and its keys in the
// group; a lease write of ch becomes the lease's running state.
func (g *journalGroup) add(i int, ch *store.Change, rec lease.Entry, gl *groupLease, keys []string) {
	if len(ch.Leases) > 0 {
		gl.l, gl.changed = ch.Leases[0].Lease, true
	}
	c := &g.ch
	c.NewCoupons = append(c.NewCoupons, ch.NewCoupons...)
	c.Coupons = append(c.Coupons, ch.Coupons...)
	c.NewRedemptions = append(c.NewRedemptions, ch.NewRedemptions...)
	c.Redemptions = append(c.Redemptions, ch.Redemptions...)
	c.Bumps = append(c.Bumps, ch.Bumps...)
	c.Events = append(c.Events, ch.Events...)
	c.TillEntries = append(c.TillEntries, ch.TillEntries...)
	c.TillEntryUpdates = append(c.TillEntryUpdates, ch.TillEntryUpdates...)
	for _, k := range keys {
		g.keys[k] = struct{}{}
	}
	g.idx = append(g.idx, i)
	g.recs = append(g.recs, rec)
}

// change returns the group's change: its entries' writes, in journal
// order, and one write of each lease they changed, from the version the
// group read to the next.
func (g *journalGroup) change() *store.Change {
	g.ch.Leases = g.ch.Leases[:0]
	for i := range g.leases {
		gl := &g.leases[i]
		if gl.changed {
			l := gl.l
			l.Version = gl.stored + 1
			g.ch.Leases = append(g.ch.Leases, store.LeaseWrite{Lease: l, ExpectVersion: gl.stored})
		}
	}
	return &g.ch
}

// counterKey is the footprint key of a counter: the coupon's for a code's
// counters, the customer's for a customer's in the series, the series'
// use counter's, and the counter's own otherwise.
func counterKey(k *store.CounterKey) string {
	switch k.Counter {
	case limits.CodeUses, limits.CustomerCodeUses:
		return "code:" + k.Series + "/" + k.Code
	case limits.CustomerSeriesUses, limits.CustomerIssued:
		return "customer:" + k.Series + "/" + k.Customer
	case limits.CustomerBudget:
		return "customer:" + k.Series + "/" + k.Customer
	case limits.SeriesUses, limits.SeriesBudget:
		// The budget counter is read with the use counter, by a use its
		// lease cannot take.
		return "series:" + k.Series
	}
	return "counter:" + k.String()
}

// changeKeys appends to dst the footprint keys of what ch writes, but for
// its leases, which a group merges. A part a journal entry never writes
// (a series, audience, notices, a sequence) makes the change "*": a
// group of its own.
func changeKeys(dst []string, ch *store.Change) []string {
	for i := range ch.NewCoupons {
		dst = append(dst, "code:"+ch.NewCoupons[i].SeriesID+"/"+ch.NewCoupons[i].Canonical)
	}
	for i := range ch.Coupons {
		dst = append(dst, "code:"+ch.Coupons[i].Coupon.SeriesID+"/"+ch.Coupons[i].Coupon.Canonical)
	}
	for i := range ch.NewRedemptions {
		dst = append(dst, "redemption:"+ch.NewRedemptions[i].ID)
	}
	for i := range ch.Redemptions {
		dst = append(dst, "redemption:"+ch.Redemptions[i].Redemption.ID)
	}
	for i := range ch.Bumps {
		dst = append(dst, counterKey(&ch.Bumps[i].Key))
	}
	for i := range ch.TillEntries {
		dst = append(dst, "entry:"+ch.TillEntries[i].Key)
	}
	for i := range ch.TillEntryUpdates {
		dst = append(dst, "entry:"+ch.TillEntryUpdates[i].Entry.Key)
	}
	if ch.Series != nil || ch.Sequence != nil || len(ch.Audience) > 0 || len(ch.Notices) > 0 || len(ch.LeaseOps) > 0 {
		dst = append(dst, "*")
	}
	return dst
}

// entryFootprint appends to dst the keys of what x reads or writes, known
// before it is decided: its coupon and its customer in the series, its
// key and the key it reverses, and the series' use counter, unless x is
// a use its lease (as the group leaves it) takes. It returns the keys of
// what x may write, which the group keeps, and of what it only reads: the
// counters of no customer, which an entry by no customer reads and most
// series never write, and, for a reversal by no customer, every
// redemption of the series (it looks for the last use that still counts),
// hence "*". The series' codes' canonical form is read once per batch
// (cache): the source of a series' codes does not change.
func (e *Engine) entryFootprint(ctx context.Context, dst []string, x *JournalEntry, l *lease.Lease, cache map[string]*series.Series) (writes, reads []string) {
	sid := l.SeriesID
	code := "raw:" + x.Code
	s, ok := cache[sid]
	if !ok {
		s, _ = e.series(ctx, sid)
		cache[sid] = s
	}
	if s != nil {
		if canon, err := e.canonical(s, x.Code); err == nil {
			code = canon
		}
	}
	dst = append(dst, "code:"+sid+"/"+code, "entry:"+x.Key)
	if x.Reverses != "" {
		dst = append(dst, "entry:"+x.Reverses, "series:"+sid)
	} else if _, err := l.Use(lease.Slice{Uses: 1, Money: e.entrySpend(ctx, sid, x).minor}, e.now()); err != nil {
		dst = append(dst, "series:"+sid)
	}
	if x.Customer != "" {
		return append(dst, "customer:"+sid+"/"+x.Customer), nil
	}
	n := len(dst)
	dst = append(dst, "customer:"+sid+"/")
	if x.Reverses != "" {
		dst = append(dst, "*")
	}
	return dst[:n], dst[n:]
}

// groupable reports whether err, from a group's change or an entry's
// decision, is a concurrent writer's doing, which recording the entries
// one at a time (with retries) resolves.
func groupable(err error) bool {
	var ex *store.ExistsError
	return errors.Is(err, errcode.ErrConflict) || errors.Is(err, errcode.ErrGuardFailed) || errors.As(err, &ex)
}

// applyGrouped records xs, which ApplyJournal checked, in groups of at
// most e.group entries, and returns their records in journal order; after
// an error, the records of the entries before the first it may not have
// recorded.
func (e *Engine) applyGrouped(ctx context.Context, ls store.LeaseStore, till string, xs []JournalEntry, fresh []bool) ([]lease.Entry, error) {
	out := make([]lease.Entry, len(xs))
	g := newJournalGroup()
	g.fresh = fresh
	done := 0 // out[:done] are recorded or answered
	var keys [2]string
	for i := range xs {
		x := &xs[i]
		// An entry whose key, or the key it reverses, the group records
		// reads that record: the group is applied first.
		k := append(keys[:0], "entry:"+x.Key)
		if x.Reverses != "" {
			k = append(k, "entry:"+x.Reverses)
		}
		if len(g.idx) >= e.group || g.overlaps(k) {
			if err := e.flushGroup(ctx, ls, till, xs, g, out); err != nil {
				return out[:done], err
			}
			done = i
		}
		flushed, err := e.groupEntry(ctx, ls, till, xs, i, g, out)
		if flushed {
			done = i
		}
		if err != nil {
			return out[:done], err
		}
		if g.empty() {
			done = i + 1
		}
	}
	if err := e.flushGroup(ctx, ls, till, xs, g, out); err != nil {
		return out[:done], err
	}
	return out, nil
}

// groupEntry answers xs[i] when it is recorded, or decides it against the
// stored state and adds it to g, applying g first when the entry overlaps
// it; an entry whose decision or change meets a concurrent writer is
// recorded on its own, after g. It reports whether it applied g.
func (e *Engine) groupEntry(ctx context.Context, ls store.LeaseStore, till string, xs []JournalEntry, i int, g *journalGroup, out []lease.Entry) (bool, error) {
	x := &xs[i]
	gl, err := g.lease(ctx, ls, x.LeaseID)
	if err != nil {
		return false, err
	}
	if !g.fresh[i] {
		// A fresh entry was not recorded when the batch was checked; one
		// recorded since (a concurrent upload or online use) makes the
		// group's change fail, and is then answered one at a time.
		if rec, err := ls.TillEntry(ctx, till, x.Key); err == nil {
			out[i] = rec
			return false, sameEntry(&rec, till, gl.l.SeriesID, x)
		} else if !errors.Is(err, errcode.ErrNotFound) {
			return false, err
		}
	}
	flushed := false
	writes, reads := e.entryFootprint(ctx, nil, x, &gl.l, g.series)
	if g.overlaps(writes) || g.overlaps(reads) {
		if err := e.flushGroup(ctx, ls, till, xs, g, out); err != nil {
			return false, err
		}
		flushed = true
		if gl, err = g.lease(ctx, ls, x.LeaseID); err != nil {
			return flushed, err
		}
		writes, _ = e.entryFootprint(ctx, writes[:0], x, &gl.l, g.series)
	}
	record := e.entryChange
	if x.Reverses != "" {
		record = e.reversalChange
	}
	ch, rec, err := record(ctx, till, x, &gl.l)
	if err == nil {
		n := len(writes)
		writes = changeKeys(writes, ch)
		if !g.overlaps(writes[n:]) {
			g.add(i, ch, rec, gl, writes)
			return flushed, nil
		}
	} else if !groupable(err) {
		return flushed, err
	}
	// The change overlaps the group, or the decision met a concurrent
	// writer: the group first, then the entry alone.
	if err := e.flushGroup(ctx, ls, till, xs, g, out); err != nil {
		return flushed, err
	}
	out[i], err = e.applyEntry(ctx, ls, till, x)
	return true, err
}

// flushGroup applies g's change and puts its records in out. When the
// change fails because a concurrent writer moved something it wrote
// nothing, and g's entries are recorded one at a time. g is empty after.
func (e *Engine) flushGroup(ctx context.Context, ls store.LeaseStore, till string, xs []JournalEntry, g *journalGroup, out []lease.Entry) error {
	defer g.reset()
	if g.empty() {
		return nil
	}
	err := e.st.Apply(ctx, g.change())
	if err == nil {
		for j, i := range g.idx {
			out[i] = g.recs[j]
		}
		return nil
	}
	if !groupable(err) {
		return err
	}
	for _, i := range g.idx {
		if out[i], err = e.applyEntry(ctx, ls, till, &xs[i]); err != nil {
			return err
		}
	}
	return nil
}
