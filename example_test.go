package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// clock is a fake clock for the examples.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newEngine returns an engine over an in-memory store with a fake clock and
// a fixed code key (use a real secret in production).
func newEngine() (*couponkit.Engine, *clock) {
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	e, err := couponkit.New(couponkit.Config{
		Store: memstore.New(),
		Now:   clk.now,
		CodeKey: func(context.Context, string) ([]byte, error) {
			return []byte("an example key, not a secret"), nil
		},
	})
	if err != nil {
		panic(err)
	}
	return e, clk
}

// tenOff is a series of generated codes worth 10 EUR on bills of 50 EUR or
// more, each code usable once by its holder, valid 30 days from issue.
func tenOff() series.Series {
	return series.Series{
		Name:       "10 EUR off",
		TimeZone:   "Europe/Berlin",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree, CheckChar: true},
		Issuance:   series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1}},
		Redemption: limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func eur(s string) series.Money {
	return series.Money{Amount: decimal.RequireFromString(s), Currency: "EUR"}
}

// Issue a coupon, redeem it at a till, and see a second use refused.
func Example() {
	ctx := context.Background()
	e, _ := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))

	issued := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")}))
	c := issued.Coupon
	fmt.Println("issued to", c.Holder, "state", c.State, "expires", c.ExpiresAt.In(time.UTC).Format(time.DateTime))

	// A bill below the minimum is refused: each refusal with its code, a
	// message for the cashier and the figures behind it.
	_, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: eur("20.00")})
	var refused *refusal.Error
	if errors.As(err, &refused) {
		r := refused.Refusals[0]
		fmt.Println("refused:", int(r.Code), r.Rule, "-", r.Message, "min", r.Params.MinBill)
	}

	r := must(e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-2", Bill: eur("64.90")}))
	fmt.Println("redeemed, discount", r.Discount, "state", r.Coupon.State)

	// The till retries the same transaction: same result, nothing changes.
	again := must(e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-2", Bill: eur("64.90")}))
	fmt.Println("replayed:", again.Replayed, "same redemption:", again.Redemption.ID == r.Redemption.ID)

	// The same key with another bill is not a retry: it is refused.
	_, err = e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-2", Bill: eur("999")})
	fmt.Println("same key, other bill:", errors.Is(err, errcode.ErrKeyMismatch))

	_, err = e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-3", Bill: eur("70")})
	if errors.As(err, &refused) {
		fmt.Println("second use:", int(refused.Refusals[0].Code), refused.Refusals[0].Message, len(refused.Refusals))
	}
	// Output:
	// issued to alice state issued expires 2026-12-12 23:00:00
	// refused: 1211 min_bill - The bill must be at least 50.00 EUR (it is 20.00 EUR). min 50 EUR
	// redeemed, discount 10 EUR state redeemed
	// replayed: true same redemption: true
	// same key, other bill: true
	// second use: 405 This coupon has already been used. 1
}

// Issue with an idempotency key, so that a CRM that lost the reply can send
// the request again: the repeat returns the coupon issued, although the
// series allows one coupon per customer.
func ExampleEngine_Issue_idempotencyKey() {
	ctx := context.Background()
	e, _ := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	req := couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice"), IdempotencyKey: "welcome-mail-42"}

	first := must(e.Issue(ctx, req))
	again := must(e.Issue(ctx, req))
	fmt.Println("replayed:", again.Replayed, "same coupon:", again.Coupon.ID == first.Coupon.ID)

	// The key names alice's issue: for bob it is refused.
	req.Customer = couponkit.ByID("bob")
	_, err := e.Issue(ctx, req)
	fmt.Println("same key, other customer:", errors.Is(err, errcode.ErrKeyMismatch))
	// Output:
	// replayed: true same coupon: true
	// same key, other customer: true
}

// Hold a use for a cart, then confirm it when the order is paid.
func ExampleEngine_Hold() {
	ctx := context.Background()
	e, clk := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("bob")})).Coupon

	req := couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("bob"), IdempotencyKey: "cart-7", Bill: eur("80")}
	hold := must(e.Hold(ctx, couponkit.HoldRequest{RedeemRequest: req, TTL: 15 * time.Minute}))
	fmt.Println("held:", hold.Redemption.Status, "coupon holds:", hold.Coupon.Holds)

	// While the hold lives, another use is refused.
	req.IdempotencyKey = "cart-8"
	_, err := e.Redeem(ctx, req)
	fmt.Println("another use while held:", int(errcode.CodeOf(err)))

	clk.advance(5 * time.Minute)
	done := must(e.Confirm(ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: hold.Redemption.ID}, Actor: "checkout"}))
	fmt.Println("confirmed:", done.Redemption.Status, "coupon:", done.Coupon.State)
	// Output:
	// held: held coupon holds: 1
	// another use while held: 1117
	// confirmed: redeemed coupon: redeemed
}

