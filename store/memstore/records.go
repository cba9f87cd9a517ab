package memstore

import (
	"hash/maphash"
	"iter"
	"slices"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// couponRec is everything the store keeps under one coupon id: the coupon,
// once stored, the redemptions and events that name the id, and the
// coupon's code-level counters. Keeping them together lets a redemption
// find its coupon, its idempotency keys, its counters and its event list
// with one map lookup. A record without a stored coupon exists when a
// redemption or an event names an id no coupon has.
//
// A couponRec is never copied (records live in a slab and are used by
// pointer): reds starts in red0.
type couponRec struct {
	c         coupon.Coupon
	stored    bool
	reds      []redRef       // in the order inserted
	red0      [1]redRef      // room for the first, which most coupons never pass
	byKey     map[uint64]int // number by key hash, once reds is longer than keyScan
	keyClash  bool           // two keys of reds have one hash: search reds instead
	lastEvent evPos          // the last event naming the id
	counts    codeCounters   // while stored, see codeHome
	holder    *custRec       // the record of c.Holder, while stored and held
}

// seriesRec is everything the store keeps under one series id: the series
// once stored, its series-level counters, its coupons, its pool and its
// redemptions, so that a redemption finds all of them with one lookup. A
// record without a stored series exists when a counter or a coupon names
// an id no series has.
type seriesRec struct {
	// s is never changed once stored: a write replaces the pointer, so a
	// reader may copy it after releasing the lock.
	s      *series.Series
	counts [2]store.Count // SeriesUses, SeriesIssued
	ids    idSet          // its coupons
	pool   idSet          // its Available coupons
	reds   []int32        // the numbers of its redemptions
	next   int64          // the next index of its code sequence
}

// storedSeries returns the stored series id, or nil. Caller holds the lock.
func (s *Store) storedSeries(id string) *series.Series {
	if r := s.series[id]; r != nil {
		return r.s
	}
	return nil
}

// seriesFor returns the record of series id, creating it. Caller holds the
// write lock.
func (s *Store) seriesFor(id string) *seriesRec {
	sc := &s.scratch
	if sc.lastSeries != nil && sc.lastSeriesID == id {
		return sc.lastSeries
	}
	r := s.series[id]
	if r == nil {
		r = new(seriesRec)
		s.series[id] = r
	}
	sc.lastSeriesID, sc.lastSeries = id, r
	return r
}

// custRec is everything the store keeps under one customer id.
type custRec struct {
	coupons   heldSet // the coupons the customer holds
	lastEvent evPos   // the last event naming the customer
	counters  counterSet[custCounter]
	reds      []int32  // the numbers of the redemptions the customer made
	red0      [1]int32 // room for the first, which most customers never pass
}

// addRed adds redemption num to the customer's. A custRec is never copied
// (records live in a slab and are used by pointer): reds starts in red0.
func (r *custRec) addRed(num int) {
	if r.reds == nil {
		r.reds = r.red0[:0:1]
	}
	r.reds = append(r.reds, int32(num))
}

// slabSize is the number of records a slab allocates at once.
const slabSize = 256

// slab hands out records from chunks allocated slabSize at a time: a
// million records are four thousand objects for the collector, not a
// million. Records are never freed, so a chunk lives as long as the store.
type slab[T any] struct {
	chunk []T
}

func (s *slab[T]) next() *T {
	if len(s.chunk) == 0 {
		s.chunk = make([]T, slabSize)
	}
	p := &s.chunk[0]
	s.chunk = s.chunk[1:]
	return p
}

// heldSet is the ordered set of the coupons one customer holds: most
// customers hold one, kept inline, so that a million customers do not cost
// a million small index allocations for the collector to trace.
type heldSet struct {
	one  string // the only coupon, when many is nil
	many *idSet
}

func (h *heldSet) add(id string) {
	switch {
	case h.many != nil:
		h.many.add(id)
	case h.one == "" || h.one == id:
		h.one = id
	default:
		h.many = new(idSet)
		h.many.add(h.one)
		h.many.add(id)
		h.one = ""
	}
}

func (h *heldSet) remove(id string) {
	switch {
	case h.many != nil:
		h.many.remove(id)
	case h.one == id:
		h.one = ""
	}
}

// after yields the ids greater than after in increasing order.
func (h *heldSet) after(after string) iter.Seq[string] {
	if h.many != nil {
		return h.many.after(after)
	}
	one := h.one
	return func(yield func(string) bool) {
		if one != "" && one > after {
			yield(one)
		}
	}
}

// custFor returns the record of customer id, creating it. Caller holds the
// write lock.
func (s *Store) custFor(id string) *custRec {
	sc := &s.scratch
	if sc.lastCust != nil && sc.lastCustID == id {
		return sc.lastCust
	}
	r := s.custs[id]
	if r == nil {
		r = s.custSlab.next()
		s.custs[id] = r
	}
	sc.lastCustID, sc.lastCust = id, r
	return r
}

// redRef is a redemption of a coupon, by number, with the hash of its
// idempotency key beside it, so that a search by key does not decode every
// redemption.
type redRef struct {
	key    uint64 // hash of the idempotency key
	num    int32
	hasKey bool
}

// keyScan is the number of redemptions of one coupon searched one by one
// for an idempotency key; past it, couponRec keeps a map of key hashes.
const keyScan = 8

// refOf returns the redRef of redemption num, r.
func (s *Store) refOf(num int, r *coupon.Redemption) redRef {
	return redRef{key: s.reds.hash(r.IdempotencyKey), num: int32(num), hasKey: r.IdempotencyKey != ""}
}

// redByKey returns the number of the redemption of rec with the idempotency
// key, which must not be "".
func (s *Store) redByKey(rec *couponRec, key string) (int, bool) {
	h := s.reds.hash(key)
	if rec.byKey != nil && !rec.keyClash {
		n, ok := rec.byKey[h]
		return n, ok && s.reds.keyIs(n, key)
	}
	for _, x := range rec.reds {
		if x.hasKey && x.key == h && s.reds.keyIs(int(x.num), key) {
			return int(x.num), true
		}
	}
	return 0, false
}

// addRed adds x to the redemptions of r.
func (r *couponRec) addRed(x redRef) {
	if r.reds == nil {
		r.reds = r.red0[:0:1]
	}
	r.reds = append(r.reds, x)
	switch {
	case r.byKey != nil:
		r.mapKey(x)
	case len(r.reds) > keyScan:
		r.byKey = make(map[uint64]int, 2*len(r.reds))
		for _, y := range r.reds {
			r.mapKey(y)
		}
	}
}

// mapKey enters x in byKey. Two keys with one hash make byKey unusable, and
// lookups scan instead.
func (r *couponRec) mapKey(x redRef) {
	if !x.hasKey {
		return
	}
	if _, taken := r.byKey[x.key]; taken {
		r.keyClash = true
		return
	}
	r.byKey[x.key] = int(x.num)
}

func (r *couponRec) index(num int) int {
	return slices.IndexFunc(r.reds, func(x redRef) bool { return int(x.num) == num })
}

// removeRed removes redemption num from r.
func (r *couponRec) removeRed(num int) {
	i := r.index(num)
	if i < 0 {
		return
	}
	x := r.reds[i]
	r.reds = slices.Delete(r.reds, i, i+1)
	if r.byKey != nil && x.hasKey && r.byKey[x.key] == num {
		delete(r.byKey, x.key)
	}
}

// rekey gives redemption num of r the key x.key.
func (r *couponRec) rekey(x redRef) {
	num := int(x.num)
	i := r.index(num)
	if i < 0 {
		return
	}
	old := r.reds[i]
	r.reds[i] = x
	if r.byKey == nil {
		return
	}
	if old.hasKey && r.byKey[old.key] == num {
		delete(r.byKey, old.key)
	}
	r.mapKey(x)
}

func without(nums []int32, num int) []int32 {
	for i, n := range nums {
		if int(n) == num {
			return append(nums[:i:i], nums[i+1:]...)
		}
	}
	return nums
}

// codeIndex finds the coupons of a canonical code, in every series. A code
// that one coupon has (the usual case) is found in one, keyed by a 64-bit
// hash of the code: a lookup reads a 16-byte map slot and compares the code
// with the coupon's own, in the record it reads anyway, instead of first
// reading the key's bytes from elsewhere in memory. A code that several
// coupons share, or whose hash another code in one already has, is in
// multi instead.
type codeIndex struct {
	hash  func(string) uint64
	one   map[uint64]*couponRec
	multi map[string]codeIdx
}

// codeIdx lists the coupons of one canonical code: the record of the only
// one, or the ordered ids of several.
type codeIdx struct {
	one *couponRec
	set *idSet
}

func newCodeIndex() codeIndex {
	hashKey := maphash.MakeSeed()
	return codeIndex{
		hash:  func(s string) uint64 { return maphash.String(hashKey, s) },
		one:   make(map[uint64]*couponRec),
		multi: make(map[string]codeIdx),
	}
}

// get returns the coupons of code, or the zero codeIdx. While a coupon's
// code changes (updateCoupon), its record still has the old code; get is
// not called for the new one until the record has it too.
func (x *codeIndex) get(code string) codeIdx {
	if r := x.one[x.hash(code)]; r != nil && r.c.Canonical == code {
		return codeIdx{one: r}
	}
	if len(x.multi) > 0 {
		return x.multi[code]
	}
	return codeIdx{}
}

// put sets the coupons of code to e, which is not empty.
func (x *codeIndex) put(code string, e codeIdx) {
	h := x.hash(code)
	r := x.one[h]
	mine := r != nil && r.c.Canonical == code
	if e.set == nil && (r == nil || mine) {
		x.one[h] = e.one
		delete(x.multi, code)
		return
	}
	if mine {
		delete(x.one, h)
	}
	x.multi[code] = e
}

// remove drops code.
func (x *codeIndex) remove(code string) {
	h := x.hash(code)
	if r := x.one[h]; r != nil && r.c.Canonical == code {
		delete(x.one, h)
	}
	delete(x.multi, code)
}

func (s *Store) addCode(code string, r *couponRec) {
	x := s.byCode.get(code)
	switch {
	case x.one == nil && x.set == nil:
		x.one = r
	case x.set == nil:
		x.set = new(idSet)
		x.set.add(x.one.c.ID)
		x.set.add(r.c.ID)
		x.one = nil
	default:
		x.set.add(r.c.ID)
	}
	s.byCode.put(code, x)
}

func (s *Store) removeCode(code string, r *couponRec) {
	x := s.byCode.get(code)
	switch {
	case x.one != nil:
		if x.one == r {
			s.byCode.remove(code)
		}
	case x.set != nil:
		x.set.remove(r.c.ID)
		switch x.set.n {
		case 0:
			s.byCode.remove(code)
		case 1:
			s.byCode.put(code, codeIdx{one: s.recs[x.set.chunks[0][0]]})
		}
	}
}

// stored returns the record of the stored coupon id, or nil. Caller holds
// the lock.
func (s *Store) stored(id string) *couponRec {
	if r := s.recs[id]; r != nil && r.stored {
		return r
	}
	return nil
}

// lookup returns the record of id, or nil, remembering the last one found:
// the parts of a change mostly name one coupon. Caller holds the write lock.
func (s *Store) lookup(id string) *couponRec {
	sc := &s.scratch
	if sc.last != nil && id == sc.lastID {
		return sc.last
	}
	r := s.recs[id]
	if r != nil {
		sc.lastID, sc.last = id, r
	}
	return r
}

// lookupCoupon is lookup for the id of a coupon whose canonical code is
// probably canon. It tries the code's index first: a redemption has just
// read it, so it is in cache, where the map of every id is not.
func (s *Store) lookupCoupon(id, canon string) *couponRec {
	if x := s.byCode.get(canon); x.one != nil && x.one.c.ID == id {
		s.scratch.lastID, s.scratch.last = id, x.one
		return x.one
	}
	return s.lookup(id)
}

// custOf returns the record of customer id, or nil. hint, when not nil, is
// a coupon record whose holder may be id, which saves a lookup.
func (s *Store) custOf(id string, hint *couponRec) *custRec {
	if hint != nil && hint.holder != nil && hint.c.Holder == id {
		return hint.holder
	}
	return s.custs[id]
}

// recFor returns the record of id, creating it. Caller holds the write
// lock.
func (s *Store) recFor(id string) *couponRec {
	if r := s.lookup(id); r != nil {
		return r
	}
	r := s.recSlab.next()
	s.recs[id] = r
	s.scratch.lastID, s.scratch.last = id, r
	return r
}

// notFoundError is the error of a lookup that finds nothing: what
// store.NotFound(kind, id) returns, built only when it is looked at, because
// a redemption's idempotency lookup usually misses and formatting the
// message each time would cost more than the lookup. It matches
// errcode.ErrNotFound under errors.Is and is an *errcode.Error with code
// NotFound, field kind and the same message under errors.As.
type notFoundError struct{ kind, id string }

func notFound(kind, id string) error { return &notFoundError{kind, id} }

func (e *notFoundError) Error() string { return store.NotFound(e.kind, e.id).Error() }

// Is reports whether target is an *errcode.Error with code NotFound.
func (e *notFoundError) Is(target error) bool {
	t, ok := target.(*errcode.Error)
	return ok && t.Code == errcode.NotFound
}

// Unwrap returns the error store.NotFound gives, for errors.As.
func (e *notFoundError) Unwrap() error { return store.NotFound(e.kind, e.id) }
