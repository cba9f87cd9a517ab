package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

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
// the existing coupon again; not transferable; valid 3 days).
type model struct {
	series  map[string]*mseries // by id
	g, c, u *mseries
	coupons map[string]*coupon.Coupon
	reds    map[string]*coupon.Redemption
	counts  map[store.CounterKey]store.Count
	events  map[string][]evRec // by coupon id
	// notified is how many OnRemaining calls the engine should have made.
	notified int
	// issued is, by series id and idempotency key, the coupon a keyed issue
	// made and the customer it was made for.
	issued map[[2]string]issuedByKey
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

func newModel(g, c, u series.Series, pool []coupon.Coupon) *model {
	m := &model{
		series:  map[string]*mseries{},
		coupons: map[string]*coupon.Coupon{},
		issued:  map[[2]string]issuedByKey{},
		reds:    map[string]*coupon.Redemption{},
		counts:  map[store.CounterKey]store.Count{},
		events:  map[string][]evRec{},
	}
	m.g, m.c, m.u = &mseries{g}, &mseries{c}, &mseries{u}
	for _, s := range []*mseries{m.g, m.c, m.u} {
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
// counters, and sets the customer's last use in the series, which the
// redemption gap counts from, to their latest use that still counts: an
// unreversed redemption or a hold live at now (none: the zero time).
func (m *model) giveBack(r *coupon.Redemption, c *coupon.Coupon, now time.Time) {
	for _, k := range useKeysOf(r.SeriesID, codeScopeOf(c), r.Customer) {
		m.bump(k, -1, now)
	}
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

// ---- issue ----

func (m *model) issueReasons(s *mseries, cust string, now time.Time) []limits.Reason {
	is := s.s.Issuance
	var rs []limits.Reason
	issued := m.count(key(limits.SeriesIssued, s.id(), "", "")).N
	mine := m.count(key(limits.CustomerIssued, s.id(), "", cust))
	if s.shared() {
		if mine.N >= 1 {
			rs = append(rs, limits.CommonCodeIssued)
		}
	} else if !under(mine.N, int64(is.MaxPerCustomer)) {
		rs = append(rs, limits.CustomerIssueLimit)
	}
	if is.MinGap > 0 && mine.N > 0 && now.Sub(mine.Last) < is.MinGap {
		rs = append(rs, limits.IssueGap)
	}
	if !under(issued, int64(is.MaxTotal)) {
		rs = append(rs, limits.SeriesIssueLimit)
	}
	return sortedReasons(rs)
}

// firstUsable is the customer's first (by id) coupon of s usable now.
func (m *model) firstUsable(s *mseries, cust string, now time.Time) *coupon.Coupon {
	for _, c := range m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() && c.Holder == cust }) {
		if c.State == coupon.Issued && stateAt(c, now) == coupon.Issued {
			return c
		}
	}
	return nil
}

// poolCandidates are the coupons of s an issue may draw: Available and not
// past their own expiry.
func (m *model) poolCandidates(s *mseries, now time.Time) []*coupon.Coupon {
	return m.sortedCoupons(func(c *coupon.Coupon) bool {
		return c.SeriesID == s.id() && c.State == coupon.Available && stateAt(c, now) == coupon.Available
	})
}

// issueOutcome is what an issue should do. For success, fresh says where
// the coupon comes from: "mint" (a new code), "pool" (any of pool), or
// "common" (the common code).
type issueOutcome struct {
	want   want
	resent *coupon.Coupon
	fresh  string
	pool   []*coupon.Coupon
}

func (m *model) planIssue(s *mseries, cust string, now time.Time) issueOutcome {
	rs := m.issueReasons(s, cust, now)
	if s.shared() && len(rs) == 0 && len(m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() && c.Holder == cust })) > 0 {
		// The customer holds the common code without having been issued
		// it (it was transferred to them): it is still a second issue.
		rs = []limits.Reason{limits.CommonCodeIssued}
	}
	if len(rs) > 0 {
		if s.s.Issuance.OnQualifyAgain == series.SendExisting &&
			(slices.Contains(rs, limits.CustomerIssueLimit) || slices.Contains(rs, limits.CommonCodeIssued)) {
			if c := m.firstUsable(s, cust, now); c != nil {
				return issueOutcome{want: ok(), resent: c}
			}
		}
		return issueOutcome{want: denied(rs)}
	}
	switch s.s.Source.Kind {
	case series.Common:
		return issueOutcome{want: ok(), fresh: "common"}
	case series.Generated:
		return issueOutcome{want: ok(), fresh: "mint"}
	}
	pool := m.poolCandidates(s, now)
	if len(pool) == 0 {
		return issueOutcome{want: fail(errcode.PoolEmpty)}
	}
	return issueOutcome{want: ok(), fresh: "pool", pool: pool}
}

