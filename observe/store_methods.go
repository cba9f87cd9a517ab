package observe

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The store calls, one Op per method of store.Store and of its optional
// interfaces.
const (
	StoreSeries              Op = "store.Series"
	StoreListSeries          Op = "store.ListSeries"
	StoreCoupon              Op = "store.Coupon"
	StoreCouponsByCode       Op = "store.CouponsByCode"
	StoreListCoupons         Op = "store.ListCoupons"
	StoreRedemption          Op = "store.Redemption"
	StoreRedemptionByKey     Op = "store.RedemptionByKey"
	StoreListRedemptions     Op = "store.ListRedemptions"
	StoreCounters            Op = "store.Counters"
	StoreEvents              Op = "store.Events"
	StoreEventsAfter         Op = "store.EventsAfter"
	StoreInAudience          Op = "store.InAudience"
	StoreAudience            Op = "store.Audience"
	StoreApply               Op = "store.Apply"
	StoreInsertCoupons       Op = "store.InsertCoupons"
	StoreAddAudience         Op = "store.AddAudience"
	StoreNextIndex           Op = "store.NextIndex"
	StoreUpdateWhere         Op = "store.UpdateWhere"
	StoreSeriesVersion       Op = "store.SeriesVersion"
	StoreAppendCouponsByCode Op = "store.AppendCouponsByCode"
	StoreReadCode            Op = "store.ReadCode"
	StoreLease               Op = "store.Lease"
	StoreLeases              Op = "store.Leases"
	StoreLeaseOp             Op = "store.LeaseOp"
	StoreTillEntry           Op = "store.TillEntry"
	StoreTillEntries         Op = "store.TillEntries"
	StoreCheckpoint          Op = "store.Checkpoint"
	StoreSaveCheckpoint      Op = "store.SaveCheckpoint"
)

// Series calls the store's Series and reports it.
func (o *observed) Series(ctx context.Context, id string) (series.Series, error) {
	ctx, rec := o.start(ctx, StoreSeries)
	v, err := o.inner.Series(ctx, id)
	rec.end(err)
	return v, err
}

// ListSeries calls the store's ListSeries and reports it.
func (o *observed) ListSeries(ctx context.Context, q store.SeriesQuery) ([]series.Series, error) {
	ctx, rec := o.start(ctx, StoreListSeries)
	v, err := o.inner.ListSeries(ctx, q)
	rec.end(err)
	return v, err
}

// Coupon calls the store's Coupon and reports it.
func (o *observed) Coupon(ctx context.Context, id string) (coupon.Coupon, error) {
	ctx, rec := o.start(ctx, StoreCoupon)
	v, err := o.inner.Coupon(ctx, id)
	rec.end(err)
	return v, err
}

// CouponsByCode calls the store's CouponsByCode and reports it.
func (o *observed) CouponsByCode(ctx context.Context, seriesID, code string) ([]coupon.Coupon, error) {
	ctx, rec := o.start(ctx, StoreCouponsByCode)
	v, err := o.inner.CouponsByCode(ctx, seriesID, code)
	rec.end(err)
	return v, err
}

// ListCoupons calls the store's ListCoupons and reports it.
func (o *observed) ListCoupons(ctx context.Context, q store.CouponQuery) ([]coupon.Coupon, error) {
	ctx, rec := o.start(ctx, StoreListCoupons)
	v, err := o.inner.ListCoupons(ctx, q)
	rec.end(err)
	return v, err
}

// Redemption calls the store's Redemption and reports it.
func (o *observed) Redemption(ctx context.Context, id string) (coupon.Redemption, error) {
	ctx, rec := o.start(ctx, StoreRedemption)
	v, err := o.inner.Redemption(ctx, id)
	rec.end(err)
	return v, err
}

// RedemptionByKey calls the store's RedemptionByKey and reports it.
func (o *observed) RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error) {
	ctx, rec := o.start(ctx, StoreRedemptionByKey)
	v, err := o.inner.RedemptionByKey(ctx, couponID, key)
	rec.end(err)
	return v, err
}

