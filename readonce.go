package couponkit

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// useCounters name, relative to a coupon, the counters useKeys gives for
// it and customer, in the same order, then those budgetKeys gives.
func useCounters(customer string) [6]store.CouponCounter {
	return [6]store.CouponCounter{
		{Counter: limits.CodeUses, ByCode: true},
		{Counter: limits.CustomerCodeUses, ByCode: true, Customer: customer},
		{Counter: limits.SeriesUses},
		{Counter: limits.CustomerSeriesUses, Customer: customer},
		{Counter: limits.SeriesBudget},
		{Counter: limits.CustomerBudget, Customer: customer},
	}
}

// counterSet is a set of useCounters, by index: bit i is useCounters[i].
type counterSet uint8

const (
	// usesCounters are the counters every use decides on: its coupon's
	// uses, by everyone and by the customer, and its series' uses.
	usesCounters counterSet = 0b000111
	// gapCounter is the customer's uses of the series, whose last time
	// a series' minimum gap between a customer's uses is decided on.
	gapCounter counterSet = 0b001000
	// budgetCounters are the series' budgets, all and the customer's.
	budgetCounters counterSet = 0b110000
)

// has reports whether set holds counter i.
func (set counterSet) has(i int) bool { return set&(1<<i) != 0 }

// neededCounters is the set of useCounters a use in series s decides on:
// the customer's series uses only for a minimum gap, the budgets only
// for a series with one.
func neededCounters(s *series.Series) counterSet {
	set := usesCounters
	if s.Redemption.MinGap > 0 {
		set |= gapCounter
	}
	if s.Budget.Capped() {
		set |= budgetCounters
	}
	return set
}

// codeCounters is the set of useCounters a read of a code asks for: the
// counters every use decides on, and those of a gap or a budget once the
// engine has met a series with one, so that a deployment without them
// reads no more than it needs.
func (e *Engine) codeCounters() counterSet {
	set := usesCounters
	if e.gaps.Load() {
		set |= gapCounter
	}
	if e.budgets.Load() {
		set |= budgetCounters
	}
	return set
}

// selectCounters puts in rb.counters the counters of set, in the order of
// useCounters, and returns them.
func (rb *readBuf) selectCounters(set counterSet, customer string) []store.CouponCounter {
	all := useCounters(customer)
	n := 0
	for i := range all {
		if set.has(i) {
			rb.counters[n] = all[i]
			n++
		}
	}
	return rb.counters[:n]
}

// readUseOnce is readUse over a store.CodeReader: the coupons of the code,
// their series' version and the counters of their uses in one read, the
// series itself only when the engine has not decoded that version yet.
// done is false when it cannot tell (a series named by the request that
// the engine has not read yet, a code it finds no coupon of there, a
// series changed since), and readUse then reads the usual way.
func (e *Engine) readUseOnce(ctx context.Context, cr store.CodeReader, req *RedeemRequest, cust Customer, now time.Time, rb *readBuf) (snap useSnapshot, done bool, err error) {
	set := e.codeCounters()
	counters := rb.selectCounters(set, cust.ID)
	var reads []store.CodeRead
	if req.SeriesID != "" {
		c, hit := e.seriesCache.Load(req.SeriesID)
		if !hit {
			return useSnapshot{}, false, nil
		}
		canon, err := e.canonical(c.(*series.Series), req.Code)
		if err != nil {
			return useSnapshot{}, false, nil
		}
		if reads, err = cr.ReadCode(ctx, req.SeriesID, canon, counters, rb.reads[:0]); err != nil || len(reads) == 0 ||
			reads[0].SeriesVersion != c.(*series.Series).Version {
			return useSnapshot{}, err != nil, err
		}
	} else if reads, err = e.readCodeAnywhere(ctx, cr, req.Code, counters, rb.reads[:0]); err != nil {
		return useSnapshot{}, true, err
	}
	if len(reads) == 0 {
		return useSnapshot{}, true, codeNotFound(req.Code)
	}
	cs := rb.found[:0]
	for i := range reads {
		if reads[i].Coupon.SeriesID != reads[0].Coupon.SeriesID {
			return useSnapshot{}, true, severalSeries(req.Code)
		}
		cs = append(cs, reads[i].Coupon)
	}
	s, err := e.seriesAt(ctx, reads[0].Coupon.SeriesID, reads[0].SeriesVersion)
	if err != nil {
		return useSnapshot{}, true, err
	}
	snap, err = e.snapshotOf(ctx, s, cs, reads, set, req, cust, now, rb)
	return snap, true, err
}

