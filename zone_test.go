package couponkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// Every result gives its times in the series' time zone, whatever zone the
// clock reads (here UTC) and the store keeps: the operations' own answers,
// the answers of repeated idempotency keys, and the queries.
func TestResultsInSeriesZone(t *testing.T) {
	const zone = "Europe/Berlin"
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	e, err := couponkit.New(couponkit.Config{
		Store:   memstore.New(),
		Now:     clk.now,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a test key, not a secret"), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{
		Name: "zoned", TimeZone: zone, Transferable: true,
		Reminders: []series.Reminder{{DaysBefore: 1, At: series.At(10, 0), Channel: "sms"}},
		Source:    series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Expiry:    series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:  series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	z := zoneCheck{t: t, zone: zone}
	alice, bob := couponkit.ByID("alice"), couponkit.ByID("bob")
	issue := func() coupon.Coupon {
		t.Helper()
		res, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: alice})
		if err != nil {
			t.Fatal(err)
		}
		z.coupon("Issue", res.Coupon)
		return res.Coupon
	}
	redeemed, held, moving := issue(), issue(), issue()
	clk.advance(time.Hour)

	use := couponkit.RedeemRequest{Code: redeemed.Code, Customer: alice, IdempotencyKey: "pos-1", Bill: eur("60")}
	check, err := e.Validate(ctx, use)
	z.must("Validate", err)
	z.coupon("Validate", check.Coupon)
	z.result("Redeem", "")(e.Redeem(ctx, use))
	z.result("Redeem", "replayed")(e.Redeem(ctx, use))

	hold := couponkit.HoldRequest{RedeemRequest: couponkit.RedeemRequest{Code: held.Code, Customer: alice, IdempotencyKey: "cart-1", Bill: eur("80")}, TTL: 15 * time.Minute}
	z.result("Hold", "")(e.Hold(ctx, hold))
	z.result("Hold", "replayed")(e.Hold(ctx, hold))
	clk.advance(5 * time.Minute)
	confirm := couponkit.ConfirmRequest{Hold: couponkit.UseRef{Code: held.Code, IdempotencyKey: "cart-1"}}
	z.result("Confirm", "")(e.Confirm(ctx, confirm))
	z.result("Confirm", "replayed")(e.Confirm(ctx, confirm))
	z.result("Reverse", "")(e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: redeemed.Code, IdempotencyKey: "pos-1"}}))

	moved, err := e.Transfer(ctx, couponkit.TransferRequest{Code: moving.Code, From: alice, To: bob})
	z.must("Transfer", err)
	z.coupon("Transfer", moved)

	for _, who := range []couponkit.CustomerRef{alice, bob} {
		views, err := e.CustomerCoupons(ctx, who, "")
		z.must("CustomerCoupons", err)
		for _, v := range views {
			z.coupon("CustomerCoupons", v.Coupon)
		}
	}
	for _, code := range []string{redeemed.Code, held.Code} {
		d, err := e.Coupon(ctx, s.ID, code, couponkit.CustomerRef{})
		z.must("Coupon", err)
		z.coupon("Coupon", d.Coupon)
		if len(d.Uses) == 0 {
			t.Errorf("Coupon %s lists no uses", code)
		}
		for _, r := range d.Uses {
			z.use("Coupon uses", r)
		}
	}

	due, err := e.RemindersDue(ctx, clk.t, clk.t.AddDate(0, 2, 0))
	z.must("RemindersDue", err)
	if len(due) == 0 {
		t.Error("RemindersDue lists no reminder")
	}
	for _, d := range due {
		z.coupon("RemindersDue", d.Coupon)
		z.times("RemindersDue", map[string]time.Time{"DueAt": d.DueAt, "ExpiresAt": d.ExpiresAt})
	}

	re, err := e.Reissue(ctx, couponkit.ReissueRequest{Code: held.Code})
	z.must("Reissue", err)
	z.coupon("Reissue old", re.Old)
	z.coupon("Reissue new", re.New)
}

// zoneCheck checks that results give their times in zone.
type zoneCheck struct {
	t    *testing.T
	zone string
}

func (z zoneCheck) must(what string, err error) {
	z.t.Helper()
	if err != nil {
		z.t.Fatalf("%s: %v", what, err)
	}
}

// times checks that every time that is set is in the zone, and that at
// least one is set.
func (z zoneCheck) times(what string, ts map[string]time.Time) {
	z.t.Helper()
	set := 0
	for name, at := range ts {
		if at.IsZero() {
			continue
		}
		set++
		if got := at.Location().String(); got != z.zone {
			z.t.Errorf("%s: %s is %v, in %q; want it in %q", what, name, at, got, z.zone)
		}
	}
	if set == 0 {
		z.t.Errorf("%s: no time is set", what)
	}
}

func (z zoneCheck) coupon(what string, c coupon.Coupon) {
	z.t.Helper()
	z.times(what+" coupon "+c.Code, map[string]time.Time{
		"CreatedAt": c.CreatedAt, "IssuedAt": c.IssuedAt, "ExpiresAt": c.ExpiresAt, "LastStatusChange": c.LastStatusChange})
}

func (z zoneCheck) use(what string, r coupon.Redemption) {
	z.t.Helper()
	z.times(what+" use "+r.IdempotencyKey, map[string]time.Time{
		"At": r.At, "HoldExpiresAt": r.HoldExpiresAt, "ConfirmedAt": r.ConfirmedAt, "ReleasedAt": r.ReleasedAt, "ReversedAt": r.ReversedAt})
}

// result returns a check of the answer of a use (Redeem, Hold, Confirm,
// Reverse): its redemption and coupon; replayed says the answer must be a
// replay.
func (z zoneCheck) result(what, replayed string) func(couponkit.RedeemResult, error) {
	return func(res couponkit.RedeemResult, err error) {
		z.t.Helper()
		if replayed != "" {
			what += " " + replayed
		}
		z.must(what, err)
		if res.Replayed != (replayed != "") {
			z.t.Errorf("%s: Replayed = %v", what, res.Replayed)
		}
		z.use(what, res.Redemption)
		z.coupon(what, res.Coupon)
	}
}
