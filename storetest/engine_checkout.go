package storetest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The checkout: redemptions that carry the basket's lines, and series
// that cap the money they give away.

var checkoutTests = []test{
	{"ShoesNotOnSaleCapped", testCheckoutShoes},
	{"PerBottleAtLeastSix", testCheckoutBottles},
	{"ToysOverFifty", testCheckoutToys},
	{"PercentReducedByBudget", testCheckoutBudgetReduce},
	{"YenBasketCustomerBudget", testCheckoutYen},
	{"BillOnlyBudget", testCheckoutBillBudget},
	{"HoldTakesBudget", testCheckoutHoldBudget},
	{"ReplaySameLines", testCheckoutReplay},
	{"InvalidLines", testCheckoutInvalid},
	{"ValidateSplits", testCheckoutValidate},
}

// line is a basket line of one product, its categories and units at a
// unit price.
func line(id, product string, qty int64, price string, cats ...string) basket.Line {
	return basket.Line{ID: id, Product: product, Categories: cats, Quantity: qty, UnitPrice: dec(price)}
}

// basketReq is a redemption of code by customer with key, on lines in
// currency (the bill's amount left for the engine to total).
func basketReq(code, customer, key, currency string, lines ...basket.Line) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID(customer), IdempotencyKey: key,
		Bill: series.Money{Currency: currency}, Lines: lines}
}

// budgetSpent reads the series' and the customer's budget counters.
func (e *env) budgetSpent(seriesID, customer string) [2]int64 {
	e.t.Helper()
	return [2]int64{e.count(key(limits.SeriesBudget, seriesID, "", "")).N, e.count(key(limits.CustomerBudget, seriesID, "", customer)).N}
}

// wantCheckout checks a successful redemption of a basket: its discount,
// the bill totalled from the lines, the parts, and that the stored record
// is the one returned.
func wantCheckout(t *testing.T, e *env, r couponkit.RedeemResult, err error, discount, bill series.Money, parts []coupon.Part, rule string) {
	t.Helper()
	if !wantOK(t, err, "%s", rule) {
		return
	}
	same(t, r.Discount, discount, "%s: the discount", rule)
	same(t, series.Money{Amount: r.Redemption.Bill, Currency: r.Redemption.Currency}, bill, "%s: the bill is the lines' total", rule)
	same(t, r.Redemption.Parts, parts, "%s: the discount's split per line", rule)
	if r.Redemption.Lines == "" {
		t.Errorf("%s: a redemption of lines records their digest", rule)
	}
	same(t, e.storedRedemption(r.Redemption.ID), r.Redemption, "%s: the stored redemption, parts included", rule)
}

func testCheckoutShoes(t *testing.T, e *env) {
	s := e.gen("shoes", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("20"), Cap: nullDec("30"), Currency: "EUR"}
		s.Products = series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}}
	})
	c1, c2, c3 := e.issue(s.ID, alice), e.issue(s.ID, alice), e.issue(s.ID, alice)
	r, err := e.e.Redeem(e.ctx, basketReq(c1.Code, alice, "pos-1", "EUR",
		line("1", "runner", 2, "45.00", "shoes"), line("2", "boot", 1, "60", "shoes", "sale"), line("3", "socks", 3, "4.99", "socks")))
	wantCheckout(t, e, r, err, eur("18.00"), eur("164.97"),
		[]coupon.Part{{Line: "1", Quantity: 2, Base: 9000, Discount: 1800}},
		"20% off shoes, not on sale: two pairs at 45, a pair on sale and socks")
	// 20% of 280 is 56, capped at 30: split 200:80 by largest remainder.
	r, err = e.e.Redeem(e.ctx, basketReq(c2.Code, alice, "pos-2", "EUR",
		line("a", "trail", 2, "100", "shoes"), line("b", "sandal", 1, "80", "shoes")))
	wantCheckout(t, e, r, err, eur("30.00"), eur("280.00"),
		[]coupon.Part{{Line: "a", Quantity: 2, Base: 20000, Discount: 2143}, {Line: "b", Quantity: 1, Base: 8000, Discount: 857}},
		"20% off shoes at most 30 EUR")
	_, err = e.e.Redeem(e.ctx, basketReq(c3.Code, alice, "pos-3", "EUR",
		line("1", "boot", 1, "60", "shoes", "sale"), line("2", "socks", 1, "5", "socks")))
	wantRefused(t, err, codes(errcode.NothingEligible), "a basket of sale shoes and socks has nothing eligible")
	if got := e.stored(c3.ID); got.Redemptions != 0 || e.uses(s.ID, c3.Canonical, alice)[0] != 0 {
		t.Errorf("a refused basket changes nothing: %+v", got)
	}
}

