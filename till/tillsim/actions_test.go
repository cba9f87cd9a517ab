package tillsim

import (
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/till"
)

// action is one step a schedule may take. New operations of the protocol
// join as new actions.
type action struct {
	name string
	// weight is how often the action is drawn, relative to the others.
	weight int
	do     func(w *world)
}

// actions are the steps of a schedule, drawn by weight; a run logs each
// by name, so a shrunk schedule reads as a list of these.
var actions = []action{
	// First, so that a shrunk schedule turns the steps it does not need
	// into it.
	{"nothing", 1, func(*world) {}},
	{"redeem at a till", 6, func(w *world) { w.tillRedeem(w.saleTill()) }},
	{"repeat a sale", 1, func(w *world) { w.repeatSale(w.pickTill()) }},
	{"sync a till", 3, func(w *world) { w.sync(w.pickTill(), rapidInt(w, "batch", 1, 4)) }},
	{"grant a lease", 3, func(w *world) { w.grant(w.pickTill()) }},
	{"renew a lease", 1, func(w *world) { w.onLease(w.pickTill(), lease.Renew) }},
	{"top up a lease", 1, func(w *world) { w.onLease(w.pickTill(), lease.TopUp) }},
	{"return uses", 2, func(w *world) { w.onLease(w.pickTill(), lease.Return) }},
	{"reverse a sale", 2, func(w *world) { w.reverse(w.pickTill()) }},
	{"time passes", 2, func(w *world) { w.now = w.now.Add(drawDuration(w, "by", 0, 10*time.Minute)) }},
	{"central reclaims", 1, func(w *world) { w.reclaim() }},
	{"redeem at the central", 1, func(w *world) { w.centralRedeem() }},
	{"revoke a code", 1, func(w *world) { w.revoke() }},
	{"edit a series", 1, func(w *world) { w.editSeries() }},
	{"till fetches a series", 1, func(w *world) { w.fetchSeries(w.pickTill()) }},
	{"partition a till", 1, func(w *world) {
		tl := w.pickTill()
		tl.cutUntil = w.now.Add(drawDuration(w, "for", time.Minute, time.Hour))
	}},
	{"deliver a held message", 2, func(w *world) {
		if n := len(w.net.inflight); n > 0 {
			w.deliverHeld(rapidInt(w, "held message", 0, n-1))
		}
	}},
	{"till crashes", 1, func(w *world) { w.crash(w.pickTill()) }},
	{"a till's clock drifts", 1, func(w *world) {
		tl := w.pickTill()
		tl.offset = drawDuration(w, "to", -(skew - time.Second), skew-time.Second)
	}},
}

// drawn lists each action's index as many times as its weight.
var drawn = func() []int {
	var out []int
	for i, a := range actions {
		for range a.weight {
			out = append(out, i)
		}
	}
	return out
}()

// step draws one action and takes it.
func (w *world) step() {
	a := actions[drawn[rapidInt(w, "action", 0, len(drawn)-1)]]
	w.stats["action: "+a.name]++
	if a.name != "nothing" {
		w.logf("%s", a.name)
	}
	a.do(w)
}

// logf logs a step of the run, at its time.
func (w *world) logf(format string, args ...any) {
	w.t.Logf("%8s  "+format, append([]any{w.now.Sub(t0)}, args...)...)
}

func rapidInt(w *world, label string, lo, hi int) int {
	return rapid.IntRange(lo, hi).Draw(w.t, label)
}

// kind names a series by its kind.
func (w *world) kind(id string) string {
	for _, s := range w.series {
		if s.id == id {
			return s.kind
		}
	}
	return id
}

func (w *world) pickTill() *simTill { return w.tills[rapidInt(w, "till", 0, len(w.tills)-1)] }

// saleTill draws the till of a sale: mostly one that holds a lease.
func (w *world) saleTill() *simTill {
	var with []*simTill
	for _, tl := range w.tills {
		if len(tl.known) > 0 {
			with = append(with, tl)
		}
	}
	if len(with) == 0 || rapidInt(w, "a till with a lease", 0, 3) == 0 {
		return w.pickTill()
	}
	return with[rapidInt(w, "till", 0, len(with)-1)]
}

func (w *world) pickSeries() *simSeries { return w.series[rapidInt(w, "series", 0, len(w.series)-1)] }

// saleSeries draws the series of a sale at tl: mostly one it holds a
// lease of.
func (w *world) saleSeries(tl *simTill) *simSeries {
	ids := sortedKeys(tl.known)
	if len(ids) == 0 || rapidInt(w, "a series it leased", 0, 3) == 0 {
		return w.pickSeries()
	}
	id := tl.known[rapid.SampledFrom(ids).Draw(w.t, "leased")].SeriesID
	for _, s := range w.series {
		if s.id == id {
			return s
		}
	}
	return w.pickSeries()
}

