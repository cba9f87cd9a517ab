package store

import (
	"context"
	"slices"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// Store is what the engine needs from storage. Every method is safe for
// concurrent use. Read methods return copies: changing a returned value does
// not change the store. Lookups of one record by its key (Series, Coupon,
// Redemption, RedemptionByKey) that find nothing return an error matching
// errcode.ErrNotFound; methods that return a list (CouponsByCode, the List
// methods, Events) return an empty result and no error instead.
//
// Every method honours its context: a context already done fails the call
// with the context's error before anything is read or written, and a write
// cut short by cancellation is either applied whole or not at all (never a
// part of a Change); the error then wraps ctx.Err().
//
// Codes are always passed and compared in canonical form (coupon.Coupon's
// Canonical field); a store never case-folds or trims.
type Store interface {
	// Series returns the series with the given id.
	Series(ctx context.Context, id string) (series.Series, error)
	// ListSeries returns the series that match q, ordered by id.
	ListSeries(ctx context.Context, q SeriesQuery) ([]series.Series, error)

	// Coupon returns the coupon with the given id.
	Coupon(ctx context.Context, id string) (coupon.Coupon, error)
	// CouponsByCode returns the coupons whose canonical code is code, in
	// the given series or, when seriesID is "", in every series; ordered by
	// id. A common code has one coupon per customer it was issued to. A
	// code no coupon has gives an empty list and no error (not
	// ErrNotFound): the engine decides what an unknown code answers.
	CouponsByCode(ctx context.Context, seriesID, code string) ([]coupon.Coupon, error)
	// ListCoupons returns the coupons that match q, ordered by id.
	ListCoupons(ctx context.Context, q CouponQuery) ([]coupon.Coupon, error)

	// Redemption returns the redemption or hold with the given id.
	Redemption(ctx context.Context, id string) (coupon.Redemption, error)
	// RedemptionByKey returns the redemption or hold of the coupon with the
	// given idempotency key.
	RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error)
	// ListRedemptions returns the redemptions and holds that match q,
	// ordered by id.
	ListRedemptions(ctx context.Context, q RedemptionQuery) ([]coupon.Redemption, error)

	// Counters reads the counters named by keys into out, which has the
	// same length. A counter never bumped reads as the zero Count.
	Counters(ctx context.Context, keys []CounterKey, out []Count) error

	// Events returns the events that match q, in the order they were
	// applied.
	Events(ctx context.Context, q EventQuery) ([]coupon.Event, error)

	// EventsAfter reads the event feed: at most limit events whose
	// position is after the position after, in position order, and the
	// position to resume from (that of the last event returned, or after
	// when none is). It returns fewer than limit events only when no
	// further event can be read now. A limit of 0 means DefaultFeedLimit;
	// a negative one is an errcode.InvalidArgument error (see FeedLimit).
	// A position past the store's last event is a *FuturePositionError,
	// and one of a form the store never makes an errcode.InvalidArgument
	// error (see ForeignPosition).
	//
	// Positions order every event the store keeps, and the order is
	// fixed: a reader that resumes from the last position it handled
	// never misses an event and never sees one twice, however many
	// writers commit concurrently and in whatever order their commits
	// land. An event becomes readable once the change that wrote it is
	// committed and every event ordered before it is readable too; a
	// store that numbers events before it knows their order of commit
	// (a sequence drawn inside a transaction that commits late) must
	// hold later events back until the earlier ones are committed or
	// gone. The events of one change are consecutive and in the order
	// the change lists them, its notices' events last.
	EventsAfter(ctx context.Context, after Position, limit int) ([]FeedEvent, Position, error)

	// InAudience reports whether customer is on the audience list of the
	// series.
	InAudience(ctx context.Context, seriesID, customer string) (bool, error)
	// Audience returns the members of the audience list of q.SeriesID that
	// match q, ordered by customer (byte-wise, as Go compares strings).
	// Members are added and removed by Apply (Change.Audience).
	Audience(ctx context.Context, q AudienceQuery) ([]AudienceMember, error)

	// Apply writes c atomically: all of it or, on any error, none of it.
	// It returns an error matching errcode.ErrGuardFailed (a *GuardError)
	// when a counter guard refuses, errcode.ErrConflict (a *ConflictError)
	// when a version or status expectation does not hold, and
	// errcode.ErrAlreadyExists (an *ExistsError) when an insert, or an
	// update that gives a coupon an issue key, collides with a unique key.
	Apply(ctx context.Context, c *Change) error

	// InsertCoupons inserts Available (or, for uploads with customers,
	// Issued) coupons with their events in one batch, skipping every coupon
	// whose unique key (series, canonical code, slot), or whose issue key
	// (series, IssueKey) when it has one, already exists, and every event
	// of a skipped coupon. It returns how many it inserted.
	// Running it twice with the same batch inserts nothing the second time,
	// which is what makes bulk jobs resumable.
	InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error)

	// AddAudience adds customers to the series' audience list; customers
	// already on it are skipped. It records no time (their
	// AudienceMember.AddedAt reads as zero) and appends no event.
	//
	// Deprecated: the engine adds and removes members with Apply
	// (Change.Audience), which writes the membership and the customers'
	// history events together and tells a new member from an existing one;
	// use Engine.AddAudience. AddAudience stays for callers and adapters
	// written against it.
	AddAudience(ctx context.Context, seriesID string, customers []string) error

	// NextIndex returns the next unused index of the series' code
	// sequence: 0 until a change first advances it (Change.Sequence). It
	// reserves nothing: the change that uses the indexes advances the
	// sequence, atomically with the rest of it.
	NextIndex(ctx context.Context, seriesID string) (int64, error)

	// UpdateWhere moves every coupon matching f to the state u.To, at most
	// u.Limit of them (0: no limit), bumping each one's Version and
	// LastStatusChange and appending one event each built from u.Event with
	// the coupon's id, series, code and holder filled in. It returns the
	// coupons as they are after the change, ordered by id. It is how the
	// engine revokes by filter and expires by time in sets rather than one
	// round trip per coupon; call it repeatedly until it returns fewer than
	// u.Limit coupons.
	UpdateWhere(ctx context.Context, f CouponFilter, u BulkUpdate) ([]coupon.Coupon, error)
}