func testCheckoutBottles(t *testing.T, e *env) {
	s := e.gen("wine", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.PerUnit, Amount: dec("5"), Currency: "EUR"}
		s.Products = series.ProductRules{IncludeCategories: []string{"wine"}, MinQuantity: 6}
		s.Redemption.MinBill = nullDec("20")
	})
	c := e.issue(s.ID, alice)
	_, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR",
		line("1", "rioja", 4, "12.00", "wine"), line("2", "cheese", 1, "9.50", "food")))
	wantRefused(t, err, codes(errcode.MinEligibleQuantity), "four bottles where six are needed")
	_, err = e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-2", "EUR", line("1", "cheap", 2, "3", "wine")))
	wantRefused(t, err, codes(limits.BillBelowMin.Code(), errcode.MinEligibleQuantity),
		"a 6 EUR basket of two bottles breaks the minimum bill and the minimum units, both told")
	r, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-3", "EUR",
		line("1", "rioja", 4, "12.00", "wine"), line("2", "vinho verde", 2, "4.50", "wine"), line("3", "cheese", 1, "9.50", "food")))
	wantCheckout(t, e, r, err, eur("29.00"), eur("66.50"),
		[]coupon.Part{{Line: "1", Quantity: 4, Base: 4800, Discount: 2000}, {Line: "2", Quantity: 2, Base: 900, Discount: 900}},
		"5 EUR per bottle on six bottles, never more than a bottle's price")
}

func testCheckoutToys(t *testing.T, e *env) {
	s := e.gen("toys", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("10"), Currency: "EUR"}
		s.Products = series.ProductRules{IncludeCategories: []string{"toys"}, MinSubtotal: nullDec("50")}
	})
	c := e.issue(s.ID, alice)
	_, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR",
		line("1", "robot", 1, "45", "toys"), line("2", "atlas", 1, "20", "books")))
	wantRefused(t, err, codes(errcode.MinEligibleSubtotal), "45 EUR of toys in a 65 EUR basket")
	r, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-2", "EUR",
		line("1", "robot", 1, "30", "toys"), line("2", "kite", 1, "25", "toys", "outdoor"), line("3", "atlas", 1, "20", "books")))
	wantCheckout(t, e, r, err, eur("10.00"), eur("75.00"),
		[]coupon.Part{{Line: "1", Quantity: 1, Base: 3000, Discount: 545}, {Line: "2", Quantity: 1, Base: 2500, Discount: 455}},
		"10 EUR off 55 EUR of toys, split 30:25")
}

func testCheckoutBudgetReduce(t *testing.T, e *env) {
	s := e.gen("budget", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("20"), Currency: "EUR"}
		s.Budget = series.Budget{Total: nullDec("50"), OnExceed: series.BudgetReduce}
		s.Redemption.MaxPerSeries = 10
	})
	cs := []coupon.Coupon{e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, alice), e.issue(s.ID, bob)}
	r1, err := e.e.Redeem(e.ctx, basketReq(cs[0].Code, alice, "pos-1", "EUR", line("1", "coat", 1, "200")))
	wantCheckout(t, e, r1, err, eur("40.00"), eur("200.00"), []coupon.Part{{Line: "1", Quantity: 1, Base: 20000, Discount: 4000}}, "20% of 200 within a 50 EUR budget")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{4000, 4000}, "the budget counters after 40 EUR given to alice")
	r2, err := e.e.Redeem(e.ctx, basketReq(cs[1].Code, bob, "pos-2", "EUR", line("1", "hat", 1, "60"), line("2", "scarf", 1, "40")))
	wantCheckout(t, e, r2, err, eur("10.00"), eur("100.00"),
		[]coupon.Part{{Line: "1", Quantity: 1, Base: 6000, Discount: 600}, {Line: "2", Quantity: 1, Base: 4000, Discount: 400}},
		"20 EUR off reduced to the 10 EUR left, split again")
	if !r2.Redemption.Reduced || r1.Redemption.Reduced {
		t.Errorf("the result says whether the budget reduced the discount: %v, %v", r1.Redemption.Reduced, r2.Redemption.Reduced)
	}
	same(t, e.budgetSpent(s.ID, bob), [2]int64{5000, 1000}, "the series' budget is spent; bob took 10")
	_, err = e.e.Redeem(e.ctx, basketReq(cs[2].Code, alice, "pos-3", "EUR", line("1", "coat", 1, "200")))
	wantRefused(t, err, codes(errcode.BudgetExhausted), "nothing left of the budget: refused even under reduce")
	e.reverse(r2.Redemption.ID)
	same(t, e.budgetSpent(s.ID, bob), [2]int64{4000, 0}, "a reversal gives its 10 EUR back")
	r4, err := e.e.Redeem(e.ctx, basketReq(cs[3].Code, bob, "pos-4", "EUR", line("1", "gloves", 1, "25")))
	wantCheckout(t, e, r4, err, eur("5.00"), eur("25.00"), []coupon.Part{{Line: "1", Quantity: 1, Base: 2500, Discount: 500}}, "5 EUR off within what is left")
	same(t, e.budgetSpent(s.ID, bob), [2]int64{4500, 500}, "the budget counters are the unreversed discounts")
}

