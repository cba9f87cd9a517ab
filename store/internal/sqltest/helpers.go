package sqltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

var ctx = context.Background()

// Issued returns an Issued coupon of series sid with code code, held by
// holder.
func Issued(id, sid, code, holder string) coupon.Coupon {
	return coupon.Coupon{
		ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Issued, Holder: holder,
		CreatedAt: t0, IssuedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(30 * 24 * time.Hour),
		LastStatusChange: t0.Add(time.Minute), Version: 2,
	}
}

// Available returns an Available coupon of series sid with code code.
func Available(id, sid, code string) coupon.Coupon {
	return coupon.Coupon{ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Available,
		CreatedAt: t0, LastStatusChange: t0, Version: 1}
}

func mustApply(t *testing.T, s store.Store, c *store.Change) {
	t.Helper()
	if err := s.Apply(ctx, c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func wantErr[T error](t *testing.T, err error, code *errcode.Error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T), want %T", err, err, target)
	}
	if !errors.Is(err, code) {
		t.Fatalf("error %v does not match code %d", err, code.Code)
	}
	return target
}
