package basket_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

func dec(s string) decimal.Decimal         { return decimal.RequireFromString(s) }
func nullDec(s string) decimal.NullDecimal { return decimal.NewNullDecimal(dec(s)) }

func line(id, product string, qty int64, price string, cats ...string) basket.Line {
	return basket.Line{ID: id, Product: product, Categories: cats, Quantity: qty, UnitPrice: dec(price)}
}

func eurBasket(lines ...basket.Line) *basket.Basket {
	return &basket.Basket{Currency: "EUR", Lines: lines}
}

// The worked examples of a checkout: each coupon's decision, its discount
// and its split per line (line id: minor units), or its refusals.
type want struct {
	code     string
	applied  bool
	minor    int64
	reduced  bool
	parts    map[string]int64
	refusals []errcode.Code
}

func check(t *testing.T, got *basket.Result, wants []want) {
	t.Helper()
	if len(got.Decisions) != len(wants) {
		t.Fatalf("%d decisions, want %d: %+v", len(got.Decisions), len(wants), got.Decisions)
	}
	all := true
	for i, w := range wants {
		d := got.Decisions[i]
		all = all && w.applied
		parts := map[string]int64{}
		for _, p := range d.Parts {
			if p.Discount != 0 {
				parts[p.Line] = p.Discount
			}
		}
		var codes []errcode.Code
		for _, r := range d.Refusals {
			codes = append(codes, r.Code)
		}
		if w.parts == nil {
			w.parts = map[string]int64{}
		}
		if d.Code != w.code || d.Applied != w.applied || d.Minor != w.minor || d.Reduced != w.reduced ||
			!cmp.Equal(parts, w.parts) || !cmp.Equal(codes, w.refusals) {
			t.Errorf("decision %d = %s applied %v %d reduced %v parts %v refusals %v;\nwant %s applied %v %d reduced %v parts %v refusals %v",
				i, d.Code, d.Applied, d.Minor, d.Reduced, parts, codes, w.code, w.applied, w.minor, w.reduced, w.parts, w.refusals)
		}
		if !d.Discount.Equal(decimal.New(d.Minor, -int32(series.MinorUnits(got.Currency)))) {
			t.Errorf("decision %d: Discount %s, Minor %d", i, d.Discount, d.Minor)
		}
	}
	if got.AllApplied != all {
		t.Errorf("AllApplied = %v, want %v", got.AllApplied, all)
	}
}

func stack(t *testing.T, b *basket.Basket, cs ...basket.Coupon) *basket.Result {
	t.Helper()
	r, err := basket.Stack(b, cs, nil)
	if err != nil {
		t.Fatalf("Stack: %v", err)
	}
	return r
}

// shoes: 20% off shoes, not on sale items, at most 30 EUR.
func shoes() basket.Coupon {
	return basket.Coupon{Code: "SHOES20",
		Discount: series.Discount{Kind: series.Percent, Percent: dec("20"), Cap: nullDec("30"), Currency: "EUR"},
		Products: series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}}}
}

// bottles: 5 EUR off each bottle of wine, at least 6 bottles.
func bottles() basket.Coupon {
	return basket.Coupon{Code: "WINE5",
		Discount: series.Discount{Kind: series.PerUnit, Amount: dec("5"), Currency: "EUR"},
		Products: series.ProductRules{IncludeCategories: []string{"wine"}, MinQuantity: 6}}
}

// toys: 10 EUR off orders of at least 50 EUR of toys.
func toys() basket.Coupon {
	return basket.Coupon{Code: "TOYS10",
		Discount: series.Discount{Kind: series.Fixed, Amount: dec("10"), Currency: "EUR"},
		Products: series.ProductRules{IncludeCategories: []string{"toys"}, MinSubtotal: nullDec("50")}}
}