// applyIssue records the issue of got (the engine's coupon, already checked
// to be an allowed choice) to cust.
func (m *model) applyIssue(s *mseries, cust string, got coupon.Coupon, fresh string, now time.Time) *coupon.Coupon {
	var c *coupon.Coupon
	switch fresh {
	case "pool":
		c = m.coupons[got.ID]
	default:
		code, canon := got.Code, got.Canonical
		if fresh == "common" {
			code, canon = s.s.Source.Code, canonical(s.s.Source.Code)
		}
		c = &coupon.Coupon{ID: got.ID, SeriesID: s.id(), Code: code, Canonical: canon, Shared: s.shared(),
			State: coupon.Available, CreatedAt: now, LastStatusChange: now, Version: 1}
		m.coupons[c.ID] = c
	}
	c.Holder, c.IssuedAt = cust, now
	c.ExpiresAt = earliest(c.ExpiresAt, s.expiry(now))
	setState(c, coupon.Issued, now)
	c.Version++
	m.event(c, evRec{Kind: coupon.EventIssued, Customer: cust, At: now})
	m.bump(key(limits.SeriesIssued, s.id(), "", ""), 1, now)
	m.bump(key(limits.CustomerIssued, s.id(), "", cust), 1, now)
	if n, max := s.s.Issuance.NotifyRemaining, int64(s.s.Issuance.MaxTotal); n > 0 && max > 0 &&
		max-m.count(key(limits.SeriesIssued, s.id(), "", "")).N == n {
		m.notified++
	}
	return c
}

// ---- redeem, hold, validate ----

// usePlan is what a redemption or hold decides.
type usePlan struct {
	want   want
	s      *mseries
	c      *coupon.Coupon // the coupon used; a new one when insert
	insert bool
	replay *coupon.Redemption
	// state is the coupon's own refusal (0: none), LimitReached when holds
	// take its last uses.
	state errcode.Code
	rs    []limits.Reason
}

// refusals is the list of refusal codes a plan's refusal gives, as the
// refusal model orders and de-duplicates them: the coupon's own state
// alone when it settles the matter; uses held first, then the broken rules
// by code, less the code and customer levels and "once per customer" that
// the held uses already say.
func (p *usePlan) refusals() []errcode.Code {
	switch p.state {
	case 0, errcode.LimitReached:
	default:
		return []errcode.Code{p.state}
	}
	if slices.Contains(p.rs, limits.NeverIssued) {
		return []errcode.Code{errcode.NotIssued}
	}
	var out []errcode.Code
	held := p.state == errcode.LimitReached
	if held {
		out = append(out, errcode.HeldElsewhere)
	}
	for _, r := range p.rs {
		switch r {
		case limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed:
			if held {
				continue
			}
		}
		out = append(out, r.Code())
	}
	return out
}

func (m *model) redeemReasons(s *mseries, c *coupon.Coupon, cust string, now time.Time) []limits.Reason {
	r := s.s.Redemption
	var rs []limits.Reason
	if c.IssuedAt.IsZero() {
		rs = append(rs, limits.NeverIssued)
	}
	keys := useKeysOf(s.id(), codeScopeOf(c), cust)
	if !under(m.count(keys[0]).N, s.codeLimit()) {
		rs = append(rs, limits.CodeLimit)
	}
	mine := m.count(keys[1]).N
	if !r.Repeat && mine > 0 {
		rs = append(rs, limits.RepeatNotAllowed)
	} else if !under(mine, s.customerLimit()) {
		rs = append(rs, limits.CustomerLimit)
	}
	if !under(m.count(keys[2]).N, int64(r.MaxPerSeries)) {
		rs = append(rs, limits.SeriesLimit)
	}
	if last := m.count(keys[3]).Last; r.MinGap > 0 && !last.IsZero() && now.Sub(last) < r.MinGap {
		rs = append(rs, limits.RedemptionGap)
	}
	return sortedReasons(rs)
}