// SeriesVersioner is an optional interface a Store may implement: the
// stored version of a series, without reading the series. The engine uses
// it to reuse a series it has already read while its version is unchanged,
// which saves decoding and copying it on every redemption.
type SeriesVersioner interface {
	SeriesVersion(ctx context.Context, id string) (int64, error)
}

// CouponsByCodeAppender is an optional interface a Store may implement:
// CouponsByCode appending to a caller's slice, as strconv.AppendInt does.
// The engine looks up a code on every redemption; with it, it reuses one
// slice instead of allocating a result each time.
type CouponsByCodeAppender interface {
	// AppendCouponsByCode appends to dst what CouponsByCode returns and
	// returns the extended slice.
	AppendCouponsByCode(ctx context.Context, dst []coupon.Coupon, seriesID, code string) ([]coupon.Coupon, error)
}

// SeriesQuery selects series. Zero fields select everything.
type SeriesQuery struct {
	// Place, when set, keeps the series whose redemption places name
	// exactly this till, store, zone or concept. It does not widen: a zone
	// query does not return series tagged to the zone's stores.
	Place *limits.PlaceRef
	// Status, when set, keeps series in that status.
	Status series.Status
}

// Match reports whether s passes every set field of q: the rule of
// ListSeries, for a store that filters in Go.
func (q *SeriesQuery) Match(s *series.Series) bool {
	return (q.Status == 0 || s.Status == q.Status) &&
		(q.Place == nil || s.Redemption.Places.Contains(q.Place.Kind, q.Place.ID))
}

// CouponFilter selects coupons for reading or bulk updates. Zero fields
// select everything; every set field must match.
type CouponFilter struct {
	SeriesID string
	Holder   string
	// States keeps coupons whose stored state is one of these.
	States []coupon.State
	// Unused keeps coupons with no redemption and no hold.
	Unused bool
	// ExpiresBefore keeps coupons whose ExpiresAt is set and not after
	// this time.
	ExpiresBefore time.Time
	// ExpiresAfter keeps coupons whose ExpiresAt is after this time.
	ExpiresAfter time.Time
	// IDs keeps the coupons with these ids.
	IDs []string
	// IssueKeys keeps the coupons whose IssueKey is one of these (never a
	// coupon without one). Stores index it with SeriesID: the engine reads
	// the coupons of a series' issue keys when an issue may be a repeat.
	IssueKeys []string
}

// Match reports whether c passes every set field of f, as the fields'
// comments describe: the rule of ListCoupons and UpdateWhere, for a store
// that filters in Go.
func (f *CouponFilter) Match(c *coupon.Coupon) bool {
	switch {
	case f.SeriesID != "" && c.SeriesID != f.SeriesID,
		f.Holder != "" && c.Holder != f.Holder,
		len(f.States) > 0 && !slices.Contains(f.States, c.State),
		f.Unused && (c.Redemptions != 0 || c.Holds != 0),
		!f.ExpiresBefore.IsZero() && (c.ExpiresAt.IsZero() || c.ExpiresAt.After(f.ExpiresBefore)),
		!f.ExpiresAfter.IsZero() && (c.ExpiresAt.IsZero() || !c.ExpiresAt.After(f.ExpiresAfter)),
		len(f.IDs) > 0 && !slices.Contains(f.IDs, c.ID),
		len(f.IssueKeys) > 0 && (c.IssueKey == "" || !slices.Contains(f.IssueKeys, c.IssueKey)):
		return false
	}
	return true
}

