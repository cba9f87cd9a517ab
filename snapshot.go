package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// series returns the stored series with the given id. When the store can
// tell a series' version cheaply (store.SeriesVersioner), a series already
// read is reused while its version is unchanged. The result is shared and
// must not be modified.
func (e *Engine) series(ctx context.Context, id string) (*series.Series, error) {
	sv, ok := e.st.(store.SeriesVersioner)
	if ok {
		v, err := sv.SeriesVersion(ctx, id)
		if err != nil {
			return nil, err
		}
		if c, hit := e.seriesCache.Load(id); hit && c.(*series.Series).Version == v {
			return c.(*series.Series), nil
		}
	}
	s, err := e.st.Series(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok {
		e.seriesCache.Store(id, &s)
	}
	return &s, nil
}

// seriesLocation returns the time zone of the series with the given id.
func (e *Engine) seriesLocation(ctx context.Context, seriesID string) (*time.Location, error) {
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return nil, err
	}
	return e.location(s)
}

// location returns the series' time zone, loaded once per zone name.
func (e *Engine) location(s *series.Series) (*time.Location, error) {
	if l, ok := e.locs.Load(s.TimeZone); ok {
		return l.(*time.Location), nil
	}
	l, err := s.Location()
	if err != nil {
		return nil, err
	}
	e.locs.Store(s.TimeZone, l)
	return l, nil
}

// couponOf finds the one coupon a code names: for a common code, the
// holder's (holder must then be given).
func (e *Engine) couponOf(ctx context.Context, seriesID, code, holder string) (coupon.Coupon, *series.Series, error) {
	cs, sp, err := e.lookupCode(ctx, seriesID, code, nil)
	if err != nil {
		return coupon.Coupon{}, nil, err
	}
	s, err := e.single(ctx, cs, sp, code)
	if err != nil {
		return coupon.Coupon{}, nil, err
	}
	if !s.Source.SharedCode() {
		return cs[0], s, nil
	}
	if holder == "" {
		return coupon.Coupon{}, nil, errcode.New(errcode.GenericNotSupported, "Customer", "a common code names one coupon per customer; give the customer")
	}
	for _, c := range cs {
		if c.Holder == holder {
			return c, s, nil
		}
	}
	return coupon.Coupon{}, nil, codeNotFound(code)
}

// useOf reads the use a UseRef names, with its coupon and series. A use of
// another customer than the ref's is reported as not found.
func (e *Engine) useOf(ctx context.Context, ref *UseRef) (coupon.Redemption, coupon.Coupon, series.Series, error) {
	id, err := e.useID(ctx, ref)
	if err != nil {
		return coupon.Redemption{}, coupon.Coupon{}, series.Series{}, err
	}
	r, c, s, err := e.redemption(ctx, id)
	if err != nil || ref.Customer.IsZero() {
		return r, c, s, err
	}
	cust, err := e.customers.Resolve(ctx, ref.Customer)
	if err != nil {
		return r, c, s, err
	}
	if r.Customer != cust.ID {
		return r, c, s, errcode.New(errcode.RedemptionNotFound, "ID", "no such redemption")
	}
	return r, c, s, nil
}

// redemption reads a redemption with its coupon and series.
func (e *Engine) redemption(ctx context.Context, id string) (coupon.Redemption, coupon.Coupon, series.Series, error) {
	r, err := e.st.Redemption(ctx, id)
	if err != nil {
		if errors.Is(err, errcode.ErrNotFound) {
			err = errcode.New(errcode.RedemptionNotFound, "RedemptionID", "no redemption "+id)
		}
		return r, coupon.Coupon{}, series.Series{}, err
	}
	c, err := e.st.Coupon(ctx, r.CouponID)
	if err != nil {
		return r, c, series.Series{}, err
	}
	if staleUse(r, c) {
		return r, c, series.Series{}, &store.ConflictError{Kind: "redemption", ID: id}
	}
	s, err := e.st.Series(ctx, c.SeriesID)
	return r, c, s, err
}

// useID returns the id of the use a UseRef names.
func (e *Engine) useID(ctx context.Context, ref *UseRef) (string, error) {
	if ref.ID != "" {
		return ref.ID, nil
	}
	if ref.Code == "" || ref.IdempotencyKey == "" {
		return "", errcode.New(errcode.InvalidArgument, "ID", "give the id, or the code and the idempotency key")
	}
	cs, _, err := e.lookupCode(ctx, ref.SeriesID, ref.Code, nil)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		r, err := e.st.RedemptionByKey(ctx, c.ID, ref.IdempotencyKey)
		if err == nil {
			return r.ID, nil
		}
		if !errors.Is(err, errcode.ErrNotFound) {
			return "", err
		}
	}
	return "", errcode.New(errcode.RedemptionNotFound, "IdempotencyKey", "no use of "+ref.Code+" with key "+ref.IdempotencyKey)
}

// staleUse reports whether r was read before a concurrent confirmation,
// release or reversal of it that its coupon c, read after, already shows:
// a hold or redemption its coupon no longer counts. The transitions would
// refuse it as not found; reading both again gives the true answer.
func staleUse(r coupon.Redemption, c coupon.Coupon) bool {
	return r.Status == coupon.StatusHeld && c.Holds < 1 || r.Status == coupon.StatusRedeemed && c.Redemptions < 1
}
