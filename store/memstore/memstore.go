package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Store is an in-memory store.Store. Create one with New; the zero value is
// not usable. It is safe for concurrent use.
type Store struct {
	mu sync.RWMutex

	// series holds, by series id, the series and what the store keeps
	// beside it; see seriesRec.
	series map[string]*seriesRec

	// recs holds, by coupon id, the coupon and the redemptions and events
	// that name it; see couponRec.
	recs     map[string]*couponRec
	recSlab  slab[couponRec]
	unique   map[uniqueKey]string // (series, canonical, slot) -> coupon id
	issueIdx map[issueKey]string  // (series, issue key) -> coupon id
	byCode   codeIndex            // canonical code -> coupons, every series
	custs    map[string]*custRec  // customer -> coupons held, events, counters
	custSlab slab[custRec]
	all      idSet // every coupon id

	reds redTable
	held map[int]struct{} // numbers of redemptions with Status == StatusHeld

	// Counters live beside what they count: see counters.go.
	loose map[uniqueKey]*codeCounters // code-level counters no stored coupon keeps, by key
	odd   map[store.CounterKey]*store.Count

	events eventLog

	audience map[string]*audienceList // series id -> its audience list

	checkpoints map[string]store.Position // feed consumer -> its checkpoint

	scratch scratch // Apply's reusable buffers, guarded by mu

	// leases holds tills' leases and their calls; see lease.go.
	leases leaseTable
}

var (
	_ store.Store                 = (*Store)(nil)
	_ store.SeriesVersioner       = (*Store)(nil)
	_ store.CouponsByCodeAppender = (*Store)(nil)
	_ store.CodeReader            = (*Store)(nil)
)

// uniqueKey is a coupon's unique key: series, canonical code and slot (see
// store.Slot).
type uniqueKey struct{ series, canonical, slot string }

func keyOf(c *coupon.Coupon) uniqueKey {
	return uniqueKey{c.SeriesID, c.Canonical, store.Slot(c)}
}

func (k uniqueKey) String() string {
	s := k.series + "/" + k.canonical
	if k.slot != "" {
		s += "/" + k.slot
	}
	return s
}

// issueKey is the unique key of a coupon with an IssueKey: its series and
// issue key.
type issueKey struct{ series, key string }

// issueKeyOf returns c's issue key and whether it has one.
func issueKeyOf(c *coupon.Coupon) (issueKey, bool) {
	return issueKey{c.SeriesID, c.IssueKey}, c.IssueKey != ""
}

func (k issueKey) String() string { return k.series + "/" + k.key }

// New returns an empty Store.
func New() *Store {
	return &Store{
		series:   make(map[string]*seriesRec),
		recs:     make(map[string]*couponRec),
		unique:   make(map[uniqueKey]string),
		issueIdx: make(map[issueKey]string),
		byCode:   newCodeIndex(),
		custs:    make(map[string]*custRec),
		reds:     newRedTable(),
		held:     make(map[int]struct{}),
		loose:    make(map[uniqueKey]*codeCounters),
		odd:      make(map[store.CounterKey]*store.Count),
		audience: make(map[string]*audienceList),

		checkpoints: make(map[string]store.Position),
	}
}

// Series implements store.Store.
func (s *Store) Series(ctx context.Context, id string) (series.Series, error) {
	if err := ctx.Err(); err != nil {
		return series.Series{}, err
	}
	s.mu.RLock()
	p := s.storedSeries(id)
	s.mu.RUnlock()
	if p == nil {
		return series.Series{}, notFound("series", id)
	}
	return p.Clone(), nil
}

// SeriesVersion implements store.SeriesVersioner.
func (s *Store) SeriesVersion(ctx context.Context, id string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	p := s.storedSeries(id)
	s.mu.RUnlock()
	if p == nil {
		return 0, notFound("series", id)
	}
	return p.Version, nil
}

// ListSeries implements store.Store.
func (s *Store) ListSeries(ctx context.Context, q store.SeriesQuery) ([]series.Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var found []*series.Series
	s.mu.RLock()
	for _, r := range s.series {
		p := r.s
		if p == nil || !q.Match(p) {
			continue
		}
		found = append(found, p)
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b *series.Series) int { return cmp.Compare(a.ID, b.ID) })
	var out []series.Series
	for _, p := range found {
		out = append(out, p.Clone())
	}
	return out, nil
}

// Coupon implements store.Store.
func (s *Store) Coupon(ctx context.Context, id string) (coupon.Coupon, error) {
	if err := ctx.Err(); err != nil {
		return coupon.Coupon{}, err
	}
	s.mu.RLock()
	r := s.recs[id]
	ok := r != nil && r.stored
	var c coupon.Coupon
	if ok {
		c = r.c
	}
	s.mu.RUnlock()
	if !ok {
		return coupon.Coupon{}, notFound("coupon", id)
	}
	return c, nil
}

