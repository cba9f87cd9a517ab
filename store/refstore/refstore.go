package refstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Store is a store.Store over plain maps and slices guarded by one mutex.
// Create one with New; the zero value is not usable. It is safe for
// concurrent use.
type Store struct {
	mu sync.Mutex
	// leases are tills' leases by id, and leaseOps the calls that wrote
	// them; see lease.go.
	leases   map[string]lease.Lease
	leaseOps map[leaseOpKey]lease.Op
	// tillEntries are the tills' journal entries by till and key.
	tillEntries map[leaseOpKey]lease.Entry

	series    map[string]series.Series
	coupons   map[string]coupon.Coupon
	unique    map[couponKey]string // (series, canonical code, slot) -> coupon id
	issueKeys map[issueKey]string  // (series, issue key) -> coupon id
	reds      map[string]coupon.Redemption
	redKeys   map[redKey]string // (coupon id, idempotency key) -> redemption id
	counters  map[store.CounterKey]store.Count
	events    []coupon.Event
	audience  map[string]map[string]time.Time // series -> member -> when added
	sequences map[string]int64
	// checkpoints are the feed consumers' positions.
	checkpoints map[string]store.Position
}

var _ store.Store = (*Store)(nil)

// couponKey is a coupon's unique key (see store.Slot).
type couponKey struct{ series, canonical, slot string }

func keyOf(c *coupon.Coupon) couponKey { return couponKey{c.SeriesID, c.Canonical, store.Slot(c)} }

func (k couponKey) String() string { return k.series + "/" + k.canonical + "/" + k.slot }

// issueKey is the unique key of a coupon issued with an idempotency key;
// coupons without one have none.
type issueKey struct{ series, key string }

// issueKeyOf returns c's issue key and whether it has one.
func issueKeyOf(c *coupon.Coupon) (issueKey, bool) {
	return issueKey{c.SeriesID, c.IssueKey}, c.IssueKey != ""
}

// redKey is a redemption's unique key; redemptions without an idempotency
// key have none.
type redKey struct{ coupon, key string }

// New returns an empty Store.
func New() *Store {
	return &Store{
		series:    make(map[string]series.Series),
		coupons:   make(map[string]coupon.Coupon),
		unique:    make(map[couponKey]string),
		issueKeys: make(map[issueKey]string),
		reds:      make(map[string]coupon.Redemption),
		redKeys:   make(map[redKey]string),
		counters:  make(map[store.CounterKey]store.Count),
		audience:  make(map[string]map[string]time.Time),
		sequences: make(map[string]int64),

		checkpoints: make(map[string]store.Position),
	}
}

// lock checks ctx and takes the mutex; the caller must unlock.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	return nil
}

// Series implements store.Store.
func (s *Store) Series(ctx context.Context, id string) (series.Series, error) {
	if err := s.lock(ctx); err != nil {
		return series.Series{}, err
	}
	defer s.mu.Unlock()
	v, ok := s.series[id]
	if !ok {
		return series.Series{}, store.NotFound("series", id)
	}
	return v.Clone(), nil
}

