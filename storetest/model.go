package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// model is a plain re-statement of couponkit's rules over a small world,
// written for obviousness rather than speed: maps of records, linear scans,
// and the rules spelled out in the order the engine documents them. It does
// not call the engine or the pure rule packages; it reads only the series'
// configuration. The model test compares every engine result and the whole
// stored state with it.
//
// The world: series G (generated unique codes; anyone may redeem; code
// level 3, customer level 2 with repeat, series level 5, a 30-minute
// redemption gap; at most 2 issues per customer and 5 in all, a notice at 2
// remaining; transferable; coupons valid to the end of the next day),
// series C (the common code HOLI; anyone may redeem, once per customer;
// series level 4; transferable; valid 2 days), and series U (an uploaded
// pool of four codes; holder only, once; one issue per customer, sending
// the existing coupon again; not transferable; valid 3 days), and series B
// (generated codes used on baskets under product rules and money budgets:
// see modelBasketSeries).
type model struct {
	series     map[string]*mseries // by id
	g, c, u, b *mseries
	all        []*mseries // G, C, U, B
	coupons    map[string]*coupon.Coupon
	reds       map[string]*coupon.Redemption
	counts     map[store.CounterKey]store.Count
	events     map[string][]evRec // by coupon id
	// notified is how many OnRemaining calls the engine should have made.
	notified int
	// issued is, by series id and idempotency key, the coupon a keyed issue
	// made and the customer it was made for.
	issued map[[2]string]issuedByKey
	// basketOf is, by redemption id, the basket it was made on
	// (mbasket.String; "" for a bill alone), and digests the digest the
	// engine recorded for each basket (checkDigest).
	basketOf map[string]string
	digests  map[string]string
}

// issuedByKey is the coupon an issue with an idempotency key made, and its
// first customer.
type issuedByKey struct{ couponID, customer string }

type mseries struct {
	s series.Series
}

func (s *mseries) id() string   { return s.s.ID }
func (s *mseries) shared() bool { return s.s.Source.Kind == series.Common }

// evRec is the part of an event the model predicts.
type evRec struct {
	Kind         coupon.EventKind
	Customer     string
	Counterparty string
	RedemptionID string
	NewCouponID  string
	At           time.Time
	// Returned, BudgetBack and UseBack are what a return gave back (the
	// share of the discount, of the budgets, the use).
	Returned   int64
	BudgetBack int64
	UseBack    bool
}

// projectEvent is the part of ev the model predicts.
func projectEvent(ev *coupon.Event) evRec {
	return evRec{Kind: ev.Kind, Customer: ev.Customer, Counterparty: ev.Counterparty, RedemptionID: ev.RedemptionID,
		NewCouponID: ev.NewCouponID, At: ev.At, Returned: ev.Returned, BudgetBack: ev.BudgetBack, UseBack: ev.UseBack}
}

// Model series configurations.
func modelSeries() (g, c, u series.Series) {
	g = baseSeries("model G", series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Alphanumeric}, func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 2
		s.Issuance.MaxTotal = 5
		s.Issuance.NotifyRemaining = 2
		s.Redemption = limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 3, Repeat: true, MaxPerCustomer: 2,
			MaxPerSeries: 5, MinGap: 30 * time.Minute}
		s.Transferable = true
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 1}
	})
	c = baseSeries("model C", commonSrc("HOLI"), func(s *series.Series) {
		s.Redemption = limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerSeries: 4}
		s.Transferable = true
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 2}
	})
	u = baseSeries("model U", uploadSrc(), func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 1
		s.Issuance.OnQualifyAgain = series.SendExisting
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 3}
	})
	return g, c, u
}

var modelCustomers = []string{"m1", "m2", "m3"}

func newModel(g, c, u, b series.Series, pool []coupon.Coupon) *model {
	m := &model{
		series:   map[string]*mseries{},
		coupons:  map[string]*coupon.Coupon{},
		issued:   map[[2]string]issuedByKey{},
		reds:     map[string]*coupon.Redemption{},
		counts:   map[store.CounterKey]store.Count{},
		events:   map[string][]evRec{},
		basketOf: map[string]string{},
		digests:  map[string]string{},
	}
	m.g, m.c, m.u, m.b = &mseries{g}, &mseries{c}, &mseries{u}, &mseries{b}
	m.all = []*mseries{m.g, m.c, m.u, m.b}
	for _, s := range m.all {
		m.series[s.id()] = s
	}
	for i := range pool {
		c := pool[i]
		m.coupons[c.ID] = &c
		m.events[c.ID] = []evRec{{Kind: coupon.EventCreated, At: c.CreatedAt}}
	}
	return m
}