func TestCheckoutExamples(t *testing.T) {
	shoeBasket := eurBasket(line("1", "boots", 1, "120.00", "shoes"), line("2", "sneakers", 2, "45.00", "shoes", "sale"),
		line("3", "socks", 3, "4.99", "accessories"), line("4", "sandals", 1, "39.99", "shoes"))
	for _, tc := range []struct {
		name    string
		basket  *basket.Basket
		coupons []basket.Coupon
		want    []want
	}{
		// 20% of 159.99 is 32.00, capped at 30; 30 split 120 : 39.99 is
		// 22.501 : 7.499, so 2250 and 749 and the unit left to the
		// larger remainder.
		{"20% off shoes, not on sale, max 30 EUR", shoeBasket, []basket.Coupon{shoes()},
			[]want{{code: "SHOES20", applied: true, minor: 3000, parts: map[string]int64{"1": 2250, "4": 750}}}},
		{"20% off shoes below the cap", eurBasket(line("1", "boots", 1, "99.95", "shoes"), line("2", "sale boots", 1, "50", "shoes", "sale")),
			[]basket.Coupon{shoes()}, []want{{code: "SHOES20", applied: true, minor: 1999, parts: map[string]int64{"1": 1999}}}},
		{"20% off shoes: only sale shoes", eurBasket(line("2", "sneakers", 2, "45.00", "shoes", "sale")), []basket.Coupon{shoes()},
			[]want{{code: "SHOES20", refusals: []errcode.Code{errcode.NothingEligible}}}},
		{"5 EUR per bottle, six bottles", eurBasket(line("a", "red", 4, "8.99", "wine"), line("b", "white", 2, "12.50", "wine"),
			line("c", "cheese", 1, "6.00", "deli")), []basket.Coupon{bottles()},
			[]want{{code: "WINE5", applied: true, minor: 3000, parts: map[string]int64{"a": 2000, "b": 1000}}}},
		{"5 EUR per bottle, never above the price", eurBasket(line("a", "cheap red", 6, "3.99", "wine")), []basket.Coupon{bottles()},
			[]want{{code: "WINE5", applied: true, minor: 2394, parts: map[string]int64{"a": 2394}}}},
		{"5 EUR per bottle, five bottles", eurBasket(line("a", "red", 5, "8.99", "wine"), line("c", "cheese", 3, "6.00", "deli")),
			[]basket.Coupon{bottles()}, []want{{code: "WINE5", refusals: []errcode.Code{errcode.MinEligibleQuantity}}}},
		// 10 split 30 : 25 is 5.4545 : 4.5454.
		{"10 EUR off 50 EUR of toys", eurBasket(line("t1", "blocks", 1, "30", "toys"), line("t2", "kite", 1, "25", "toys"),
			line("b", "book", 1, "20", "books")), []basket.Coupon{toys()},
			[]want{{code: "TOYS10", applied: true, minor: 1000, parts: map[string]int64{"t1": 545, "t2": 455}}}},
		{"10 EUR off 50 EUR of toys, 45 EUR of toys", eurBasket(line("t1", "blocks", 1, "45", "toys"), line("b", "book", 1, "20", "books")),
			[]basket.Coupon{toys()}, []want{{code: "TOYS10", refusals: []errcode.Code{errcode.MinEligibleSubtotal}}}},
		{"two coupons: exclusive first", shoeBasket, []basket.Coupon{exclusive(shoes(), 0), prio(toys(), 1)},
			[]want{{code: "SHOES20", applied: true, minor: 3000, parts: map[string]int64{"1": 2250, "4": 750}},
				{code: "TOYS10", refusals: []errcode.Code{errcode.NotCombinable, errcode.NothingEligible}}}},
		{"two coupons: combinable first", eurBasket(line("1", "boots", 1, "100", "shoes", "toys")),
			[]basket.Coupon{exclusive(shoes(), 1), prio(toys(), 0)},
			[]want{{code: "TOYS10", applied: true, minor: 1000, parts: map[string]int64{"1": 1000}},
				{code: "SHOES20", refusals: []errcode.Code{errcode.NotCombinable}}}},
		// The 20% applies to what the 10 EUR left: 20% of 90.
		{"two combinable coupons", eurBasket(line("1", "boots", 1, "100", "shoes", "toys")),
			[]basket.Coupon{prio(shoes(), 1), prio(toys(), 0)},
			[]want{{code: "TOYS10", applied: true, minor: 1000, parts: map[string]int64{"1": 1000}},
				{code: "SHOES20", applied: true, minor: 1800, parts: map[string]int64{"1": 1800}}}},
		{"a percentage cap reduced by a budget", shoeBasket, []basket.Coupon{budgeted(shoes(), basket.Cap(1200), series.BudgetReduce)},
			[]want{{code: "SHOES20", applied: true, minor: 1200, reduced: true, parts: map[string]int64{"1": 900, "4": 300}}}},
		{"a budget refusing", shoeBasket, []basket.Coupon{budgeted(shoes(), basket.Cap(1200), series.BudgetRefuse)},
			[]want{{code: "SHOES20", refusals: []errcode.Code{errcode.CustomerBudgetExhausted}}}},
		// 15% of 3,499 yen is 524.85: 525 yen, split 1999 : 1500.
		{"a JPY basket", &basket.Basket{Currency: "JPY", Lines: []basket.Line{line("1", "tea", 1, "1999"), line("2", "cups", 3, "500")}},
			[]basket.Coupon{{Code: "JP15", Discount: series.Discount{Kind: series.Percent, Percent: dec("15"), Currency: "JPY"}}},
			[]want{{code: "JP15", applied: true, minor: 525, parts: map[string]int64{"1": 300, "2": 225}}}},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, stack(t, tc.basket, tc.coupons...), tc.want) })
	}
}

