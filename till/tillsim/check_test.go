package tillsim

import (
	"slices"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// centralView is what the checks read of the central once a run has settled.
type centralView struct {
	leases  []lease.Lease
	byID    map[string]*lease.Lease
	entries []lease.Entry
	// byKey are the entries by till and key ("till/key").
	byKey map[string]*lease.Entry
	// redeemed are the ids of the redemptions that stand.
	redeemed map[string]bool
}

func (w *world) read() centralView {
	ls := w.leaseStore()
	leases, err := ls.Leases(w.ctx, store.LeaseQuery{})
	if err != nil {
		w.t.Fatalf("Leases: %v", err)
	}
	entries, err := ls.TillEntries(w.ctx, store.TillEntryQuery{})
	if err != nil {
		w.t.Fatalf("TillEntries: %v", err)
	}
	v := centralView{leases: leases, byID: map[string]*lease.Lease{}, entries: entries, byKey: map[string]*lease.Entry{}, redeemed: map[string]bool{}}
	byKey := map[string]string{}
	for _, s := range w.series {
		reds, err := w.st.ListRedemptions(w.ctx, store.RedemptionQuery{SeriesID: s.id})
		if err != nil {
			w.t.Fatalf("ListRedemptions: %v", err)
		}
		for _, r := range reds {
			v.redeemed[r.ID] = r.Status == coupon.StatusRedeemed
			// A till's sale, online or from its journal, is one use.
			if other, twice := byKey[r.IdempotencyKey]; twice && r.IdempotencyKey != "" {
				w.violation("(b) the sale %s was redeemed twice: %s and %s", r.IdempotencyKey, other, r.ID)
			}
			byKey[r.IdempotencyKey] = r.ID
		}
	}
	for i := range v.leases {
		v.byID[v.leases[i].ID] = &v.leases[i]
	}
	for i := range v.entries {
		e := &v.entries[i]
		if _, twice := v.byKey[e.Till+"/"+e.Key]; twice {
			w.violation("(b) the central recorded %s/%s twice", e.Till, e.Key)
		}
		v.byKey[e.Till+"/"+e.Key] = e
	}
	return v
}

// check runs every check on a settled run and returns the violations,
// with those met on the way.
func (w *world) check() []string {
	v := w.read()
	for _, s := range w.series {
		w.checkSeries(s, &v)
	}
	w.checkLeases(&v)
	w.checkLeaseMoney(&v)
	w.checkRecorded(&v)
	w.stats["entries recorded"] += len(v.entries)
	for _, e := range v.entries {
		if e.Conflicted() {
			w.stats["entries conflicted"]++
		}
	}
	for _, tl := range w.tills {
		w.checkJournal(tl, &v)
	}
	return w.violations
}

// seriesCount is what a series' use counter holds, by its parts.
type seriesCount struct {
	counter  int64 // the series' use counter
	central  int64 // central redemptions (not made by a till's entry)
	onSeries int64 // till entries counted on the series
	overflow int64 // of those, the ones past the series' limit
	held     int64 // Σ over the series' leases of Granted - Returned - Reclaimed
	// reversed are the till uses counted on leases and given back since
	// (a reversal gives a use back to the series, not to its lease).
	reversed int64
	// standing are the till uses recorded and not given back.
	standing int64
}

// seriesParts are what a series' counters are made of: its tills' uses
// (their entries that are not reversals), its central redemptions (those
// standing that no till entry made), what its leases hold (Granted -
// Returned - Reclaimed), and the value of one of its counters.
type seriesParts struct {
	uses    []lease.Entry
	central []coupon.Redemption
	held    lease.Slice
	counter int64
}

// partsOf reads the parts of s and its counter c.
func (w *world) partsOf(s *simSeries, v *centralView, c limits.Counter) seriesParts {
	reds, err := w.st.ListRedemptions(w.ctx, store.RedemptionQuery{SeriesID: s.id, Status: coupon.StatusRedeemed})
	if err != nil {
		w.t.Fatalf("ListRedemptions: %v", err)
	}
	var p seriesParts
	fromTills := map[string]bool{}
	for _, e := range v.entries {
		if e.SeriesID != s.id {
			continue
		}
		fromTills[e.RedemptionID] = true
		if e.Reverses == "" {
			p.uses = append(p.uses, e)
		}
	}
	for _, r := range reds {
		if !fromTills[r.ID] {
			p.central = append(p.central, r)
		}
	}
	for _, l := range v.leases {
		if l.SeriesID == s.id {
			p.held = p.held.Add(l.Granted.Sub(l.Returned).Sub(l.Reclaimed))
		}
	}
	var n [1]store.Count
	if err := w.st.Counters(w.ctx, []store.CounterKey{{Counter: c, Series: s.id}}, n[:]); err != nil {
		w.t.Fatalf("Counters: %v", err)
	}
	p.counter = n[0].N
	return p
}

// countSeries reads the parts of s's use counter.
func (w *world) countSeries(s *simSeries, v *centralView) seriesCount {
	p := w.partsOf(s, v, limits.SeriesUses)
	c := seriesCount{counter: p.counter, central: int64(len(p.central)), held: p.held.Uses}
	for _, e := range p.uses {
		given := !e.Reversed.IsZero()
		if !given {
			c.standing++
		}
		switch {
		case e.Counted == lease.OnSeries && !given:
			c.onSeries++
			if limitConflict(&e) {
				c.overflow++
			}
		case e.Counted == lease.OnLease && given:
			c.reversed++
		}
	}
	return c
}

// checkCounter checks the series' part of (c): its use counter is its
// parts, and the central redemptions are those the run made.
func (w *world) checkCounter(s *simSeries, c *seriesCount) {
	if c.central != int64(w.central[s.id]) {
		w.violation("(c) series %s: %d central redemptions stored, %d made", s.kind, c.central, w.central[s.id])
	}
	if want := c.central + c.onSeries + c.held - c.reversed; c.counter != want {
		w.violation("(c) series %s counts %d uses, want %d: %d central + %d unreversed counted on the series + %d held by leases - %d reversed counted on leases",
			s.kind, c.counter, want, c.central, c.onSeries, c.held, c.reversed)
	}
}

// checkSeries checks (a), the series' limit, and the series' part of
// (c), its use counter.
func (w *world) checkSeries(s *simSeries, v *centralView) {
	cur, err := w.eng.Series(w.ctx, s.id)
	if err != nil {
		w.t.Fatalf("Series: %v", err)
	}
	c := w.countSeries(s, v)
	w.checkCounter(s, &c)
	w.checkBudget(s, v)
	w.stats["entries counted on the series"] += int(c.onSeries)
	w.stats["entries past the series limit"] += int(c.overflow)
	used := c.central + c.standing
	if lim := int64(cur.Redemption.MaxPerSeries); used > lim+c.overflow {
		w.violation("(a) series %s: %d uses (%d central) pass its limit %d by more than the %d flagged uses reported after their lease's reclaim",
			s.kind, used, c.central, lim, c.overflow)
	}
}

// invariants checks, between two steps, what holds at every moment: each
// series' use counter is its parts, and each lease keeps its rules.
func (w *world) invariants() {
	v := w.read()
	for _, s := range w.series {
		c := w.countSeries(s, &v)
		w.checkCounter(s, &c)
		w.checkBudget(s, &v)
	}
	for _, l := range v.leases {
		if err := l.Check(); err != nil {
			w.violation("(c) lease %s: %v (%+v)", l.ID, err, l)
		}
	}
}

// limitConflict reports whether e is a use the central recorded past
// the series' limit.
func limitConflict(e *lease.Entry) bool {
	return slices.ContainsFunc(e.Conflicts, func(r refusal.Refusal) bool { return r.Rule == refusal.SeriesLimit })
}

// checkLeases checks (c) for each lease: its parts, and its Used against
// the entries counted on it.
func (w *world) checkLeases(v *centralView) {
	onLease := map[string]int64{}
	for _, e := range v.entries {
		if e.Counted == lease.OnLease && e.Reverses == "" {
			onLease[e.LeaseID]++
		}
	}
	for _, l := range v.leases {
		w.stats["leases"]++
		if l.Reclaimed.Uses > 0 {
			w.stats["leases reclaimed with uses left"]++
		}
		if l.Returned.Uses > 0 {
			w.stats["leases with uses returned"]++
		}
		if err := l.Check(); err != nil {
			w.violation("(c) lease %s: %v (%+v)", l.ID, err, l)
		}
		if l.Status != lease.Closed {
			w.violation("(c) lease %s is still open after the final reclaim", l.ID)
		}
		if l.Used.Uses != onLease[l.ID] {
			w.violation("(c) lease %s counts %d uses, %d entries are counted on it", l.ID, l.Used.Uses, onLease[l.ID])
		}
	}
}

// checkRecorded checks (b) from the central's side: every use recorded
// is one its till acknowledged (or, made online, one the till asked for
// and never learned of: its answer lost and the sale then refused
// offline, or a copy of a refused call allowed later), every reversal one it
// acknowledged, whose use is given back; a use counted on the series from
// the journal was reported after its lease was reclaimed (part of (a)).
func (w *world) checkRecorded(v *centralView) {
	tills := map[string]*simTill{}
	for _, tl := range w.tills {
		tills[tl.name] = tl
	}
	// unlearned counts, by lease, the online uses counted on it that the
	// till never learned of.
	unlearned := map[string]int{}
	for _, e := range v.entries {
		if tl := tills[e.Till]; tl != nil && e.Online && e.Counted == lease.OnLease && tl.doubt[e.Key] {
			if _, ok := tl.acked[e.Key]; !ok {
				unlearned[e.LeaseID]++
			}
		}
	}
	for _, e := range v.entries {
		tl := tills[e.Till]
		if tl == nil {
			w.violation("(b) the central recorded %s/%s of no till", e.Till, e.Key)
			continue
		}
		if e.Reverses != "" {
			w.checkReversal(tl, &e, v)
			continue
		}
		if _, ok := tl.acked[e.Key]; !ok {
			switch {
			case !e.Online || !tl.doubt[e.Key]:
				w.violation("(b) the central recorded %s/%s, which no till acknowledged", e.Till, e.Key)
			case !e.Reversed.IsZero():
				w.stats["sales in doubt voided"]++
			case tl.unanswered[e.Key] && !tl.stuck[e.Key] && !tl.copied[e.Key]:
				w.violation("(b) %s/%s, a sale in doubt (its online call unanswered, the sale not made), was never given back", e.Till, e.Key)
			default:
				w.stats["online uses the till never acknowledged"]++
			}
		}
		if e.Conflicted() == (e.RedemptionID != "") || (e.RedemptionID != "" && v.redeemed[e.RedemptionID] != e.Reversed.IsZero()) {
			w.violation("(b) %s/%s: conflicts %v, redemption %q, reversed %v: a use is a redemption exactly when it has no conflict, standing until reversed",
				e.Till, e.Key, e.Conflicts, e.RedemptionID, !e.Reversed.IsZero())
		}
		if e.Online {
			w.stats["uses recorded online"]++
		}
		if e.Counted != lease.OnSeries || e.Online {
			continue
		}
		l := v.byID[e.LeaseID]
		if unlearned[e.LeaseID] > 0 {
			// The lease's use was taken by an online use the till never
			// learned of (and spent offline): the hazard of online calls
			// the central decides after the till stopped waiting.
			w.stats["entries pushed onto the series by an online use the till never learned of"]++
			continue
		}
		closed, reclaimed := w.closedAt[e.LeaseID]
		if l == nil || l.Status != lease.Closed || !reclaimed || closed.After(e.Applied) {
			w.violation("(a) %s/%s was counted on the series while its lease %s was not reclaimed", e.Till, e.Key, e.LeaseID)
		} else if !tl.madeAt[e.Key].Before(closed) {
			w.violation("(a) %s/%s was made after its lease %s was reclaimed", e.Till, e.Key, e.LeaseID)
		}
	}
}

// checkReversal checks a recorded reversal: the till acknowledged it, and
// it gave its use back once.
func (w *world) checkReversal(tl *simTill, e *lease.Entry, v *centralView) {
	w.stats["reversals recorded"]++
	if _, acked := tl.acked[e.Reverses]; e.Key == e.Reverses+"/void" && tl.doubt[e.Reverses] && !acked {
		// The till gave back a sale in doubt that the central made.
	} else if r, ok := tl.reversals[e.Key]; !ok || r.Reverses != e.Reverses {
		w.violation("(b) the central recorded the reversal %s/%s of %s, which the till did not acknowledge", e.Till, e.Key, e.Reverses)
	}
	use := v.byKey[e.Till+"/"+e.Reverses]
	if use == nil || use.Reversed.IsZero() || e.Conflicted() {
		w.violation("(b) the reversal %s/%s did not give back %s once: conflicts %v, the use %+v", e.Till, e.Key, e.Reverses, e.Conflicts, use)
	}
}

// checkJournal checks (b) from the till's side, (d), and the till's own
// count of its leases' uses.
func (w *world) checkJournal(tl *simTill, v *centralView) {
	for _, k := range sortedKeys(tl.acked) {
		a := tl.acked[k]
		e := v.byKey[tl.name+"/"+k]
		switch {
		case e == nil:
			w.violation("(b) %s acknowledged %s, which the central never recorded", tl.name, k)
		case e.SeriesID != a.SeriesID || e.Code != a.Code || e.Customer != a.Customer ||
			(!e.Online && (e.LeaseID != a.LeaseID || !e.At.Equal(a.At))):
			// A use recorded online may have been made offline too, under
			// its key, on another lease and at another time.
			w.violation("(b) %s/%s was recorded as another sale: %+v, acknowledged %+v", tl.name, k, *e, a)
		case tl.online[k] && !e.Online:
			w.violation("(b) %s/%s was acknowledged online and recorded from the journal", tl.name, k)
		}
	}
	for _, k := range sortedKeys(tl.reversals) {
		if e := v.byKey[tl.name+"/"+k]; e == nil || e.Reverses != tl.reversals[k].Reverses {
			w.violation("(b) %s acknowledged the reversal %s of %s, which the central did not record as such: %+v", tl.name, k, tl.reversals[k].Reverses, e)
		}
	}
	if p, err := tl.j.Pending(w.ctx, 0, 1); err != nil || len(p) > 0 {
		w.violation("(d) %s has entries not synced: %v, %v", tl.name, p, err)
	}
	journal := map[string]int64{}
	rows, err := tl.db.QueryContext(w.ctx, `SELECT key, COALESCE(lease_id, ''), reverses FROM till_journal`)
	if err != nil {
		w.t.Fatalf("%s: reading the journal: %v", tl.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, id, reverses string
		if err := rows.Scan(&key, &id, &reverses); err != nil {
			w.t.Fatal(err)
		}
		if reverses == "" {
			journal[id]++
		}
		_, acked := tl.acked[key]
		if !acked && tl.doubt[strings.TrimSuffix(key, "/void")] {
			continue // a sale in doubt, recorded to be given back, and its reversal
		}
		if _, ok := tl.reversals[key]; reverses != "" && !ok {
			w.violation("(b) %s's journal holds the reversal %s, which it did not acknowledge", tl.name, key)
		}
		if reverses != "" {
			continue
		}
		if !acked {
			w.violation("(b) %s's journal holds %s, a sale it did not acknowledge", tl.name, key)
		}
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	w.checkTillLeases(tl, v, journal)
}

// checkTillLeases checks that the till's count of each lease's uses is
// its journal's, and within what the central granted less what it took
// back, and that the till's view of each lease gives it no more than the
// central's: no more granted, no less returned.
func (w *world) checkTillLeases(tl *simTill, v *centralView, journal map[string]int64) {
	rows, err := tl.db.QueryContext(w.ctx, `SELECT id, used, granted, returned, reserved FROM till_lease`)
	if err != nil {
		w.t.Fatalf("%s: reading its leases: %v", tl.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var used, granted, returned, reserved int64
		if err := rows.Scan(&id, &used, &granted, &returned, &reserved); err != nil {
			w.t.Fatal(err)
		}
		if reserved != 0 {
			w.violation("%s: lease %s: %d uses still set aside for a return on a healed network", tl.name, id, reserved)
		}
		if used != journal[id] {
			w.violation("%s: lease %s: the till counts %d uses, its journal holds %d", tl.name, id, used, journal[id])
		}
		l := v.byID[id]
		if l == nil || used > l.Granted.Sub(l.Returned).Uses {
			w.violation("%s: lease %s: the till used %d, more than the central granted less returned (%+v)", tl.name, id, used, l)
			continue
		}
		if granted > l.Granted.Uses || returned < l.Returned.Uses {
			w.violation("%s: lease %s: the till holds %d granted, %d returned; the central %d and %d: it may spend what it does not have",
				tl.name, id, granted, returned, l.Granted.Uses, l.Returned.Uses)
		}
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
}