// Reverse a redemption: the coupon is usable again and shows it was reversed.
func ExampleEngine_Reverse() {
	ctx := context.Background()
	e, _ := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("carol")})).Coupon
	must(e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("carol"), IdempotencyKey: "pos-9", Bill: eur("99")}))

	r := must(e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code, IdempotencyKey: "pos-9"}, Reason: "order returned"}))
	fmt.Println("redemption:", r.Redemption.Status, "coupon:", r.Coupon.State, "reversed:", r.Coupon.Reversed)

	_, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	fmt.Println("again:", int(errcode.CodeOf(err)))
	// Output:
	// redemption: reversed coupon: issued reversed: true
	// again: 1113
}

// Revoke codes as the revoke API does: partial success with reason codes.
func ExampleEngine_Revoke() {
	ctx := context.Background()
	e, _ := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	a := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("dan")})).Coupon
	b := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("erin")})).Coupon
	must(e.Redeem(ctx, couponkit.RedeemRequest{Code: b.Code, Customer: couponkit.ByID("erin"), IdempotencyKey: "t1", Bill: eur("60")}))

	res := must(e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{a.Code, b.Code, "NOSUCHCODE"}}))
	fmt.Println("total", res.Total, "revoked", len(res.Revoked), "failed", res.FailedCount())
	for _, f := range res.Failed {
		fmt.Println(" ", int(f.Code), f.Message)
	}
	_, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: a.Code, Customer: couponkit.ByID("dan"), IdempotencyKey: "t2", Bill: eur("60")})
	fmt.Println("redeem revoked:", errors.Is(err, errcode.ErrRevoked))

	_, err = e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: s.ID})
	fmt.Println("nothing named:", int(errcode.CodeOf(err)))
	// Output:
	// total 3 revoked 1 failed 2
	//   405 coupon code redeemed
	//   682 coupon not found
	// redeem revoked: true
	// nothing named: 756
}

// Transfer a coupon to another customer; both histories record it.
func ExampleEngine_Transfer() {
	ctx := context.Background()
	e, _ := newEngine()
	cfg := tenOff()
	cfg.Transferable = true
	s := must(e.CreateSeries(ctx, cfg))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("fay")})).Coupon

	moved := must(e.Transfer(ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID("fay"), To: couponkit.ByID("gus")}))
	fmt.Println("holder:", moved.Holder)
	for _, who := range []string{"fay", "gus"} {
		evs := must(e.CustomerHistory(ctx, couponkit.ByID(who), ""))
		fmt.Println(who, "last event:", evs[len(evs)-1].Kind)
	}
	// Output:
	// holder: gus
	// fay last event: transferred_out
	// gus last event: transfer_received
}

// Reissue replaces an expired coupon once, from the same series.
func ExampleEngine_Reissue() {
	ctx := context.Background()
	e, clk := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("hal")})).Coupon

	_, err := e.Reissue(ctx, couponkit.ReissueRequest{Code: c.Code})
	fmt.Println("while usable:", int(errcode.CodeOf(err)))

	clk.advance(40 * 24 * time.Hour)
	res := must(e.Reissue(ctx, couponkit.ReissueRequest{Code: c.Code, Actor: "support", Notify: true}))
	fmt.Println("old holder:", res.Old.Holder == "", "new holder:", res.New.Holder, "new code differs:", res.New.Code != c.Code)

	_, err = e.Reissue(ctx, couponkit.ReissueRequest{Code: c.Code})
	fmt.Println("twice:", int(errcode.CodeOf(err)))
	// Output:
	// while usable: 1108
	// old holder: true new holder: hal new code differs: true
	// twice: 1109
}

// Keep an audience list: an audience-only series issues to listed customers
// only, and each change to the list is in the customer's history.
func ExampleEngine_AddAudience() {
	ctx := context.Background()
	e, _ := newEngine()
	cfg := tenOff()
	cfg.Issuance.AudienceOnly = true
	s := must(e.CreateSeries(ctx, cfg))

	_, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("ivy")})
	var refused *refusal.Error
	if errors.As(err, &refused) {
		fmt.Println("before:", int(refused.Refusals[0].Code), refused.Refusals[0].Message)
	}

	add := couponkit.AudienceRequest{SeriesID: s.ID, Customers: []couponkit.CustomerRef{couponkit.ByID("ivy"), couponkit.ByID("jon")}, Actor: "crm"}
	res := must(e.AddAudience(ctx, add))
	fmt.Println("added", res.Changed, "unchanged", res.Unchanged)
	res = must(e.AddAudience(ctx, add))
	fmt.Println("again: added", res.Changed, "unchanged", res.Unchanged)

	must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("ivy")}))
	must(e.RemoveAudience(ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: []couponkit.CustomerRef{couponkit.ByID("jon")}}))

	page := must(e.ListAudience(ctx, couponkit.AudienceListRequest{SeriesID: s.ID}))
	for _, m := range page.Members {
		fmt.Println("member:", m.Customer)
	}
	for _, ev := range must(e.CustomerHistory(ctx, couponkit.ByID("jon"), s.ID)) {
		fmt.Println("jon:", ev.Kind)
	}
	// Output:
	// before: 1225 This offer is only for selected customers.
	// added 2 unchanged 0
	// again: added 0 unchanged 2
	// member: ivy
	// jon: audience_added
	// jon: audience_removed
}
