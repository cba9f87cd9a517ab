package basket_test

import (
	"strconv"
	"testing"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// benchBasket is a 20-line basket: shoes, wine and toys, some on sale.
func benchBasket() *basket.Basket {
	b := &basket.Basket{Currency: "EUR"}
	kinds := []struct {
		product, price string
		cats           []string
	}{
		{"boots", "89.90", []string{"shoes"}}, {"red", "8.99", []string{"wine"}}, {"blocks", "24.50", []string{"toys"}},
		{"sneakers", "45.00", []string{"shoes", "sale"}}, {"socks", "4.99", []string{"accessories"}},
	}
	for i := range 20 {
		k := kinds[i%len(kinds)]
		b.Lines = append(b.Lines, line("L"+strconv.Itoa(i), k.product+strconv.Itoa(i), int64(1+i%4), k.price, k.cats...))
	}
	return b
}

// BenchmarkStack applies three combinable coupons (a capped percentage, a
// per-unit amount and a fixed amount, one under a budget) to a 20-line
// basket.
func BenchmarkStack(b *testing.B) {
	bk := benchBasket()
	cs := []basket.Coupon{prio(shoes(), 0), prio(bottles(), 1), prio(toys(), 2)}
	cs[0].Budget = basket.Budget{Customer: basket.Cap(2000), Policy: series.BudgetReduce}
	r, err := basket.Stack(bk, cs, nil)
	if err != nil || !r.AllApplied {
		b.Fatalf("%+v, %v", r, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := basket.Stack(bk, cs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