// want is an expected outcome: success (code 0), an error with a code, or
// a *refusal.Error listing exactly the codes of refused.
type want struct {
	code errcode.Code
	// refused lists the codes of a *refusal.Error, in order.
	refused []errcode.Code
}

func ok() want                                         { return want{} }
func fail(c errcode.Code) want                         { return want{code: c} }
func refused(cs []errcode.Code) want                   { return want{code: cs[0], refused: cs} }
func denied(rs []limits.Reason) want                   { return refused(reasonsCodes(rs)) }
func (w want) success() bool                           { return w.code == 0 }
func (w want) isRefused() bool                         { return len(w.refused) > 0 }
func sortedReasons(rs []limits.Reason) []limits.Reason { slices.Sort(rs); return rs }

func reasonsCodes(rs []limits.Reason) []errcode.Code {
	out := make([]errcode.Code, len(rs))
	for i, r := range rs {
		out[i] = r.Code()
	}
	return out
}

// ---- small rules ----

// stateAt is a coupon's state at now: Available or Issued past a set
// expiry is Expired.
func stateAt(c *coupon.Coupon, now time.Time) coupon.State {
	if (c.State == coupon.Available || c.State == coupon.Issued) && !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return coupon.Expired
	}
	return c.State
}

// stateCode is the error for using a coupon in state s.
func stateCode(s coupon.State) errcode.Code {
	switch s {
	case coupon.Available:
		return errcode.NotIssued
	case coupon.Redeemed:
		return errcode.Redeemed
	case coupon.Expired:
		return errcode.Expired
	case coupon.Revoked:
		return errcode.Revoked
	}
	return errcode.InvalidTransition
}

// setState moves c to s, stamping the change time when the state changes.
func setState(c *coupon.Coupon, s coupon.State, now time.Time) {
	if c.State != s {
		c.State = s
		c.LastStatusChange = now
	}
}

