package sqltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	couponkit "github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// RedeemSeries is an uploaded series whose coupons each customer redeems
// once, with at most maxUses redemptions in all.
func RedeemSeries(id string, maxUses limits.Limit) series.Series {
	return series.Series{
		ID: id, Name: "hot " + id, TimeZone: "UTC",
		Source:     series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: maxUses},
	}
}

// NewEngine returns an engine over s whose clock starts at now.
func NewEngine(t testing.TB, s store.Store, now time.Time) *couponkit.Engine {
	t.Helper()
	e, err := couponkit.New(couponkit.Config{
		Store: s, Now: func() time.Time { return now },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("0123456789abcdef0123456789abcdef"), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// IssuedCoupons stores n coupons of series sid issued to customers
// cust0..cust<n-1>, with codes HOT0.., directly through InsertCoupons.
func IssuedCoupons(t testing.TB, s store.Store, sid string, n int, at time.Time) {
	t.Helper()
	const chunk = 5000
	for from := 0; from < n; from += chunk {
		var cs []coupon.Coupon
		for i := from; i < min(from+chunk, n); i++ {
			code := fmt.Sprintf("HOT%07d", i)
			cs = append(cs, coupon.Coupon{ID: fmt.Sprintf("%s-%07d", sid, i), SeriesID: sid, Code: code, Canonical: code,
				State: coupon.Issued, Holder: fmt.Sprintf("cust%d", i), CreatedAt: at, IssuedAt: at,
				ExpiresAt: at.Add(30 * 24 * time.Hour), LastStatusChange: at, Version: 2})
		}
		if _, err := s.InsertCoupons(context.Background(), cs, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// RedeemReq is a redemption of the i-th coupon of IssuedCoupons by its
// holder, with the idempotency key key.
func RedeemReq(i int, key string) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{
		Code: fmt.Sprintf("HOT%07d", i), Customer: couponkit.ByID(fmt.Sprintf("cust%d", i)), IdempotencyKey: key,
		Bill: series.Money{Amount: decimal.NewFromInt(40)}, Place: limits.Place{Till: "t1"},
	}
}

func testEngineLifecycle(t *testing.T, be Backend) {
	s := be.Open(t)
	now := t0
	e := NewEngine(t, s, now)
	sr, err := e.CreateSeries(ctx, RedeemSeries("", 3))
	if err != nil {
		t.Fatal(err)
	}
	var rows []couponkit.UploadRow
	for i := range 6 {
		rows = append(rows, couponkit.UploadRow{Code: fmt.Sprintf("hot%07d", i), Customer: couponkit.ByID(fmt.Sprintf("cust%d", i))})
	}
	rows = append(rows, couponkit.UploadRow{Code: "SPARE1"}, couponkit.UploadRow{Code: "SPARE2"})
	up, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: sr.ID, Rows: rows, Actor: "ops"})
	if err != nil || up.Added != 8 || len(up.Failed) != 0 {
		t.Fatalf("Upload: %+v, %v", up, err)
	}
	if up, _ := e.Upload(ctx, couponkit.UploadRequest{SeriesID: sr.ID, Rows: rows, Actor: "ops"}); up.Added != 0 || up.Skipped != 8 {
		t.Errorf("Upload again: %+v", up)
	}
	res, err := e.Redeem(ctx, RedeemReq(0, "pos-0"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Discount.Amount.Equal(decimal.NewFromInt(4)) || res.Coupon.State != coupon.Redeemed {
		t.Errorf("redemption %+v", res)
	}
	again, err := e.Redeem(ctx, RedeemReq(0, "pos-0"))
	if err != nil || !again.Replayed || again.Redemption.ID != res.Redemption.ID {
		t.Errorf("replay: %+v, %v", again, err)
	}
	for i := 1; i <= 2; i++ {
		if _, err := e.Redeem(ctx, RedeemReq(i, fmt.Sprintf("pos-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.Redeem(ctx, RedeemReq(3, "pos-3"))
	if !errors.Is(err, errcode.ErrLimitReached) {
		t.Fatalf("redemption past the series level: %v", err)
	}
	if _, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: res.Redemption.ID}, Actor: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Redeem(ctx, RedeemReq(3, "pos-3")); err != nil {
		t.Fatalf("redemption after a reversal: %v", err)
	}
	// A hold, released.
	h, err := e.Hold(ctx, couponkit.HoldRequest{RedeemRequest: RedeemReq(4, "pos-4h"), TTL: time.Minute})
	if !errors.Is(err, errcode.ErrLimitReached) {
		t.Fatalf("hold past the level: %+v, %v", h, err)
	}
	cnt, err := e.Counters(ctx, sr.ID)
	if err != nil || cnt.Uses != 3 || cnt.Issued != 6 {
		t.Errorf("counters %+v, %v", cnt, err)
	}
	rv, err := e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: sr.ID, Scope: couponkit.OnlyUnissued, Actor: "ops"})
	if err != nil || rv.RevokedCount != 2 {
		t.Errorf("revoke unissued: %+v, %v", rv, err)
	}
	rv, err = e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: sr.ID, Scope: couponkit.AllUnredeemed, Actor: "ops"})
	if err != nil || rv.RevokedCount != 3 { // cust0 (reversed), cust4, cust5
		t.Errorf("revoke unredeemed: %+v, %v", rv, err)
	}
	hist, err := e.CustomerHistory(ctx, couponkit.ByID("cust0"), "")
	if err != nil || len(hist) != 4 { // issued, redeemed, reversed, revoked
		t.Errorf("history of cust0: %d events, %v", len(hist), err)
	}
}

// testHotSeriesRace redeems distinct coupons of one series from 32
// goroutines against a series level: exactly the level succeeds.
func testHotSeriesRace(t *testing.T, be Backend) {
	s := be.Open(t)
	const coupons, level, clients = 96, 40, 32
	e := NewEngine(t, s, t0)
	sr, err := e.CreateSeries(ctx, RedeemSeries("hot", level))
	if err != nil {
		t.Fatal(err)
	}
	IssuedCoupons(t, s, sr.ID, coupons, t0)
	var next, ok, denied atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= coupons {
					return
				}
				_, err := e.Redeem(ctx, RedeemReq(i, "k"))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, errcode.ErrLimitReached):
					denied.Add(1)
				default:
					t.Errorf("Redeem %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != level || denied.Load() != coupons-level {
		t.Errorf("%d redeemed, %d denied; want %d and %d", ok.Load(), denied.Load(), level, coupons-level)
	}
	if c, _ := e.Counters(ctx, sr.ID); c.Uses != level {
		t.Errorf("series uses %d, want %d", c.Uses, level)
	}
	rs, _ := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: sr.ID})
	if len(rs) != level {
		t.Errorf("%d redemptions stored, want %d", len(rs), level)
	}
}

func testGenerate(t *testing.T, be Backend) {
	s := be.Open(t)
	e := NewEngine(t, s, t0)
	sr := RedeemSeries("gen", 0)
	sr.Source = series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric}
	sr, err := e.CreateSeries(ctx, sr)
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	n, err := e.Generate(ctx, couponkit.GenerateRequest{SeriesID: sr.ID, N: 15000, Progress: func(done int) { progress = append(progress, done) }})
	if err != nil || n != 15000 || len(progress) != 2 || progress[1] != 15000 {
		t.Fatalf("Generate: %d, %v, progress %v", n, err, progress)
	}
	all, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sr.ID}, Limit: 30000})
	if len(all) != 15000 {
		t.Errorf("%d coupons", len(all))
	}
	res, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: sr.ID, Customer: couponkit.ByID("alice")})
	if err != nil || res.Coupon.Holder != "alice" {
		t.Errorf("Issue from the pool: %+v, %v", res, err)
	}
}