func testCheckoutYen(t *testing.T, e *env) {
	s := e.gen("yen", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("15"), Currency: "JPY"}
		s.Budget = series.Budget{PerCustomer: nullDec("500")}
		s.Redemption.MinBill = nullDec("1000")
	})
	c1, c2 := e.issue(s.ID, alice), e.issue(s.ID, alice)
	lines := []basket.Line{line("1", "bento", 1, "1980"), line("2", "tea", 3, "250")}
	r, err := e.e.Redeem(e.ctx, basketReq(c1.Code, alice, "pos-1", "JPY", lines...))
	// 15% of 2730 is 409.5, rounded half away from zero to 410 whole yen.
	wantCheckout(t, e, r, err, series.Money{Amount: dec("410"), Currency: "JPY"}, series.Money{Amount: dec("2730"), Currency: "JPY"},
		[]coupon.Part{{Line: "1", Quantity: 1, Base: 1980, Discount: 297}, {Line: "2", Quantity: 3, Base: 750, Discount: 113}},
		"15% off a yen basket, in whole yen")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{410, 410}, "yen have no minor units: the counters count yen")
	_, err = e.e.Redeem(e.ctx, basketReq(c2.Code, alice, "pos-2", "JPY", lines...))
	wantRefused(t, err, codes(errcode.CustomerBudgetExhausted), "410 yen more would pass alice's 500 yen")
	_, err = e.e.Redeem(e.ctx, basketReq(c2.Code, alice, "pos-3", "JPY", line("1", "tea", 1, "250.5")))
	wantField(t, err, errcode.InvalidArgument, "Lines[0].UnitPrice", "a yen price with decimals")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{410, 410}, "refusals take nothing of the budget")
}

func testCheckoutBillBudget(t *testing.T, e *env) {
	s := e.gen("billbudget", func(s *series.Series) {
		s.Budget = series.Budget{Total: nullDec("25"), OnExceed: series.BudgetReduce}
	})
	var got []string
	var ids []string
	for i := range 4 {
		c := e.issue(s.ID, alice)
		r, err := e.tryRedeem(c.Code, alice, "pos-"+string(rune('a'+i)))
		if err != nil {
			wantRefused(t, err, codes(errcode.BudgetExhausted), "a fourth 10 EUR coupon once 25 EUR are given")
			got = append(got, "refused")
			continue
		}
		got = append(got, r.Discount.Amount.String())
		ids = append(ids, r.Redemption.ID)
		if r.Redemption.Parts != nil || r.Redemption.Lines != "" {
			t.Errorf("a bill-only redemption has no parts: %+v", r.Redemption)
		}
	}
	same(t, got, []string{"10", "10", "5", "refused"}, "10 EUR coupons under a 25 EUR budget that reduces")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{2500, 2500}, "the counters hold the 25 EUR given")
	same(t, e.counters(s.ID).BudgetSpent, eur("25"), "Engine.Counters tells the money given")
	e.reverse(ids[2])
	same(t, e.budgetSpent(s.ID, alice), [2]int64{2000, 2000}, "reversing the reduced use gives 5 EUR back")
}

func testCheckoutHoldBudget(t *testing.T, e *env) {
	s := e.gen("holdbudget", func(s *series.Series) {
		s.Budget = series.Budget{Total: nullDec("15")}
	})
	c1, c2 := e.issue(s.ID, alice), e.issue(s.ID, bob)
	h, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c1.Code, alice, "cart-1", "50"), TTL: time.Hour})
	mustOK(t, err, "Hold")
	same(t, h.Redemption.Budget, int64(1000), "a hold takes its discount of the budget")
	_, err = e.tryRedeem(c2.Code, bob, "pos-1")
	wantRefused(t, err, codes(errcode.BudgetExhausted), "the held 10 EUR leave 5 of 15")
	mustOK(t, e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}}), "Release")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "a released hold gives the budget back")
	_, err = e.tryRedeem(c2.Code, bob, "pos-2")
	wantOK(t, err, "with the hold released, bob's 10 EUR fit")
	h2, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c1.Code, alice, "cart-2", "50"), TTL: time.Minute})
	if err == nil {
		t.Errorf("a second 10 EUR would pass 15: %+v", h2)
	}
	wantRefused(t, err, codes(errcode.BudgetExhausted), "a hold past the budget")
	same(t, e.budgetSpent(s.ID, bob), [2]int64{1000, 1000}, "only bob's redemption holds budget")
}