// expiry is the expiry of a coupon of s issued at now: the end of the day N
// days after the issue day (the model's series are all in UTC and
// open-ended).
func (s *mseries) expiry(now time.Time) time.Time {
	y, mo, d := now.UTC().Date()
	return time.Date(y, mo, d+s.s.Expiry.N+1, 0, 0, 0, 0, time.UTC)
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// customerLimit is the most uses of one code by one customer (0: none).
func (s *mseries) customerLimit() int64 {
	r := s.s.Redemption
	if !r.Repeat {
		return 1
	}
	return int64(r.MaxPerCustomer)
}

// codeLimit is the most uses of one code (0: none): the customer level
// unless anyone may redeem.
func (s *mseries) codeLimit() int64 {
	if s.s.Redemption.AnyoneMayRedeem {
		return int64(s.s.Redemption.MaxPerCode)
	}
	return s.customerLimit()
}

// capacity is the most uses of one coupon: the code level, or for a common
// code, whose coupons are per customer, the customer level.
func (s *mseries) capacity() int64 {
	if s.shared() {
		return s.customerLimit()
	}
	return s.codeLimit()
}

// under reports whether a counter at n may take one more under limit l.
func under(n, l int64) bool { return l <= 0 || n < l }

func canonical(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// ---- state helpers ----

func (m *model) count(k store.CounterKey) store.Count { return m.counts[k] }

func (m *model) bump(k store.CounterKey, delta int64, now time.Time) {
	c := m.counts[k]
	c.N += delta
	if delta > 0 {
		c.Last = now
	}
	m.counts[k] = c
}

// codeScope is what the code-level counters of a coupon count: its code,
// or for a common code, whose coupons are per customer (a common code has
// no code level), the customer's own coupon of it: its canonical code and
// slot (store.Slot).
type codeScope struct{ code, holder string }

// codeScopeOf is the code scope of c.
func codeScopeOf(c *coupon.Coupon) codeScope { return codeScope{c.Canonical, store.Slot(c)} }

// codeCounterKey is the key of a code-level counter of the code scope sc.
func codeCounterKey(c limits.Counter, seriesID string, sc codeScope, customer string) store.CounterKey {
	return store.CounterKey{Counter: c, Series: seriesID, Code: sc.code, Holder: sc.holder, Customer: customer}
}

func useKeysOf(seriesID string, code codeScope, customer string) []store.CounterKey {
	return []store.CounterKey{
		codeCounterKey(limits.CodeUses, seriesID, code, ""),
		codeCounterKey(limits.CustomerCodeUses, seriesID, code, customer),
		key(limits.SeriesUses, seriesID, "", ""),
		key(limits.CustomerSeriesUses, seriesID, "", customer),
	}
}

func (m *model) event(c *coupon.Coupon, ev evRec) { m.events[c.ID] = append(m.events[c.ID], ev) }

// useEvent is the event of a use r of c, for c's holder.
func useEvent(kind coupon.EventKind, c *coupon.Coupon, r *coupon.Redemption, now time.Time) evRec {
	ev := evRec{Kind: kind, Customer: c.Holder, RedemptionID: r.ID, At: now}
	if r.Customer != c.Holder {
		ev.Counterparty = r.Customer
	}
	return ev
}

// sortedCoupons returns the coupons keep accepts, ordered by id.
func (m *model) sortedCoupons(keep func(*coupon.Coupon) bool) []*coupon.Coupon {
	var out []*coupon.Coupon
	for _, c := range m.coupons {
		if keep(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *coupon.Coupon) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *model) sortedReds(keep func(*coupon.Redemption) bool) []*coupon.Redemption {
	var out []*coupon.Redemption
	for _, r := range m.reds {
		if keep(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *coupon.Redemption) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *model) byCode(code string) []*coupon.Coupon {
	canon := canonical(code)
	return m.sortedCoupons(func(c *coupon.Coupon) bool { return c.Canonical == canon })
}

func (m *model) byKey(couponID, k string) *coupon.Redemption {
	for _, r := range m.reds {
		if r.CouponID == couponID && r.IdempotencyKey == k {
			return r
		}
	}
	return nil
}

// codes lists every code the model knows, for drawing.
func (m *model) codes() []string {
	seen := map[string]bool{"HOLI": true, "NOPE42": true}
	for _, c := range m.coupons {
		seen[c.Code] = true
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ---- holds ----

// release gives hold r back.
func (m *model) release(r *coupon.Redemption, now time.Time) {
	c := m.coupons[r.CouponID]
	c.Holds--
	c.Version++
	r.Status, r.ReleasedAt = coupon.StatusReleased, now
	m.event(c, useEvent(coupon.EventHoldReleased, c, r, now))
	m.giveBack(r, c, now)
}

// giveBack takes the use r, already released or reversed, off its
// counters, gives back what it took of its series' budgets that its
// returns did not give back yet, and sets the customer's last use in the
// series, which the redemption gap counts from, to their latest use that
// still counts: an unreversed redemption or a hold live at now (none: the
// zero time).
func (m *model) giveBack(r *coupon.Redemption, c *coupon.Coupon, now time.Time) {
	m.giveBackUse(r, c, now, r.Budget-r.ReturnedBudget())
}

// giveBackUse is giveBack, but budget, not what is left of what r took,
// given back to the budgets.
func (m *model) giveBackUse(r *coupon.Redemption, c *coupon.Coupon, now time.Time, budget int64) {
	for _, k := range useKeysOf(r.SeriesID, codeScopeOf(c), r.Customer) {
		m.bump(k, -1, now)
	}
	m.bumpBudgets(r, -budget, now)
	var last time.Time
	for _, o := range m.reds {
		if o.SeriesID == r.SeriesID && o.Customer == r.Customer && (o.Status == coupon.StatusRedeemed || o.HoldActive(now)) && o.At.After(last) {
			last = o.At
		}
	}
	k := key(limits.CustomerSeriesUses, r.SeriesID, "", r.Customer)
	n := m.counts[k]
	n.Last = last
	m.counts[k] = n
}

// releaseLapsed releases, in id order, the holds keep accepts whose time to
// live has passed, and returns how many.
func (m *model) releaseLapsed(now time.Time, keep func(*coupon.Redemption) bool) int {
	hs := m.sortedReds(func(r *coupon.Redemption) bool {
		return r.Status == coupon.StatusHeld && !r.HoldExpiresAt.After(now) && keep(r)
	})
	for _, r := range hs {
		m.release(r, now)
	}
	return len(hs)
}