// ListRedemptions calls the store's ListRedemptions and reports it.
func (o *observed) ListRedemptions(ctx context.Context, q store.RedemptionQuery) ([]coupon.Redemption, error) {
	ctx, rec := o.start(ctx, StoreListRedemptions)
	v, err := o.inner.ListRedemptions(ctx, q)
	rec.end(err)
	return v, err
}

// Counters calls the store's Counters and reports it.
func (o *observed) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	ctx, rec := o.start(ctx, StoreCounters)
	err := o.inner.Counters(ctx, keys, out)
	rec.end(err)
	return err
}

// Events calls the store's Events and reports it.
func (o *observed) Events(ctx context.Context, q store.EventQuery) ([]coupon.Event, error) {
	ctx, rec := o.start(ctx, StoreEvents)
	v, err := o.inner.Events(ctx, q)
	rec.end(err)
	return v, err
}

// EventsAfter calls the store's EventsAfter and reports it.
func (o *observed) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	ctx, rec := o.start(ctx, StoreEventsAfter)
	v, w, err := o.inner.EventsAfter(ctx, after, limit)
	rec.end(err)
	return v, w, err
}

// InAudience calls the store's InAudience and reports it.
func (o *observed) InAudience(ctx context.Context, seriesID, customer string) (bool, error) {
	ctx, rec := o.start(ctx, StoreInAudience)
	v, err := o.inner.InAudience(ctx, seriesID, customer)
	rec.end(err)
	return v, err
}

// Audience calls the store's Audience and reports it.
func (o *observed) Audience(ctx context.Context, q store.AudienceQuery) ([]store.AudienceMember, error) {
	ctx, rec := o.start(ctx, StoreAudience)
	v, err := o.inner.Audience(ctx, q)
	rec.end(err)
	return v, err
}

// Apply calls the store's Apply and reports it.
func (o *observed) Apply(ctx context.Context, c *store.Change) error {
	ctx, rec := o.start(ctx, StoreApply)
	err := o.inner.Apply(ctx, c)
	rec.end(err)
	return err
}

// InsertCoupons calls the store's InsertCoupons and reports it.
func (o *observed) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	ctx, rec := o.start(ctx, StoreInsertCoupons)
	v, err := o.inner.InsertCoupons(ctx, coupons, events)
	rec.end(err)
	return v, err
}

// AddAudience calls the store's AddAudience and reports it.
func (o *observed) AddAudience(ctx context.Context, seriesID string, customers []string) error {
	ctx, rec := o.start(ctx, StoreAddAudience)
	//lint:ignore SA1019 the wrapper passes on every call a caller makes
	err := o.inner.AddAudience(ctx, seriesID, customers)
	rec.end(err)
	return err
}

// NextIndex calls the store's NextIndex and reports it.
func (o *observed) NextIndex(ctx context.Context, seriesID string) (int64, error) {
	ctx, rec := o.start(ctx, StoreNextIndex)
	v, err := o.inner.NextIndex(ctx, seriesID)
	rec.end(err)
	return v, err
}

// UpdateWhere calls the store's UpdateWhere and reports it.
func (o *observed) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	ctx, rec := o.start(ctx, StoreUpdateWhere)
	v, err := o.inner.UpdateWhere(ctx, f, u)
	rec.end(err)
	return v, err
}

// versionerPart adds the methods of store.SeriesVersioner to an observed store whose
// inner store has them.
type versionerPart observed

// SeriesVersion calls the store's SeriesVersion and reports it.
func (x *versionerPart) SeriesVersion(ctx context.Context, id string) (int64, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreSeriesVersion)
	v, err := o.inner.(store.SeriesVersioner).SeriesVersion(ctx, id)
	rec.end(err)
	return v, err
}

// appenderPart adds the methods of store.CouponsByCodeAppender to an observed store whose
// inner store has them.
type appenderPart observed