// couponState is the coupon's own verdict on one more use: 0, a state
// error, Redeemed when every use is redeemed, LimitReached when the rest
// are held.
func couponState(c *coupon.Coupon, capacity int64, now time.Time) errcode.Code {
	if s := stateAt(c, now); s != coupon.Issued {
		return stateCode(s)
	}
	switch {
	case capacity <= 0:
	case int64(c.Redemptions) >= capacity:
		return errcode.Redeemed
	case int64(c.Redemptions+c.Holds) >= capacity:
		return errcode.LimitReached
	}
	return 0
}

// plan evaluates one use of code by cust now, as a snapshot: no lapsed hold
// is released. It is Validate's view and the first step of a use.
func (m *model) plan(code, cust string, now time.Time) usePlan {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return usePlan{want: fail(errcode.CouponNotFound)}
	}
	s := m.series[cs[0].SeriesID]
	p := usePlan{s: s, c: cs[0]}
	if s.shared() {
		var own *coupon.Coupon
		issued := false
		for _, c := range cs {
			if c.Holder == cust && own == nil {
				own = c
			}
			issued = issued || !c.IssuedAt.IsZero()
		}
		switch {
		case own != nil:
			p.c = own
		case issued && s.s.Redemption.AnyoneMayRedeem:
			p.insert = true
			p.c = &coupon.Coupon{SeriesID: s.id(), Code: cs[0].Code, Canonical: cs[0].Canonical, Shared: true,
				State: coupon.Issued, Holder: cust, CreatedAt: now, IssuedAt: now, ExpiresAt: s.expiry(now),
				LastStatusChange: now, Version: 2}
		}
	}
	if !s.s.Redemption.AnyoneMayRedeem && p.c.Holder != cust {
		// Not the redeemer's: answered as an unknown code.
		return usePlan{want: fail(errcode.CouponNotFound)}
	}
	p.state = couponState(p.c, s.capacity(), now)
	p.rs = m.redeemReasons(s, p.c, cust, now)
	if rs := p.refusals(); len(rs) > 0 {
		p.want = refused(rs)
	}
	return p
}

// use runs a redemption (ttl 0) or hold through the model's rules,
// releasing lapsed holds in the way as the engine does, and returns the
// plan it ends with. It does not apply a success: see applyUse.
func (m *model) use(code, cust, k string, hold bool, now time.Time) usePlan {
	for {
		p := m.plan(code, cust, now)
		if p.s == nil {
			return p // not found
		}
		if !p.insert {
			if r := m.byKey(p.c.ID, k); r != nil {
				p.want, p.replay = sameUse(r, cust, hold, now), r
				if !p.want.success() {
					p.replay = nil
				}
				return p
			}
		}
		if p.want.success() {
			return p
		}
		if p.state != 0 && p.state != errcode.LimitReached {
			return p
		}
		if m.releaseLapsed(now, func(r *coupon.Redemption) bool { return r.SeriesID == p.s.id() }) > 0 {
			continue
		}
		return p
	}
}

// sameUse is the answer to a request that repeats the key of use r: a
// replay, or the error that says the key was used for another request or
// names a hold that is no longer live. The model's requests all have the
// same bill and place.
func sameUse(r *coupon.Redemption, cust string, hold bool, now time.Time) want {
	wasHold := !r.HoldExpiresAt.IsZero()
	switch {
	case wasHold != hold, r.Customer != cust:
		return fail(errcode.KeyMismatch)
	case !wasHold:
		return ok()
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return fail(errcode.HoldReleased)
	case r.Status == coupon.StatusReleased, r.Status == coupon.StatusHeld && !now.Before(r.HoldExpiresAt):
		return fail(errcode.HoldExpired)
	}
	return ok()
}

