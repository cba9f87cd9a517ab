package observe

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/store"
)

// Store returns st with every call reported to obs, as an operation named
// "store." and the method's name (StoreApply, StoreReadCode, ...), or st
// itself when obs is nil. The store it returns implements exactly the
// optional interfaces of package store that st implements
// (store.SeriesVersioner, store.CouponsByCodeAppender, store.CodeReader,
// store.LeaseStore, store.Checkpointer), so that whoever type-asserts them
// finds what st offers and no more. It keeps no state: every call goes to
// st, with the context obs.Start returns.
func Store(st store.Store, obs Observer) store.Store {
	if obs == nil || st == nil {
		return st
	}
	return wrap(&observed{inner: st, obs: obs}, optional(st))
}

// observed is a store.Store reporting each call to obs.
type observed struct {
	inner store.Store
	obs   Observer
}

// call is one store call being observed.
type call struct {
	done  func(Outcome)
	start time.Time
}

func (o *observed) start(ctx context.Context, op Op) (context.Context, call) {
	ctx, done := o.obs.Start(ctx, op)
	return ctx, call{done: done, start: time.Now()}
}

func (c call) end(err error) { c.done(OutcomeOf(err, time.Since(c.start))) }
