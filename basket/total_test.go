package basket_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// Total is the lines' amounts summed with decimals, in minor units, and
// reports false exactly when Validate refuses a quantity or unit price.
func TestTotalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBasket(t)
		places := int32(series.MinorUnits(b.Currency))
		for i := range b.Lines {
			l := &b.Lines[i]
			switch rapid.IntRange(0, 12).Draw(t, "break") {
			case 0:
				l.Quantity = rapid.Int64Range(-2, 0).Draw(t, "badQuantity")
			case 1:
				l.Quantity = basket.MaxQuantity + 1
			case 2:
				l.UnitPrice = l.UnitPrice.Neg().Sub(decimal.New(1, -places))
			case 3:
				l.UnitPrice = l.UnitPrice.Add(decimal.New(1, -places-1)) // finer than a minor unit
			case 4:
				l.UnitPrice = l.UnitPrice.Mul(decimal.NewFromInt(10)).Shift(-1) // exact, another exponent
			case 5:
				l.UnitPrice = decimal.New(basket.MaxLineAmount/l.Quantity+1, -places) // the line's amount too large
			}
		}
		got, ok := b.Total()
		valid := amountsValid(b)
		if ok != valid {
			t.Fatalf("Total ok %v, Validate says amounts valid %v: %v", ok, valid, b.Validate())
		}
		if !ok {
			return
		}
		var want decimal.Decimal
		for _, l := range b.Lines {
			want = want.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
		}
		if !want.Shift(places).Equal(decimal.NewFromInt(got)) {
			t.Fatalf("Total %d, want %s", got, want)
		}
	})
}

// amountsValid reports whether Validate finds no fault in a line's
// quantity or unit price.
func amountsValid(b *basket.Basket) bool {
	for _, f := range codeFields(b.Validate()) {
		if strings.HasSuffix(f, ".Quantity") || strings.HasSuffix(f, ".UnitPrice") {
			return false
		}
	}
	return true
}