// CouponsByCode implements store.Store.
func (s *Store) CouponsByCode(ctx context.Context, seriesID, code string) ([]coupon.Coupon, error) {
	return s.AppendCouponsByCode(ctx, nil, seriesID, code)
}

// AppendCouponsByCode implements store.CouponsByCodeAppender.
func (s *Store) AppendCouponsByCode(ctx context.Context, dst []coupon.Coupon, seriesID, code string) ([]coupon.Coupon, error) {
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := s.byCode.get(code)
	if x.one != nil { // the usual case: one coupon has the code
		if p := &x.one.c; seriesID == "" || p.SeriesID == seriesID {
			dst = append(dst, *p)
		}
		return dst, nil
	}
	for id := range x.set.after("") {
		if p := &s.recs[id].c; seriesID == "" || p.SeriesID == seriesID {
			dst = append(dst, *p)
		}
	}
	return dst, nil
}

// ListCoupons implements store.Store.
func (s *Store) ListCoupons(ctx context.Context, q store.CouponQuery) ([]coupon.Coupon, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := newMatcher(&q.CouponFilter)
	var out []coupon.Coupon
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id := range s.candidates(&m, q.AfterID) {
		r := s.recs[id]
		if r == nil || !r.stored || !m.match(&r.c) {
			continue
		}
		out = append(out, r.c)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// Redemption implements store.Store.
func (s *Store) Redemption(ctx context.Context, id string) (coupon.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return coupon.Redemption{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	num, ok := s.reds.get(id)
	if !ok {
		return coupon.Redemption{}, notFound("redemption", id)
	}
	return s.reds.decode(num), nil
}

// RedemptionByKey implements store.Store.
func (s *Store) RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return coupon.Redemption{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if rec := s.recs[couponID]; rec != nil && key != "" {
		if num, ok := s.redByKey(rec, key); ok {
			return s.reds.decode(num), nil
		}
	}
	return coupon.Redemption{}, notFound("redemption", key)
}

// ListRedemptions implements store.Store.
func (s *Store) ListRedemptions(ctx context.Context, q store.RedemptionQuery) ([]coupon.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []coupon.Redemption
	keep := func(num int) {
		if q.Status != 0 && s.reds.status(num) != q.Status {
			return
		}
		if r := s.reds.decode(num); q.Match(&r) {
			out = append(out, r)
		}
	}
	s.mu.RLock()
	switch {
	case q.CouponID != "":
		if r := s.recs[q.CouponID]; r != nil {
			for _, x := range r.reds {
				keep(int(x.num))
			}
		}
	case q.Customer != "":
		if r := s.custs[q.Customer]; r != nil {
			for _, num := range r.reds {
				keep(int(num))
			}
		}
	case q.Status == coupon.StatusHeld:
		for num := range s.held {
			keep(num)
		}
	case q.SeriesID != "":
		if r := s.series[q.SeriesID]; r != nil {
			for _, num := range r.reds {
				keep(int(num))
			}
		}
	default:
		for num := range s.reds.all() {
			keep(num)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b coupon.Redemption) int { return cmp.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(keys) != len(out) {
		return errcode.New(errcode.InvalidArgument, "out", "must have the length of keys")
	}
	s.mu.RLock()
	// The code-level key of a redemption finds its coupon, whose holder is
	// usually the customer of the customer-level keys.
	var hint *couponRec
	for i := range keys {
		k := &keys[i]
		if hint == nil && (k.Counter == limits.CodeUses || k.Counter == limits.CustomerCodeUses) {
			hint = s.codeHome(uniqueKey{k.Series, k.Code, k.Holder}, nil)
		}
		if p := s.counter(k, false, hint); p != nil {
			out[i] = *p
		} else {
			out[i] = store.Count{}
		}
	}
	s.mu.RUnlock()
	return nil
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]coupon.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The log is read outside the lock: what was logged when it is copied
	// never changes (see eventLog).
	var last evPos
	byCoupon, all := false, false
	s.mu.RLock()
	log := s.events
	switch {
	case q.CouponID != "":
		if r := s.recs[q.CouponID]; r != nil {
			last, byCoupon = r.lastEvent, true
		}
	case q.Customer != "":
		if r := s.custs[q.Customer]; r != nil {
			last = r.lastEvent
		}
	default:
		all = true
	}
	s.mu.RUnlock()
	var out []coupon.Event
	keep := func(e *coupon.Event) bool {
		if !q.Match(e) {
			return true
		}
		out = append(out, *e)
		return q.Limit <= 0 || len(out) < q.Limit
	}
	if all {
		log.all(keep)
	} else {
		log.chain(last, byCoupon, keep)
	}
	return out, nil
}

// NextIndex implements store.Store.
func (s *Store) NextIndex(ctx context.Context, seriesID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.series[seriesID]; r != nil {
		return r.next, nil
	}
	return 0, nil
}