// readCodeAnywhere reads a code named without its series: in the plain
// canonical form and, when that finds nothing, in the confusion-free form,
// as lookupCode does.
func (e *Engine) readCodeAnywhere(ctx context.Context, cr store.CodeReader, code string, counters []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	if err := checkCodeGiven(code); err != nil {
		return dst, err
	}
	canon, err := canonicalCode(code)
	if err != nil {
		return dst, err
	}
	reads, err := cr.ReadCode(ctx, "", canon, counters, dst)
	if err != nil || len(reads) > 0 {
		return reads, err
	}
	if alt, ok := confusionFree(code); ok && alt != canon {
		return cr.ReadCode(ctx, "", alt, counters, dst)
	}
	return reads, nil
}

// seriesAt returns the series id at the stored version v: the one the
// engine decoded when it has that version, else read (and kept) now.
func (e *Engine) seriesAt(ctx context.Context, id string, v int64) (*series.Series, error) {
	if c, hit := e.seriesCache.Load(id); hit && c.(*series.Series).Version == v {
		return c.(*series.Series), nil
	}
	s, err := e.st.Series(ctx, id)
	if err != nil {
		return nil, err
	}
	e.seriesCache.Store(id, &s)
	return &s, nil
}

// snapshotOf finishes a read of a use (readUseOnce, readUse): it chooses
// the coupon (selectUse) and takes its counters from reads, which hold
// those of the set read, in the order of useCounters, or reads them when
// reads do not hold them (no combined read, a counter the read did not
// ask for, or the use makes the redeemer's own coupon of a shared code).
// Only the counters the series' rules decide on are read
// (neededCounters): the others stay zero.
func (e *Engine) snapshotOf(ctx context.Context, s *series.Series, cs []coupon.Coupon, reads []store.CodeRead, read counterSet, req *RedeemRequest, cust Customer, now time.Time, rb *readBuf) (useSnapshot, error) {
	loc, err := e.location(s)
	if err != nil {
		return useSnapshot{}, err
	}
	c, insert, err := selectUse(s, cs, req.Code, cust.ID, now.In(loc))
	if err != nil {
		return useSnapshot{}, err
	}
	uk, bk := useKeys(s.ID, c.Canonical, store.Slot(&c), cust.ID), budgetKeys(s.ID, cust.ID)
	rb.keys = [6]store.CounterKey{uk[0], uk[1], uk[2], uk[3], bk[0], bk[1]}
	rb.counts = [6]store.Count{}
	want := neededCounters(s)
	e.learnCounters(want)
	got := counterSet(0)
	for i := range reads {
		if !insert && reads[i].Coupon.ID == c.ID {
			got = read
			read.scatter(&rb.counts, reads[i].Counts[:])
			break
		}
	}
	if err := e.readMissing(ctx, rb, want&^got); err != nil {
		return useSnapshot{}, err
	}
	return useSnapshot{s: s, loc: loc, c: c, insert: insert, customer: cust, keys: (*[4]store.CounterKey)(rb.keys[:4]),
		counts: (*[4]store.Count)(rb.counts[:4]), spent: [2]store.Count(rb.counts[4:]), rates: e.rates}, nil
}

// learnCounters makes later reads of codes ask for the counters of a gap
// or a budget once a series needs them (want, neededCounters).
func (e *Engine) learnCounters(want counterSet) {
	if want&gapCounter != 0 && !e.gaps.Load() {
		e.gaps.Store(true)
	}
	if want&budgetCounters != 0 && !e.budgets.Load() {
		e.budgets.Store(true)
	}
}

// readMissing reads into rb.counts the counters of set by their keys in
// rb.keys, with one call to the store.
func (e *Engine) readMissing(ctx context.Context, rb *readBuf, set counterSet) error {
	if set == 0 {
		return nil
	}
	var keys [6]store.CounterKey
	var counts [6]store.Count
	n := 0
	for i := range rb.keys {
		if set.has(i) {
			keys[n] = rb.keys[i]
			n++
		}
	}
	if err := e.st.Counters(ctx, keys[:n], counts[:n]); err != nil {
		return err
	}
	set.scatter(&rb.counts, counts[:n])
	return nil
}

// scatter puts the counts of set, given in src in the order of
// useCounters, at their places in dst.
func (set counterSet) scatter(dst *[6]store.Count, src []store.Count) {
	n := 0
	for i := range dst {
		if set.has(i) {
			dst[i] = src[n]
			n++
		}
	}
}