// applyUse records a successful use of plan p by cust with key k: a
// redemption (ttl 0) or a hold, with the engine's ids for the redemption
// and, when p.insert, the redeemer's new coupon.
func (m *model) applyUse(p usePlan, cust, k string, ttl time.Duration, redID, newCouponID string, now time.Time) *coupon.Redemption {
	c := p.c
	if p.insert {
		c.ID = newCouponID
		m.coupons[c.ID] = c
		m.event(c, evRec{Kind: coupon.EventIssued, Customer: cust, At: now})
		m.bump(key(limits.SeriesIssued, p.s.id(), "", ""), 1, now)
		m.bump(key(limits.CustomerIssued, p.s.id(), "", cust), 1, now)
	}
	r := &coupon.Redemption{ID: redID, CouponID: c.ID, SeriesID: p.s.id(), Customer: cust, IdempotencyKey: k, At: now,
		Bill: decimal.NewFromInt(100), Discount: decimal.NewFromInt(10), Currency: "EUR"}
	kind := coupon.EventRedeemed
	if ttl == 0 {
		r.Status, r.ConfirmedAt = coupon.StatusRedeemed, now
		c.Redemptions++
		if capa := p.s.capacity(); capa > 0 && int64(c.Redemptions) >= capa {
			setState(c, coupon.Redeemed, now)
		}
	} else {
		r.Status, r.HoldExpiresAt = coupon.StatusHeld, now.Add(ttl)
		c.Holds++
		kind = coupon.EventHeld
	}
	c.Version++
	m.reds[r.ID] = r
	m.event(c, useEvent(kind, c, r, now))
	for _, key := range useKeysOf(p.s.id(), codeScopeOf(c), cust) {
		m.bump(key, 1, now)
	}
	return r
}

// ---- confirm, release, reverse ----

// confirm runs Confirm of hold id; on success it returns the redemption.
func (m *model) confirm(id string, now time.Time) (want, *coupon.Redemption, bool) {
	r := m.reds[id]
	if r == nil {
		return fail(errcode.RedemptionNotFound), nil, false
	}
	c := m.coupons[r.CouponID]
	s := m.series[c.SeriesID]
	switch {
	case r.HoldExpiresAt.IsZero():
		return fail(errcode.RedemptionNotFound), nil, false
	case r.Status == coupon.StatusRedeemed || r.Status == coupon.StatusReversed:
		return ok(), r, true
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return fail(errcode.HoldReleased), nil, false
	case r.Status == coupon.StatusReleased:
		return fail(errcode.HoldExpired), nil, false
	case !now.Before(r.HoldExpiresAt):
		m.release(r, now)
		return fail(errcode.HoldExpired), nil, false
	}
	if st := stateAt(c, now); st != coupon.Issued {
		return fail(stateCode(st)), nil, false
	}
	capa := s.capacity()
	if capa > 0 && int64(c.Redemptions) >= capa {
		return fail(errcode.Redeemed), nil, false
	}
	c.Holds--
	c.Redemptions++
	if capa > 0 && int64(c.Redemptions) >= capa {
		setState(c, coupon.Redeemed, now)
	}
	c.Version++
	r.Status, r.ConfirmedAt = coupon.StatusRedeemed, now
	m.event(c, useEvent(coupon.EventHoldConfirmed, c, r, now))
	return ok(), r, false
}

func (m *model) releaseHold(id string, now time.Time) want {
	r := m.reds[id]
	switch {
	case r == nil || r.HoldExpiresAt.IsZero():
		return fail(errcode.RedemptionNotFound)
	case r.Status == coupon.StatusReleased:
		return ok() // released before: nothing to do
	case r.Status != coupon.StatusHeld:
		return fail(errcode.InvalidTransition)
	}
	m.release(r, now)
	return ok()
}