// pickUse draws a code of s and who uses it: a personal code mostly by
// its owner.
func (w *world) pickUse(s *simSeries) (code, customer string) {
	code = rapid.SampledFrom(s.codes).Draw(w.t, "code")
	if owner, ok := s.owner[code]; ok && rapid.IntRange(0, 3).Draw(w.t, "stranger") > 0 {
		return code, owner
	}
	return code, rapid.SampledFrom(customers).Draw(w.t, "customer")
}

// tillRedeem is a sale at a till offline: a new one, or the sale that
// crashed before its commit, tried again with its key. The till may
// crash during the sale, before the commit.
func (w *world) tillRedeem(tl *simTill) {
	u := tl.sale
	if u == nil {
		s := w.saleSeries(tl)
		code, cust := w.pickUse(s)
		bill := rapid.SampledFrom([]string{"50.00", "50.00", "5.00"}).Draw(w.t, "bill")
		u = &till.Use{Key: w.key(tl.name + "-sale"), SeriesID: s.id, Code: code, Customer: cust, Bill: bill, Currency: "EUR"}
	}
	u.At = w.clock(tl)
	if tl.lib != nil {
		// A sale the till settled as in doubt meanwhile is in the journal:
		// the cashier tries it again as it was, unless it was given back.
		if e, found, err := tl.j.Entry(w.ctx, u.Key); err != nil || (found && e.Reversed) {
			tl.sale = nil
			return
		} else if found {
			u.At = e.At
		}
		w.libRedeem(tl, u)
		return
	}
	var hook func(*sql.Tx) error
	crash := rapidInt(w, "crash during the sale", 0, 11) == 0
	if crash {
		hook = func(*sql.Tx) error { return errCrash }
	}
	e, err := tl.j.Redeem(w.ctx, *u, hook)
	w.logf("  %s sells %s %s to %s for %s (key %s, crash %v): lease %s, %v", tl.name, w.kind(u.SeriesID), u.Code, u.Customer, u.Bill, u.Key, crash, e.LeaseID, err)
	tl.sale = nil
	switch {
	case errors.Is(err, errCrash):
		w.stats["crashes during a sale"]++
		tl.sale = u
		w.crash(tl)
	case err == nil:
		w.stats["sales acknowledged"]++
		w.ack(tl, e)
	case !refused(err):
		w.violation("%s: Redeem(%s): %v", tl.name, u.Key, err)
	default:
		w.stats["sales refused: "+errcode.CodeOf(err).String()]++
	}
}

// refused reports whether err is the till refusing a use by the rules:
// a refusal, no lease with a use left, or an unverified code past the
// leases' allowance.
func refused(err error) bool {
	var re *refusal.Error
	return errors.As(err, &re) || errors.Is(err, errcode.ErrNoLease) || errors.Is(err, errcode.ErrAllowanceExceeded)
}

// repeatSale is a cashier sending an acknowledged sale again: the journal
// answers it with its first entry and records nothing more.
func (w *world) repeatSale(tl *simTill) {
	keys := sortedKeys(tl.acked)
	if len(keys) == 0 {
		return
	}
	first := tl.acked[rapid.SampledFrom(keys).Draw(w.t, "sale")]
	e, err := tl.j.Redeem(w.ctx, first.Use, nil)
	if tl.lib != nil {
		var r till.Result
		r, err = tl.lib.Redeem(w.ctx, first.Use, nil)
		e = r.Entry
		if err == nil && !r.Replayed {
			w.violation("%s: a repeated sale %s was not answered as a replay", tl.name, first.Key)
		}
	}
	// (The entry's lease may have moved since: to where the central
	// counted the use online, when its answer was lost.)
	if err != nil || e.Seq != first.Seq || (e.LeaseID != first.LeaseID && !e.Synced) {
		w.violation("%s: a repeated sale %s: %+v, %v; want its first entry %+v", tl.name, first.Key, e, err, first)
	}
}

// sync is a till syncing its journal in batches of batch entries (a till
// of the library: Till.Sync).
func (w *world) sync(tl *simTill, batch int) {
	if tl.lib != nil {
		w.libSync(tl)
		return
	}
	_, err := tl.j.Sync(w.ctx, tl.name, uploader{w, tl}, batch)
	if err != nil && !errors.Is(err, errLost) && !errors.Is(err, errCrash) {
		w.violation("%s: Sync: %v", tl.name, err)
	}
	if tl.crashAfterUpload {
		w.stats["crashes before MarkSynced"]++
		tl.crashAfterUpload = false
		w.crash(tl)
	}
}