func testCheckoutReplay(t *testing.T, e *env) {
	s := e.gen("replay", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"}
		s.Budget = series.Budget{Total: nullDec("100")}
	})
	c := e.issue(s.ID, alice)
	lines := []basket.Line{line("1", "lamp", 1, "39.90", "home"), line("2", "bulb", 4, "2.5", "home")}
	r1, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR", lines...))
	mustOK(t, err, "Redeem")
	// The same lines again, one price written another way: the first result.
	again := []basket.Line{line("1", "lamp", 1, "39.9", "home"), line("2", "bulb", 4, "2.50", "home")}
	r2, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR", again...))
	if wantOK(t, err, "the same key and lines") && !r2.Replayed {
		t.Errorf("the same key and lines replay the first result: %+v", r2)
	}
	same(t, r2.Redemption, r1.Redemption, "a replay returns the first redemption, parts included")
	other := []basket.Line{line("1", "lamp", 1, "39.90", "home"), line("2", "shade", 4, "2.50", "home")}
	_, err = e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR", other...))
	wantField(t, err, errcode.KeyMismatch, "Lines", "the same key with another product on a line")
	_, err = e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "pos-1", "49.90"))
	wantField(t, err, errcode.KeyMismatch, "Lines", "the same key and bill without the lines")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{499, 499}, "replays take nothing more of the budget")
}

func testCheckoutInvalid(t *testing.T, e *env) {
	s := e.gen("invalid", func(s *series.Series) { s.Budget = series.Budget{Total: nullDec("100")} })
	c := e.issue(s.ID, alice)
	bad := []struct {
		name  string
		req   couponkit.RedeemRequest
		field string
	}{
		{"no quantity", basketReq(c.Code, alice, "k1", "EUR", line("1", "p", 0, "1")), "Lines[0].Quantity"},
		{"line id twice", basketReq(c.Code, alice, "k2", "EUR", line("1", "p", 1, "1"), line("1", "q", 1, "1")), "Lines[1].ID"},
		{"no product", basketReq(c.Code, alice, "k3", "EUR", line("1", "", 1, "1")), "Lines[0].Product"},
		{"negative price", basketReq(c.Code, alice, "k4", "EUR", line("1", "p", 1, "-1")), "Lines[0].UnitPrice"},
		{"a cent split", basketReq(c.Code, alice, "k5", "EUR", line("1", "p", 1, "0.001")), "Lines[0].UnitPrice"},
		{"no rate", basketReq(c.Code, alice, "k6", "GBP", line("1", "p", 1, "1")), "Bill.Currency"},
		{"bill not the total", func() couponkit.RedeemRequest {
			r := basketReq(c.Code, alice, "k7", "EUR", line("1", "p", 2, "10"))
			r.Bill.Amount = dec("25")
			return r
		}(), "Bill.Amount"},
	}
	for _, b := range bad {
		_, err := e.e.Redeem(e.ctx, b.req)
		wantField(t, err, errcode.InvalidArgument, b.field, "a basket with %s", b.name)
	}
	ok := basketReq(c.Code, alice, "k8", "EUR", line("1", "p", 2, "10"))
	ok.Bill.Amount = dec("20.00")
	_, err := e.e.Redeem(e.ctx, ok)
	wantOK(t, err, "a bill amount equal to the lines' total")
}

func testCheckoutValidate(t *testing.T, e *env) {
	s := e.gen("validate", func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("5"), Currency: "EUR"}
		s.Budget = series.Budget{PerCustomer: nullDec("3"), OnExceed: series.BudgetReduce}
	})
	c := e.issue(s.ID, alice)
	req := basketReq(c.Code, alice, "", "USD", line("1", "p", 1, "7"), line("2", "q", 1, "3"))
	// 5 EUR is 10 USD, reduced to what is left of 3 EUR: 6 USD.
	chk, err := e.e.Validate(e.ctx, req)
	if !wantOK(t, err, "Validate of a basket in USD") {
		return
	}
	same(t, chk.Discount, series.Money{Amount: decimal.New(600, -2), Currency: "USD"}, "the discount Validate finds")
	same(t, chk.Parts, []coupon.Part{{Line: "1", Quantity: 1, Base: 700, Discount: 420}, {Line: "2", Quantity: 1, Base: 300, Discount: 180}},
		"the split Validate finds")
	if !chk.Reduced {
		t.Errorf("Validate says the budget reduced the discount")
	}
	req.IdempotencyKey = "pos-1"
	r, err := e.e.Redeem(e.ctx, req)
	mustOK(t, err, "Redeem")
	same(t, r.Redemption.Budget, int64(300), "6 USD take 3 EUR of the budget")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{300, 300}, "the budget counters count the series' currency")
	var none store.Count
	same(t, e.count(key(limits.SeriesBudget, s.ID, "", alice)), none, "the series' counter has no customer")
}