// reverse runs Reverse of redemption id, or, when code is set, of the
// redemption of code with idempotency key k.
func (m *model) reverse(id, code, k string, now time.Time) (want, *coupon.Redemption) {
	if code != "" {
		id = ""
		for _, c := range m.byCode(code) {
			if r := m.byKey(c.ID, k); r != nil {
				id = r.ID
				break
			}
		}
	}
	r := m.reds[id]
	if r == nil {
		return fail(errcode.RedemptionNotFound), nil
	}
	c := m.coupons[r.CouponID]
	switch {
	case r.Status == coupon.StatusReversed:
		return fail(errcode.AlreadyReversed), nil
	case r.Status != coupon.StatusRedeemed || c.Redemptions < 1:
		return fail(errcode.RedemptionNotFound), nil
	case c.State == coupon.Revoked:
		return fail(errcode.Revoked), nil
	case c.ReissuedTo != "":
		return fail(errcode.AlreadyReissued), nil
	}
	c.Redemptions--
	c.Reversed = true
	c.LastStatusChange = now
	if c.State == coupon.Redeemed {
		c.State = coupon.Issued
	}
	c.Version++
	r.Status, r.ReversedAt = coupon.StatusReversed, now
	m.event(c, useEvent(coupon.EventReversed, c, r, now))
	m.giveBack(r, c, now)
	return ok(), r
}

// ---- revoke ----

type revokeWant struct {
	want    want
	total   int
	revoked []revokedRec
	failed  map[errcode.Code][]string
}

type revokedRec struct{ CouponID, Code, Holder string }

func (m *model) revoke(c *coupon.Coupon, now time.Time) {
	setState(c, coupon.Revoked, now)
	c.Version++
	m.event(c, evRec{Kind: coupon.EventRevoked, Customer: c.Holder, At: now})
}

// revokeCode runs Revoke of one code typed as typed, without series.
func (m *model) revokeCode(typed string, now time.Time) revokeWant {
	cs := m.byCode(typed)
	if len(cs) > 0 && m.series[cs[0].SeriesID].shared() {
		return revokeWant{want: fail(errcode.GenericNotSupported)}
	}
	out := revokeWant{want: ok(), total: 1, failed: map[errcode.Code][]string{}}
	shown := strings.ToUpper(typed)
	if len(cs) == 0 {
		out.failed[errcode.CouponNotFound] = []string{shown}
		return out
	}
	c := cs[0]
	if c.Holds > 0 {
		m.releaseLapsed(now, func(r *coupon.Redemption) bool { return r.CouponID == c.ID })
	}
	switch {
	case c.State == coupon.Revoked:
		out.failed[errcode.CouponNotFound] = []string{shown}
	case c.Redemptions > 0 || c.State == coupon.Redeemed || c.Holds > 0:
		out.failed[errcode.Redeemed] = []string{shown}
	default:
		m.revoke(c, now)
		out.revoked = []revokedRec{{c.ID, strings.ToUpper(c.Code), c.Holder}}
	}
	return out
}

// revokeCustomer runs Revoke of a customer's unredeemed coupons of s.
func (m *model) revokeCustomer(s *mseries, cust string, now time.Time) revokeWant {
	cs := m.sortedCoupons(func(c *coupon.Coupon) bool {
		return c.SeriesID == s.id() && c.Holder == cust && c.Redemptions == 0 && c.Holds == 0 &&
			(c.State == coupon.Available || c.State == coupon.Issued || c.State == coupon.Expired)
	})
	out := revokeWant{want: ok(), total: len(cs), failed: map[errcode.Code][]string{}}
	for _, c := range cs {
		m.revoke(c, now)
		out.revoked = append(out.revoked, revokedRec{c.ID, strings.ToUpper(c.Code), cust})
	}
	return out
}

// ---- transfer, reissue, expiry ----

// transfer runs Transfer of code from one customer to another.
func (m *model) transfer(code, from, to string, now time.Time) (want, *coupon.Coupon) {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return fail(errcode.CouponNotFound), nil
	}
	s := m.series[cs[0].SeriesID]
	c := cs[0]
	if s.shared() {
		c = nil
		for _, x := range cs {
			if x.Holder == from {
				c = x
				break
			}
		}
		if c == nil {
			return fail(errcode.CouponNotFound), nil
		}
	} else if c.Holder != from {
		return fail(errcode.CouponNotFound), nil
	}
	if st := stateAt(c, now); st != coupon.Issued {
		return fail(stateCode(st)), nil
	}
	switch {
	case !s.s.Transferable:
		return fail(errcode.TransferNotAllowed), nil
	case c.Holds > 0:
		return fail(errcode.InvalidTransition), nil
	case to == c.Holder:
		return fail(errcode.InvalidArgument), nil
	}
	if s.shared() {
		for _, x := range cs {
			if x.Holder == to {
				return fail(errcode.CommonCodeIssued), nil
			}
		}
	}
	m.event(c, evRec{Kind: coupon.EventTransferredOut, Customer: c.Holder, Counterparty: to, At: now})
	old := c.Holder
	c.Holder = to
	c.Version++
	m.event(c, evRec{Kind: coupon.EventTransferReceived, Customer: to, Counterparty: old, At: now})
	return ok(), c
}

