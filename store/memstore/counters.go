package memstore

import (
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Counters are kept beside what they count rather than in one map keyed by
// store.CounterKey, so that a redemption finds them in the records it
// touches anyway instead of in a map of millions of entries:
//
//   - the code-level counters (CodeUses, CustomerCodeUses) in the
//     couponRec of the coupon whose unique key is the counter key's series,
//     code and holder (see codeHome); when no stored coupon has that key,
//     in Store.loose, under the key;
//   - the series-level ones (SeriesUses, SeriesIssued) in the seriesRec;
//   - the customer-level ones (CustomerSeriesUses, CustomerIssued) in the
//     customer's custRec;
//   - any other key (a field set that its counter's scope does not use) in
//     Store.odd.
//
// Where a counter lives never changes its value: when a coupon's series,
// code or slot changes (a transfer moves a shared code's coupon to another
// holder), or a coupon comes to be stored under a key whose counters were
// kept in Store.loose, the code-level counters move with the key.

// counterSet holds counters under keys of type K: the first inline (most
// sets hold one: a coupon used by its holder, a customer using one series),
// a few more in a slice searched in order, more than that in a map.
type counterSet[K comparable] struct {
	first keyedCount[K] // when n > 0
	rest  []keyedCount[K]
	n     int // counters in first and rest
	many  map[K]*store.Count
}

type keyedCount[K comparable] struct {
	key K
	n   store.Count
}

// fewCounters is the most counters a counterSet searches one by one.
const fewCounters = 8

// get returns the counter under k, or nil. The pointer is valid until the
// next put.
func (s *counterSet[K]) get(k K) *store.Count {
	switch {
	case s.many != nil:
		return s.many[k]
	case s.n == 0:
		return nil
	case s.first.key == k:
		return &s.first.n
	}
	for i := range s.rest {
		if s.rest[i].key == k {
			return &s.rest[i].n
		}
	}
	return nil
}

// put returns the counter under k, adding it at zero. The pointer is valid
// until the next put.
func (s *counterSet[K]) put(k K) *store.Count {
	if p := s.get(k); p != nil {
		return p
	}
	switch {
	case s.many != nil:
	case s.n == 0:
		s.first, s.n = keyedCount[K]{key: k}, 1
		return &s.first.n
	case s.n < fewCounters:
		s.rest = append(s.rest, keyedCount[K]{key: k})
		s.n++
		return &s.rest[len(s.rest)-1].n
	default:
		s.many = make(map[K]*store.Count, 2*s.n)
		for _, x := range append(s.rest, s.first) {
			n := x.n
			s.many[x.key] = &n
		}
		s.first, s.rest, s.n = keyedCount[K]{}, nil, 0
	}
	p := new(store.Count)
	s.many[k] = p
	return p
}

func (s *counterSet[K]) empty() bool { return s.n == 0 && len(s.many) == 0 }

// codeCounters are the code-level counters of one coupon key (series,
// code and holder, which is the coupon's unique key: see store.Slot).
type codeCounters struct {
	uses       store.Count        // CodeUses
	byCustomer counterSet[string] // CustomerCodeUses, by customer
}

func (c *codeCounters) empty() bool { return c.uses == (store.Count{}) && c.byCustomer.empty() }

// custCounter is the counter and series of a customer-level counter.
type custCounter struct {
	counter limits.Counter
	series  string
}

// codeHome returns the record of the stored coupon that keeps the
// code-level counters of k, the coupon whose unique key it is, or nil.
// hint, when not nil, is a record that may be it, which saves a lookup.
// Caller holds the lock.
func (s *Store) codeHome(k uniqueKey, hint *couponRec) *couponRec {
	if r := hint; r != nil && r.stored && keyOf(&r.c) == k {
		return r
	}
	var r *couponRec
	x := s.byCode.get(k.canonical)
	switch {
	case x.one != nil:
		r = x.one
	case x.set != nil:
		if id, ok := s.unique[k]; ok {
			r = s.recs[id]
		}
	}
	if r == nil || !r.stored || keyOf(&r.c) != k {
		return nil
	}
	return r
}

// counter returns the counter of k, or nil when it was never bumped; with
// create, it adds it at zero instead. hint, when not nil, is the record of
// a coupon the key may be about (its code, its holder), which saves
// lookups. The pointer is valid until the store next changes. Caller holds
// the lock (the write lock with create).
func (s *Store) counter(k *store.CounterKey, create bool, hint *couponRec) *store.Count {
	switch k.Counter {
	case limits.SeriesUses, limits.SeriesIssued:
		if k.Code != "" || k.Holder != "" || k.Customer != "" {
			break
		}
		var sr *seriesRec
		if create {
			sr = s.seriesFor(k.Series)
		} else if sr = s.series[k.Series]; sr == nil {
			return nil
		}
		if k.Counter == limits.SeriesUses {
			return &sr.counts[0]
		}
		return &sr.counts[1]
	case limits.CustomerSeriesUses, limits.CustomerIssued:
		if k.Code != "" || k.Holder != "" {
			break
		}
		cr := s.custOf(k.Customer, hint)
		if cr == nil {
			if !create {
				return nil
			}
			cr = s.custFor(k.Customer)
		}
		ck := custCounter{k.Counter, k.Series}
		if create {
			return cr.counters.put(ck)
		}
		return cr.counters.get(ck)
	case limits.CodeUses, limits.CustomerCodeUses:
		if k.Counter == limits.CodeUses && k.Customer != "" {
			break
		}
		cc := s.codeCounters(uniqueKey{k.Series, k.Code, k.Holder}, create, hint)
		switch {
		case cc == nil:
			return nil
		case k.Counter == limits.CodeUses:
			return &cc.uses
		case create:
			return cc.byCustomer.put(k.Customer)
		}
		return cc.byCustomer.get(k.Customer)
	}
	p := s.odd[*k]
	if p == nil && create {
		p = new(store.Count)
		s.odd[*k] = p
	}
	return p
}

// codeCounters returns the code-level counters of k: those of the coupon
// that keeps them, else those in loose (added with create).
func (s *Store) codeCounters(k uniqueKey, create bool, hint *couponRec) *codeCounters {
	if r := s.codeHome(k, hint); r != nil {
		return &r.counts
	}
	cc := s.loose[k]
	if cc == nil && create {
		cc = new(codeCounters)
		s.loose[k] = cc
	}
	return cc
}

// unhome moves the code-level counters that the stored coupon r keeps to
// loose; call it before r's series, code, holder or sharing change.
func (s *Store) unhome(r *couponRec) {
	if r.counts.empty() {
		return
	}
	s.loose[keyOf(&r.c)] = &codeCounters{uses: r.counts.uses, byCustomer: r.counts.byCustomer}
	r.counts = codeCounters{}
}

// home moves to the stored coupon r the code-level counters of its key that
// loose holds; call it once r is stored under its key.
func (s *Store) home(r *couponRec) {
	if len(s.loose) == 0 {
		return
	}
	k := keyOf(&r.c)
	if cc := s.loose[k]; cc != nil {
		r.counts = *cc
		delete(s.loose, k)
	}
}