// CouponQuery is a CouponFilter with paging.
type CouponQuery struct {
	CouponFilter
	// AfterID keeps coupons with ids greater than this, for paging.
	AfterID string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// RedemptionQuery selects redemptions and holds. Zero fields select
// everything; every set field must match.
type RedemptionQuery struct {
	CouponID string
	SeriesID string
	// Customer keeps the records of this redeemer (Redemption.Customer).
	Customer string
	Status   coupon.RedemptionStatus // zero: any
	// HoldExpiresBefore keeps records whose HoldExpiresAt is set and not
	// after this time, whatever their status (a confirmed hold keeps its
	// HoldExpiresAt): combine it with Status StatusHeld for live holds.
	HoldExpiresBefore time.Time
	Limit             int
}

// Match reports whether r passes every set field of q but Limit: the rule
// of ListRedemptions, for a store that filters in Go.
func (q *RedemptionQuery) Match(r *coupon.Redemption) bool {
	switch {
	case q.CouponID != "" && r.CouponID != q.CouponID,
		q.SeriesID != "" && r.SeriesID != q.SeriesID,
		q.Customer != "" && r.Customer != q.Customer,
		q.Status != 0 && r.Status != q.Status,
		!q.HoldExpiresBefore.IsZero() && (r.HoldExpiresAt.IsZero() || r.HoldExpiresAt.After(q.HoldExpiresBefore)):
		return false
	}
	return true
}

// EventQuery selects events. Zero fields select everything.
type EventQuery struct {
	CouponID string
	Customer string
	SeriesID string
	Limit    int
}

// Match reports whether e passes every set field of q but Limit: the rule
// of Events, for a store that filters in Go.
func (q *EventQuery) Match(e *coupon.Event) bool {
	return (q.CouponID == "" || e.CouponID == q.CouponID) &&
		(q.Customer == "" || e.Customer == q.Customer) &&
		(q.SeriesID == "" || e.SeriesID == q.SeriesID)
}

// AudienceQuery selects members of one series' audience list.
type AudienceQuery struct {
	SeriesID string
	// Customers, when not empty, keeps only these customers: whether many
	// customers are members, in one read. Repeated customers are returned
	// once.
	Customers []string
	// After keeps customers greater than this, for paging.
	After string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// AudienceMember is one customer on a series' audience list.
type AudienceMember struct {
	Customer string `json:"customer"`
	// AddedAt is when the customer was added (AudienceUpdate.At); zero for
	// a customer added by the deprecated Store.AddAudience.
	AddedAt time.Time `json:"added_at,omitzero"`
}

// BulkUpdate says what UpdateWhere does to each matching coupon.
type BulkUpdate struct {
	To    coupon.State
	At    time.Time
	Limit int
	// Event is the template of the event appended for each coupon. Its
	// Kind, Actor, Reason and At are kept; the store fills in ID (see
	// EventIDPrefix), CouponID, SeriesID, Code and Customer (the holder).
	Event coupon.Event
	// EventIDPrefix makes each event's id: the prefix followed by the
	// coupon's id.
	EventIDPrefix string
}

// CounterKey names one counter. Which fields are set depends on the
// counter's scope (see limits.Counter): Series always; for the code-level
// counters (CodeUses, CustomerCodeUses), Code and Holder, the coupon's
// canonical code and its slot (see Slot: the holder of a coupon of a
// shared code, which has one coupon per customer, and "" otherwise), so
// that with Series they are the coupon's unique key; Customer for the
// per-customer counters (CustomerCodeUses among them). Stores treat the
// fields as opaque strings, which may contain any byte, and keep one
// counter per distinct key.
type CounterKey struct {
	Counter  limits.Counter
	Series   string
	Code     string
	Holder   string
	Customer string
}

// String returns the key as counter/series/code/holder/customer, for
// messages.
func (k CounterKey) String() string {
	return k.Counter.String() + "/" + k.Series + "/" + k.Code + "/" + k.Holder + "/" + k.Customer
}

// Count is a counter's value and the time of its last increment (zero if
// never).
type Count struct {
	N    int64
	Last time.Time
}