// ListSeries implements store.Store.
func (s *Store) ListSeries(ctx context.Context, q store.SeriesQuery) ([]series.Series, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []series.Series
	for _, v := range s.series {
		if q.Match(&v) {
			out = append(out, v.Clone())
		}
	}
	slices.SortFunc(out, func(a, b series.Series) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Coupon implements store.Store.
func (s *Store) Coupon(ctx context.Context, id string) (coupon.Coupon, error) {
	if err := s.lock(ctx); err != nil {
		return coupon.Coupon{}, err
	}
	defer s.mu.Unlock()
	c, ok := s.coupons[id]
	if !ok {
		return coupon.Coupon{}, store.NotFound("coupon", id)
	}
	return c, nil
}

// CouponsByCode implements store.Store.
func (s *Store) CouponsByCode(ctx context.Context, seriesID, code string) ([]coupon.Coupon, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.findCoupons(func(c *coupon.Coupon) bool {
		return c.Canonical == code && (seriesID == "" || c.SeriesID == seriesID)
	}, "", 0), nil
}

// ListCoupons implements store.Store.
func (s *Store) ListCoupons(ctx context.Context, q store.CouponQuery) ([]coupon.Coupon, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.findCoupons(q.CouponFilter.Match, q.AfterID, q.Limit), nil
}

// findCoupons returns copies of the coupons that match, with ids above
// after, ordered by id, at most limit of them (0: all). The caller holds
// the mutex.
func (s *Store) findCoupons(match func(*coupon.Coupon) bool, after string, limit int) []coupon.Coupon {
	var out []coupon.Coupon
	for _, c := range s.coupons {
		if c.ID > after && match(&c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b coupon.Coupon) int { return cmp.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Redemption implements store.Store.
func (s *Store) Redemption(ctx context.Context, id string) (coupon.Redemption, error) {
	if err := s.lock(ctx); err != nil {
		return coupon.Redemption{}, err
	}
	defer s.mu.Unlock()
	r, ok := s.reds[id]
	if !ok {
		return coupon.Redemption{}, store.NotFound("redemption", id)
	}
	return copyRedemption(r), nil
}

// copyRedemption is r with a copy of its parts: the store keeps no slice
// it is given and hands out none it keeps.
func copyRedemption(r coupon.Redemption) coupon.Redemption {
	r.Parts = slices.Clone(r.Parts)
	if r.Returns != nil {
		r.Returns = slices.Clone(r.Returns)
		for i := range r.Returns {
			r.Returns[i].Lines = slices.Clone(r.Returns[i].Lines)
		}
	}
	return r
}

// RedemptionByKey implements store.Store.
func (s *Store) RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error) {
	if err := s.lock(ctx); err != nil {
		return coupon.Redemption{}, err
	}
	defer s.mu.Unlock()
	id, ok := s.redKeys[redKey{couponID, key}]
	if !ok {
		return coupon.Redemption{}, store.NotFound("redemption", key)
	}
	return copyRedemption(s.reds[id]), nil
}

// ListRedemptions implements store.Store.
func (s *Store) ListRedemptions(ctx context.Context, q store.RedemptionQuery) ([]coupon.Redemption, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []coupon.Redemption
	for _, r := range s.reds {
		if q.Match(&r) {
			out = append(out, copyRedemption(r))
		}
	}
	slices.SortFunc(out, func(a, b coupon.Redemption) int { return cmp.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	if len(keys) != len(out) {
		return errcode.New(errcode.InvalidArgument, "out", "must have the length of keys")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for i, k := range keys {
		out[i] = s.counters[k] // the zero Count when never bumped
	}
	return nil
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]coupon.Event, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []coupon.Event
	for _, e := range s.events {
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
		if q.Match(&e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// InAudience implements store.Store.
func (s *Store) InAudience(ctx context.Context, seriesID, customer string) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	_, ok := s.audience[seriesID][customer]
	return ok, nil
}

// Audience implements store.Store.
func (s *Store) Audience(ctx context.Context, q store.AudienceQuery) ([]store.AudienceMember, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.AudienceMember
	for c, at := range s.audience[q.SeriesID] {
		if c > q.After && (len(q.Customers) == 0 || slices.Contains(q.Customers, c)) {
			out = append(out, store.AudienceMember{Customer: c, AddedAt: at})
		}
	}
	slices.SortFunc(out, func(a, b store.AudienceMember) int { return cmp.Compare(a.Customer, b.Customer) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// AddAudience implements store.Store.
func (s *Store) AddAudience(ctx context.Context, seriesID string, customers []string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.audience[seriesID] == nil {
		s.audience[seriesID] = make(map[string]time.Time)
	}
	for _, c := range customers {
		if _, ok := s.audience[seriesID][c]; !ok {
			s.audience[seriesID][c] = time.Time{}
		}
	}
	return nil
}

// NextIndex implements store.Store.
func (s *Store) NextIndex(ctx context.Context, seriesID string) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.sequences[seriesID], nil // 0 when never advanced
}

// InsertCoupons implements store.Store. A coupon is skipped when its id,
// unique key or issue key is taken, by a stored coupon or an earlier one of
// the batch; an event is skipped when it names a skipped coupon and no
// inserted one.
func (s *Store) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	for i := range coupons {
		if coupons[i].ID == "" {
			return 0, errcode.New(errcode.InvalidArgument, "ID", "is empty")
		}
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	skipped, inserted := make(map[string]bool), make(map[string]bool)
	for _, c := range coupons {
		_, idTaken := s.coupons[c.ID]
		_, keyTaken := s.unique[keyOf(&c)]
		ik, keyed := issueKeyOf(&c)
		if _, taken := s.issueKeys[ik]; keyed && taken {
			keyTaken = true
		}
		if idTaken || keyTaken {
			skipped[c.ID] = true
			continue
		}
		s.coupons[c.ID] = c
		s.unique[keyOf(&c)] = c.ID
		if keyed {
			s.issueKeys[ik] = c.ID
		}
		inserted[c.ID] = true
	}
	for _, e := range events {
		if !skipped[e.CouponID] || inserted[e.CouponID] {
			s.events = append(s.events, e)
		}
	}
	return len(inserted), nil
}

// UpdateWhere implements store.Store.
func (s *Store) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := s.findCoupons(f.Match, "", u.Limit)
	for i := range out {
		c := &out[i]
		if c.State != u.To {
			c.State, c.LastStatusChange = u.To, u.At
		}
		c.Version++
		s.coupons[c.ID] = *c
		e := u.Event
		e.ID, e.CouponID, e.SeriesID, e.Code, e.Customer = u.EventIDPrefix+c.ID, c.ID, c.SeriesID, c.Code, c.Holder
		s.events = append(s.events, e)
	}
	return out, nil
}