// reissueOutcome is what a reissue should do: on success, fresh is "mint"
// or "pool" (any of pool).
type reissueOutcome struct {
	want  want
	old   *coupon.Coupon
	s     *mseries
	fresh string
	pool  []*coupon.Coupon
}

func (m *model) planReissue(code string, now time.Time) reissueOutcome {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return reissueOutcome{want: fail(errcode.CouponNotFound)}
	}
	s := m.series[cs[0].SeriesID]
	old := cs[0]
	if s.shared() {
		return reissueOutcome{want: fail(errcode.PoolEmpty)}
	}
	switch st := stateAt(old, now); {
	case st == coupon.Issued:
		return reissueOutcome{want: fail(errcode.StillUsable)}
	case st == coupon.Available:
		return reissueOutcome{want: fail(errcode.NotIssued)}
	case old.ReissuedTo != "" || old.ReissuedFrom != "":
		return reissueOutcome{want: fail(errcode.AlreadyReissued)}
	case old.Holder == "":
		return reissueOutcome{want: fail(errcode.NotIssued)}
	}
	if s.s.Source.Kind == series.Generated {
		if pool := m.poolCandidates(s, now); len(pool) > 0 {
			return reissueOutcome{want: ok(), old: old, s: s, fresh: "pool", pool: pool}
		}
		return reissueOutcome{want: ok(), old: old, s: s, fresh: "mint"}
	}
	pool := m.poolCandidates(s, now)
	if len(pool) == 0 {
		return reissueOutcome{want: fail(errcode.PoolEmpty)}
	}
	return reissueOutcome{want: ok(), old: old, s: s, fresh: "pool", pool: pool}
}

// applyReissue records the reissue of o.old by got (the engine's fresh
// coupon, already checked to be an allowed choice).
func (m *model) applyReissue(o reissueOutcome, got coupon.Coupon, notify bool, now time.Time) (*coupon.Coupon, *coupon.Coupon) {
	old := o.old
	var fresh *coupon.Coupon
	if o.fresh == "pool" {
		fresh = m.coupons[got.ID]
	} else {
		fresh = &coupon.Coupon{ID: got.ID, SeriesID: o.s.id(), Code: got.Code, Canonical: got.Canonical,
			State: coupon.Available, CreatedAt: now, LastStatusChange: now, Version: 1}
		m.coupons[fresh.ID] = fresh
	}
	m.event(old, evRec{Kind: coupon.EventReissued, Customer: old.Holder, NewCouponID: fresh.ID, At: now})
	holder := old.Holder
	st := stateAt(old, now)
	old.Holder, old.ReissuedTo = "", fresh.ID
	setState(old, st, now)
	old.Version++
	fresh.Holder, fresh.IssuedAt, fresh.ReissuedFrom = holder, now, old.ID
	fresh.ExpiresAt = earliest(fresh.ExpiresAt, o.s.expiry(now))
	setState(fresh, coupon.Issued, now)
	fresh.Version++
	return old, fresh
}

// expireDue runs the expiry sweep and returns how many coupons it marks.
func (m *model) expireDue(now time.Time) int {
	cs := m.sortedCoupons(func(c *coupon.Coupon) bool {
		return (c.State == coupon.Available || c.State == coupon.Issued) && !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now)
	})
	for _, c := range cs {
		setState(c, coupon.Expired, now)
		c.Version++
		m.event(c, evRec{Kind: coupon.EventExpired, Customer: c.Holder, At: now})
	}
	return len(cs)
}