// AppendCouponsByCode calls the store's AppendCouponsByCode and reports it.
func (x *appenderPart) AppendCouponsByCode(ctx context.Context, dst []coupon.Coupon, seriesID, code string) ([]coupon.Coupon, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreAppendCouponsByCode)
	v, err := o.inner.(store.CouponsByCodeAppender).AppendCouponsByCode(ctx, dst, seriesID, code)
	rec.end(err)
	return v, err
}

// codeReaderPart adds the methods of store.CodeReader to an observed store whose
// inner store has them.
type codeReaderPart observed

// ReadCode calls the store's ReadCode and reports it.
func (x *codeReaderPart) ReadCode(ctx context.Context, seriesID, code string, counters []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreReadCode)
	v, err := o.inner.(store.CodeReader).ReadCode(ctx, seriesID, code, counters, dst)
	rec.end(err)
	return v, err
}

// leasesPart adds the methods of store.LeaseStore to an observed store whose
// inner store has them.
type leasesPart observed

// Lease calls the store's Lease and reports it.
func (x *leasesPart) Lease(ctx context.Context, id string) (lease.Lease, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreLease)
	v, err := o.inner.(store.LeaseStore).Lease(ctx, id)
	rec.end(err)
	return v, err
}

// Leases calls the store's Leases and reports it.
func (x *leasesPart) Leases(ctx context.Context, q store.LeaseQuery) ([]lease.Lease, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreLeases)
	v, err := o.inner.(store.LeaseStore).Leases(ctx, q)
	rec.end(err)
	return v, err
}

// LeaseOp calls the store's LeaseOp and reports it.
func (x *leasesPart) LeaseOp(ctx context.Context, till, key string) (lease.Op, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreLeaseOp)
	v, err := o.inner.(store.LeaseStore).LeaseOp(ctx, till, key)
	rec.end(err)
	return v, err
}

// TillEntry calls the store's TillEntry and reports it.
func (x *leasesPart) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreTillEntry)
	v, err := o.inner.(store.LeaseStore).TillEntry(ctx, till, key)
	rec.end(err)
	return v, err
}

// TillEntries calls the store's TillEntries and reports it.
func (x *leasesPart) TillEntries(ctx context.Context, q store.TillEntryQuery) ([]lease.Entry, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreTillEntries)
	v, err := o.inner.(store.LeaseStore).TillEntries(ctx, q)
	rec.end(err)
	return v, err
}

// checkpointsPart adds the methods of store.Checkpointer to an observed store whose
// inner store has them.
type checkpointsPart observed

// Checkpoint calls the store's Checkpoint and reports it.
func (x *checkpointsPart) Checkpoint(ctx context.Context, consumer string) (store.Position, error) {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreCheckpoint)
	v, err := o.inner.(store.Checkpointer).Checkpoint(ctx, consumer)
	rec.end(err)
	return v, err
}

// SaveCheckpoint calls the store's SaveCheckpoint and reports it.
func (x *checkpointsPart) SaveCheckpoint(ctx context.Context, consumer string, p store.Position) error {
	o := (*observed)(x)
	ctx, rec := o.start(ctx, StoreSaveCheckpoint)
	err := o.inner.(store.Checkpointer).SaveCheckpoint(ctx, consumer, p)
	rec.end(err)
	return err
}

// optional returns the mask of the optional interfaces st implements:
// store.SeriesVersioner, store.CouponsByCodeAppender, store.CodeReader,
// store.LeaseStore and store.Checkpointer, bits 0 to 4.
func optional(st store.Store) uint {
	var m uint
	if _, ok := st.(store.SeriesVersioner); ok {
		m |= 1
	}
	if _, ok := st.(store.CouponsByCodeAppender); ok {
		m |= 2
	}
	if _, ok := st.(store.CodeReader); ok {
		m |= 4
	}
	if _, ok := st.(store.LeaseStore); ok {
		m |= 8
	}
	if _, ok := st.(store.Checkpointer); ok {
		m |= 16
	}
	return m
}
