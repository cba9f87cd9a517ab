package basket_test

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// Two coupons on one basket: 20% off shoes but not sale items, at most 30
// EUR, and 5 EUR off each bottle of wine from six bottles. Each discount
// comes back split per line, the parts summing to it exactly.
func ExampleStack() {
	b := &basket.Basket{Currency: "EUR", Lines: []basket.Line{
		{ID: "1", Product: "boots", Categories: []string{"shoes"}, Quantity: 1, UnitPrice: decimal.RequireFromString("120.00")},
		{ID: "2", Product: "sneakers", Categories: []string{"shoes", "sale"}, Quantity: 1, UnitPrice: decimal.RequireFromString("45.00")},
		{ID: "3", Product: "sandals", Categories: []string{"shoes"}, Quantity: 1, UnitPrice: decimal.RequireFromString("39.99")},
		{ID: "4", Product: "red", Categories: []string{"wine"}, Quantity: 6, UnitPrice: decimal.RequireFromString("8.99")},
	}}
	shoes := basket.Coupon{Code: "SHOES20",
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20),
			Cap: decimal.NewNullDecimal(decimal.NewFromInt(30)), Currency: "EUR"},
		Products: series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}}}
	wine := basket.Coupon{Code: "WINE5",
		Discount: series.Discount{Kind: series.PerUnit, Amount: decimal.NewFromInt(5), Currency: "EUR"},
		Products: series.ProductRules{IncludeCategories: []string{"wine"}, MinQuantity: 6}}

	r, err := basket.Stack(b, []basket.Coupon{wine, shoes}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range r.Decisions {
		fmt.Println(d.Code, d.Discount.StringFixed(2))
		for _, p := range d.Parts {
			fmt.Printf("  line %s: %d of %d cents\n", p.Line, p.Discount, p.Base)
		}
	}
	fmt.Println("all applied:", r.AllApplied)
	// Output:
	// SHOES20 30.00
	//   line 1: 2250 of 12000 cents
	//   line 3: 750 of 3999 cents
	// WINE5 30.00
	//   line 4: 3000 of 5394 cents
	// all applied: true
}

// A budget with the reduce policy gives what is left of it, split again
// over the lines; a return of one line gives back that line's part.
func ExampleBudget_Limit() {
	b := &basket.Basket{Currency: "EUR", Lines: []basket.Line{
		{ID: "1", Product: "boots", Quantity: 1, UnitPrice: decimal.RequireFromString("120.00")},
		{ID: "2", Product: "sandals", Quantity: 1, UnitPrice: decimal.RequireFromString("40.00")},
	}}
	c := basket.Coupon{Code: "SPRING",
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20), Currency: "EUR"},
		Budget:   basket.Budget{Total: basket.Cap(1000), Policy: series.BudgetReduce}}
	d, err := basket.Apply(b, c, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Discount.StringFixed(2), "reduced:", d.Reduced)
	back, _, err := basket.GiveBack(d.Parts, nil, []basket.Return{{Line: "2", Quantity: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("returning the sandals gives back", back, "cents")
	// Output:
	// 10.00 reduced: true
	// returning the sandals gives back 250 cents
}