// grant is a till asking for a new lease (or finishing its outstanding
// call first).
func (w *world) grant(tl *simTill) {
	if tl.lib != nil {
		w.libSync(tl)
		return
	}
	if tl.pending != nil {
		w.call(tl, tl.pending)
		return
	}
	s := w.pickSeries()
	req := couponkit.LeaseRequest{Till: tl.name, SeriesID: s.id, Key: w.key(tl.name + "-lease"),
		Uses: int64(rapidInt(w, "uses", 1, 6)), End: w.clock(tl).Add(drawDuration(w, "lasting", 10*time.Minute, 90*time.Minute))}
	w.call(tl, &leaseCall{kind: lease.Grant, grant: req})
}

// onLease is a till's call on one of its leases (or its outstanding call
// first). A return reserves its uses in the journal before it is sent.
func (w *world) onLease(tl *simTill, kind lease.Kind) {
	if tl.lib != nil {
		w.libSync(tl)
		return
	}
	if tl.pending != nil {
		w.call(tl, tl.pending)
		return
	}
	ids := sortedKeys(tl.known)
	if len(ids) == 0 {
		return
	}
	l := tl.known[rapid.SampledFrom(ids).Draw(w.t, "lease")]
	c := &leaseCall{kind: kind, call: couponkit.LeaseCall{Till: tl.name, LeaseID: l.ID, Key: w.key(tl.name + "-lease")}}
	switch kind {
	case lease.Renew:
		c.call.End = l.End.Add(drawDuration(w, "later by", 5*time.Minute, time.Hour))
	case lease.TopUp:
		c.call.Uses = int64(rapidInt(w, "uses", 1, 3))
	case lease.Return:
		left, err := tl.j.Left(w.ctx, l.ID)
		if err != nil || left <= 0 {
			return
		}
		c.call.Uses = int64(rapidInt(w, "uses", 1, int(left)))
		if w.broken != spendsReturnsInDoubt {
			if err := tl.j.ReserveReturn(w.ctx, l.ID, c.call.Uses, c.call.Key); err != nil {
				w.violation("%s: ReserveReturn(%s): %v", tl.name, l.ID, err)
				return
			}
		}
	}
	w.call(tl, c)
}

func (w *world) reclaim() {
	closed, err := w.eng.ReclaimLapsed(w.ctx, couponkit.ReclaimRequest{Skew: skew})
	if err != nil {
		w.violation("ReclaimLapsed: %v", err)
	}
	for _, l := range closed {
		w.closedAt[l.ID] = l.Updated
	}
}

func (w *world) centralRedeem() {
	s := w.pickSeries()
	code, cust := w.pickUse(s)
	_, err := w.eng.Redeem(w.ctx, couponkit.RedeemRequest{Code: code, SeriesID: s.id, Customer: couponkit.ByID(cust),
		IdempotencyKey: w.key("central"), Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}})
	switch {
	case err == nil:
		w.stats["central redemptions"]++
		w.central[s.id]++
	case !expected(err):
		w.violation("Redeem(%s) at the central: %v", code, err)
	default:
		w.stats["central redemptions refused: "+s.kind+" "+errcode.CodeOf(err).String()]++
	}
}

func (w *world) revoke() {
	s := w.series[2]
	code := rapid.SampledFrom(s.codes).Draw(w.t, "code")
	_, err := w.eng.Revoke(w.ctx, couponkit.RevokeRequest{SeriesID: s.id, Codes: []string{code}, Actor: "op", Reason: "simulated"})
	if !expected(err) {
		w.violation("Revoke(%s): %v", code, err)
	}
}

// editSeries changes a series' levels, its minimum bill, or raises its
// limit (a limit lowered under what is counted would be passed by the
// edit itself, not by a use).
func (w *world) editSeries() {
	s := w.pickSeries()
	cur, err := w.eng.Series(w.ctx, s.id)
	if err != nil {
		w.violation("Series(%s): %v", s.id, err)
		return
	}
	r := &cur.Redemption
	switch rapidInt(w, "edit", 0, 2) {
	case 0:
		r.MaxPerCustomer = r.MaxPerCustomer%3 + 1
		if r.AnyoneMayRedeem && r.MaxPerCode != 0 {
			r.MaxPerCode++
		}
	case 1:
		r.MinBill.Valid = !r.MinBill.Valid
		r.MinBill.Decimal = decimal.NewFromInt(10)
	case 2:
		r.MaxPerSeries += 1
	}
	if _, err := w.eng.UpdateSeries(w.ctx, cur); !expected(err) {
		w.violation("UpdateSeries(%s): %v", s.id, err)
	}
}

// fetchSeries is a till syncing a series' configuration over the link.
func (w *world) fetchSeries(tl *simTill) {
	s := w.pickSeries()
	put := func(v any, err error) {
		if err != nil {
			return
		}
		if err := tl.j.PutSeries(w.ctx, v.(series.Series)); err != nil {
			w.violation("%s: PutSeries: %v", tl.name, err)
		}
	}
	m := &message{till: tl, what: "series", do: func() (any, error) { return w.eng.Series(w.ctx, s.id) }, late: put}
	put(w.send(m))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