func prio(c basket.Coupon, p int) basket.Coupon {
	c.Stacking.Priority = p
	return c
}

func exclusive(c basket.Coupon, p int) basket.Coupon {
	c.Stacking = series.Stacking{Exclusive: true, Priority: p}
	return c
}

func budgeted(c basket.Coupon, customer basket.Left, p series.BudgetPolicy) basket.Coupon {
	c.Budget = basket.Budget{Customer: customer, Policy: p}
	return c
}

// A refusal carries the figures that explain it.
func TestRefusalParams(t *testing.T) {
	d, err := basket.Apply(eurBasket(line("a", "red", 5, "8.99", "wine")), bottles(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := refusal.FewEligibleUnits(6, 5)
	if len(d.Refusals) != 1 || !cmp.Equal(d.Refusals[0], want) {
		t.Errorf("refusals %+v, want %+v", d.Refusals, want)
	}
	d, err = basket.Apply(eurBasket(line("t1", "blocks", 1, "45", "toys")), toys(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Refusals[0].Params
	if p.MinSubtotal.String() != "50 EUR" || !p.Subtotal.Amount.Equal(dec("45")) || d.Refusals[0].Message !=
		"The eligible items must come to at least 50.00 EUR (they come to 45.00 EUR)." {
		t.Errorf("min subtotal refusal %+v", d.Refusals[0])
	}
}

// A basket in another currency than the series' needs rates: amounts are
// converted as series.Discount.Apply converts them.
func TestCurrencyConversion(t *testing.T) {
	b := &basket.Basket{Currency: "USD", Lines: []basket.Line{line("1", "blocks", 1, "70", "toys")}}
	_, err := basket.Apply(b, toys(), nil)
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Currency" {
		t.Fatalf("without rates: %v", err)
	}
	rates := series.FixedRates{{From: "EUR", To: "USD"}: dec("1.25"), {From: "USD", To: "EUR"}: dec("0.8")}
	d, err := basket.Apply(b, toys(), rates)
	if err != nil || !d.Applied || d.Minor != 1250 {
		t.Fatalf("70 USD (56 EUR) of toys, 10 EUR off at 1.25: %+v, %v", d, err)
	}
	b.Lines[0].UnitPrice = dec("62.49")
	if d, _ := basket.Apply(b, toys(), rates); d.Applied {
		t.Errorf("62.49 USD is 49.992 EUR, below 50 EUR: %+v", d)
	}
	// A percentage without a cap needs no rate.
	pc := basket.Coupon{Code: "P", Discount: series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"}}
	if d, err := basket.Apply(b, pc, nil); err != nil || d.Minor != 625 {
		t.Errorf("10%% of 62.49 USD = %+v, %v", d, err)
	}
}

// Select tells which lines a series' rules select, with the refusals of a
// basket that falls short; exclude rules win over include rules.
func TestSelect(t *testing.T) {
	b := eurBasket(line("1", "boots", 1, "120.00", "shoes"), line("2", "sneakers", 2, "45.00", "shoes", "sale"),
		line("3", "socks", 3, "4.99", "accessories"), line("4", "gift", 1, "10", "shoes", "gift-cards"))
	for _, tc := range []struct {
		name     string
		rules    series.ProductRules
		eligible []bool
		qty, sub int64
		refusals []errcode.Code
	}{
		{"every product", series.ProductRules{}, []bool{true, true, true, true}, 7, 23497, nil},
		{"a category less sale", series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}},
			[]bool{true, false, false, true}, 2, 13000, nil},
		{"a product or a category", series.ProductRules{Include: []string{"socks"}, IncludeCategories: []string{"gift-cards"}},
			[]bool{false, false, true, true}, 4, 2497, nil},
		{"exclude wins", series.ProductRules{Include: []string{"boots"}, ExcludeCategories: []string{"shoes"}},
			[]bool{false, false, false, false}, 0, 0, []errcode.Code{errcode.NothingEligible}},
		{"both minima", series.ProductRules{Exclude: []string{"boots"}, MinQuantity: 8, MinSubtotal: nullDec("200")},
			[]bool{false, true, true, true}, 6, 11497, []errcode.Code{errcode.MinEligibleQuantity, errcode.MinEligibleSubtotal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, refs, err := basket.Select(&tc.rules, "EUR", b, nil)
			if err != nil {
				t.Fatal(err)
			}
			var codes []errcode.Code
			for _, r := range refs {
				codes = append(codes, r.Code)
			}
			if !cmp.Equal(sel.Eligible, tc.eligible) || sel.Quantity != tc.qty || sel.Subtotal != tc.sub || !cmp.Equal(codes, tc.refusals) {
				t.Errorf("Select = %v %d %d %v, want %v %d %d %v", sel.Eligible, sel.Quantity, sel.Subtotal, codes,
					tc.eligible, tc.qty, tc.sub, tc.refusals)
			}
			for i, l := range b.Lines {
				if got := basket.Selects(&tc.rules, l.Product, l.Categories); got != tc.eligible[i] {
					t.Errorf("Selects(%s) = %v", l.Product, got)
				}
			}
		})
	}
	_, _, err := basket.Select(&series.ProductRules{Include: []string{""}}, "EUR", b, nil)
	if es := errcode.All(err); len(es) != 1 || es[0].Code != errcode.InvalidConfig || es[0].Field != "Products.Include[0]" {
		t.Errorf("Select with an empty include: %v", err)
	}
}

// Malformed coupons are refused with typed errors naming them.
func TestStackErrors(t *testing.T) {
	b := eurBasket(line("1", "boots", 1, "120.00", "shoes"))
	bad := shoes()
	bad.Discount.Percent = dec("120")
	neg := toys()
	neg.Budget.Total = basket.Cap(-1)
	_, err := basket.Stack(b, []basket.Coupon{shoes(), shoes(), {Code: ""}, bad, neg}, nil)
	got := codeFields(err)
	want := []string{"1002:Coupons[1].Code", "1002:Coupons[2].Code", "1001:Coupons[2].Discount.Kind", "1001:Coupons[2].Discount.Currency",
		"1002:Coupons[3].Code", "1001:Coupons[3].Discount.Percent", "1002:Coupons[4].Budget.Total"}
	if !cmp.Equal(got, want) {
		t.Errorf("Stack errors %v, want %v", got, want)
	}
	many := make([]basket.Coupon, basket.MaxCoupons+1)
	if _, err := basket.Stack(b, many, nil); errcode.CodeOf(err) != errcode.TooMany {
		t.Errorf("%d coupons: %v", len(many), err)
	}
}
