package coupon_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/internal/jsontest"
)

// The records of this package are written to JSON with snake_case keys
// and read back unchanged, every field set.
func TestJSON(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	later := func(d time.Duration) time.Time { return at.Add(d) }
	for _, typ := range []reflect.Type{
		reflect.TypeFor[coupon.Coupon](), reflect.TypeFor[coupon.Redemption](),
		reflect.TypeFor[coupon.Location](), reflect.TypeFor[coupon.Event](),
	} {
		jsontest.CheckSnakeCase(t, typ)
	}
	jsontest.RoundTrip(t, coupon.Coupon{
		ID: "c1", SeriesID: "s1", Code: "ab-12", Canonical: "AB12", Shared: true, State: coupon.Issued, Holder: "alice",
		CreatedAt: at, IssuedAt: later(time.Hour), ExpiresAt: later(48 * time.Hour), Redemptions: 2, Holds: 1,
		Reversed: true, LastStatusChange: later(2 * time.Hour), ReissuedFrom: "c0", ReissuedTo: "c2", IssueKey: "crm-1", Version: 7,
	})
	jsontest.RoundTrip(t, coupon.Redemption{
		ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "bob", IdempotencyKey: "pos-1", Status: coupon.StatusReversed,
		At: at, HoldExpiresAt: later(time.Minute), ConfirmedAt: later(time.Second), ReleasedAt: later(2 * time.Minute),
		ReversedAt: later(time.Hour), Location: coupon.Location{Till: "t1", Store: "s1", Zone: "north", Concept: "outlet"},
		Bill: decimal.RequireFromString("123.45"), Discount: decimal.RequireFromString("12.35"), Currency: "EUR",
	})
	jsontest.RoundTrip(t, coupon.Event{
		ID: "e1", Kind: coupon.EventReissued, CouponID: "c1", SeriesID: "s1", Code: "AB12", Customer: "alice",
		Actor: "support", At: at, Reason: "lost", Counterparty: "bob", RedemptionID: "r1",
		OldCode: "AB12", NewCode: "CD34", NewCouponID: "c2", Notify: true,
	})
}
