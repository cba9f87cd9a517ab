package series

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// genDecimal draws a non-negative decimal whose coefficient and exponent
// range past what the int64 path takes, so both of its outcomes (a result,
// or "does not fit") are exercised.
func genDecimal(t *rapid.T, label string) decimal.Decimal {
	c := rapid.OneOf(
		rapid.Int64Range(0, 1000),
		rapid.Int64Range(0, 1e12),
		rapid.Int64Range(1e17, 1<<62),
	).Draw(t, label+"Coef")
	e := rapid.OneOf(rapid.Int32Range(-4, 2), rapid.Int32Range(-20, 20)).Draw(t, label+"Exp")
	return decimal.New(c, e)
}

// The int64 arithmetic of Apply gives, whenever it gives anything, exactly
// the decimal arithmetic's result: the same coefficient and the same
// exponent, not only an equal value.
func TestApplySmallMatchesDecimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := Discount{Currency: "EUR", Scale: rapid.Int32Range(0, MaxScale).Draw(t, "scale")}
		if rapid.Bool().Draw(t, "fixed") {
			d.Kind, d.Amount = Fixed, genDecimal(t, "amount")
		} else {
			d.Kind, d.Percent = Percent, genDecimal(t, "percent")
			if rapid.Bool().Draw(t, "capped") {
				d.Cap = decimal.NewNullDecimal(genDecimal(t, "cap"))
			}
		}
		bill := genDecimal(t, "bill")
		got, ok := d.applySmall(bill)
		if !ok {
			t.Skip("does not fit in int64")
		}
		want, err := d.applyDecimal(Money{Amount: bill, Currency: "EUR"}, nil)
		if err != nil {
			t.Fatalf("applyDecimal: %v", err)
		}
		if got.Exponent() != want.Amount.Exponent() || got.Coefficient().Cmp(want.Amount.Coefficient()) != 0 {
			t.Fatalf("discount %+v of %v: int64 path %v (exp %d), decimal path %v (exp %d)",
				d, bill, got, got.Exponent(), want.Amount, want.Amount.Exponent())
		}
	})
}

// The int64 path takes the usual case: a two-decimal bill and a fixed or
// percent discount of a few digits.
func TestApplySmallTakesUsualBills(t *testing.T) {
	bill := decimal.New(12345, -2)
	for _, d := range []Discount{
		{Kind: Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		{Kind: Percent, Percent: decimal.New(125, -1), Cap: decimal.NewNullDecimal(decimal.NewFromInt(20)), Currency: "EUR"},
	} {
		if _, ok := d.applySmall(bill); !ok {
			t.Errorf("%+v of %v took the decimal path", d, bill)
		}
	}
}

// Half-way and boundary cases, which random draws rarely hit: each must
// come out of the int64 path, equal to the decimal path and to the value
// written here.
func TestApplySmallBoundaries(t *testing.T) {
	dec := decimal.RequireFromString
	for _, tc := range []struct {
		d          Discount
		bill, want string
	}{
		{Discount{Kind: Fixed, Amount: dec("0.005")}, "1", "0.01"},                                          // half rounds up
		{Discount{Kind: Fixed, Amount: dec("0.0049")}, "1", "0"},                                            // below half rounds down
		{Discount{Kind: Percent, Percent: dec("50")}, "0.25", "0.13"},                                       // 0.125
		{Discount{Kind: Percent, Percent: dec("100")}, "0.005", "0"},                                        // rounding up would pass the bill: truncated
		{Discount{Kind: Fixed, Amount: dec("10")}, "7.5", "7.5"},                                            // the bill caps a fixed amount
		{Discount{Kind: Percent, Percent: dec("15"), Cap: decimal.NewNullDecimal(dec("20"))}, "1000", "20"}, // the cap
		{Discount{Kind: Fixed, Amount: dec("3"), Scale: 4}, "5", "3"},
		{Discount{Kind: Fixed, Amount: dec("1E+3")}, "2000", "1000"},
	} {
		tc.d.Currency = "EUR"
		got, ok := tc.d.applySmall(dec(tc.bill))
		if !ok {
			t.Errorf("%+v of %s took the decimal path", tc.d, tc.bill)
			continue
		}
		want, err := tc.d.applyDecimal(Money{Amount: dec(tc.bill), Currency: "EUR"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(dec(tc.want)) || got.Exponent() != want.Amount.Exponent() || !got.Equal(want.Amount) {
			t.Errorf("%+v of %s = %s (exp %d); want %s, as the decimal path's %s (exp %d)",
				tc.d, tc.bill, got, got.Exponent(), tc.want, want.Amount, want.Amount.Exponent())
		}
	}
}
