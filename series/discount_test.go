package series_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

func money(amount, currency string) series.Money {
	return series.Money{Amount: dec(amount), Currency: currency}
}

func pct(p string) series.Discount {
	return series.Discount{Kind: series.Percent, Percent: dec(p), Currency: "EUR"}
}

func fixed(a string) series.Discount {
	return series.Discount{Kind: series.Fixed, Amount: dec(a), Currency: "EUR"}
}

func withCap(d series.Discount, c string) series.Discount { d.Cap = nullDec(c); return d }

func withScale(d series.Discount, s int32) series.Discount { d.Scale = s; return d }

var rates = series.FixedRates{
	{From: "EUR", To: "USD"}: dec("1.0837"),
	{From: "USD", To: "EUR"}: dec("0.92"),
	{From: "EUR", To: "JPY"}: dec("162.345"),
	{From: "EUR", To: "GBP"}: dec("1.0005"),
}

func TestApply(t *testing.T) {
	cases := []struct {
		name  string
		d     series.Discount
		bill  series.Money
		rates series.Rates
		want  series.Money
	}{
		{"10% of 100", pct("10"), money("100", "EUR"), nil, money("10", "EUR")},
		{"10% of 12.345 rounds down", pct("10"), money("12.345", "EUR"), nil, money("1.23", "EUR")},
		{"10% of 99.95 rounds half away from zero", pct("10"), money("99.95", "EUR"), nil, money("10.00", "EUR")},
		{"50% of 0.05 rounds half up", pct("50"), money("0.05", "EUR"), nil, money("0.03", "EUR")},
		{"scale 3", withScale(pct("10"), 3), money("12.345", "EUR"), nil, money("1.235", "EUR")},
		{"scale 1", withScale(pct("10"), 1), money("12.345", "EUR"), nil, money("1.2", "EUR")},
		{"100% of the bill", pct("100"), money("42.42", "EUR"), nil, money("42.42", "EUR")},
		{"fractional percent", pct("12.5"), money("80", "EUR"), nil, money("10", "EUR")},
		{"percent of nothing", pct("10"), money("0", "EUR"), nil, money("0", "EUR")},
		{"capped", withCap(pct("10"), "25"), money("1000", "EUR"), nil, money("25", "EUR")},
		{"under the cap", withCap(pct("10"), "25"), money("200", "EUR"), nil, money("20", "EUR")},
		{"percent of a USD bill needs no rate", pct("10"), money("80", "USD"), nil, money("8", "USD")},
		{"cap converted to USD", withCap(pct("10"), "25"), money("1000", "USD"), rates, money("27.09", "USD")},
		{"cap rounding would pass the converted cap", withCap(pct("50"), "10"), money("1000", "GBP"), rates, money("10.00", "GBP")},
		{"fixed", fixed("5"), money("100", "EUR"), nil, money("5", "EUR")},
		{"fixed never above the bill", fixed("5"), money("3.10", "EUR"), nil, money("3.10", "EUR")},
		{"fixed converted to USD", fixed("5"), money("100", "USD"), rates, money("5.42", "USD")},
		{"fixed converted to JPY", fixed("5"), money("10000", "JPY"), rates, money("811.73", "JPY")},
		{"fixed on a bill finer than the scale", fixed("10"), money("0.005", "EUR"), nil, money("0.00", "EUR")},
		{"percent on a bill finer than the scale", pct("100"), money("0.005", "EUR"), nil, money("0.00", "EUR")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.d.Apply(tc.bill, tc.rates)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !got.Amount.Equal(tc.want.Amount) || got.Currency != tc.want.Currency {
				t.Errorf("Apply = %v, want %v", got, tc.want)
			}
		})
	}
}

type failingRates struct{ err error }

func (r failingRates) Rate(string, string) (decimal.Decimal, error) { return decimal.Decimal{}, r.err }

type zeroRates struct{}

func (zeroRates) Rate(string, string) (decimal.Decimal, error) { return decimal.Zero, nil }

func TestApplyErrors(t *testing.T) {
	cases := []struct {
		name  string
		d     series.Discount
		bill  series.Money
		rates series.Rates
		code  errcode.Code
		field string
	}{
		{"missing rate", fixed("5"), money("100", "CHF"), rates, errcode.InvalidArgument, "Bill.Currency"},
		{"inverse rate is not derived", fixed("5"), money("100", "USD"), series.FixedRates{{From: "USD", To: "EUR"}: dec("0.9")},
			errcode.InvalidArgument, "Bill.Currency"},
		{"no rates", fixed("5"), money("100", "USD"), nil, errcode.InvalidArgument, "Bill.Currency"},
		{"no rates for the cap", withCap(pct("10"), "5"), money("100", "USD"), nil, errcode.InvalidArgument, "Bill.Currency"},
		{"zero rate", fixed("5"), money("100", "USD"), zeroRates{}, errcode.InvalidArgument, "Bill.Currency"},
		{"rates unavailable", fixed("5"), money("100", "USD"), failingRates{errcode.ErrUnavailable}, errcode.InvalidArgument, "Bill.Currency"},
		{"lower-case bill currency", pct("10"), money("100", "eur"), nil, errcode.InvalidArgument, "Bill.Currency"},
		{"no bill currency", pct("10"), money("100", ""), nil, errcode.InvalidArgument, "Bill.Currency"},
		{"negative bill", pct("10"), money("-1", "EUR"), nil, errcode.InvalidArgument, "Bill.Amount"},
		{"bill far too precise", pct("10"), series.Money{Amount: decimal.New(1, -1000000000), Currency: "EUR"}, nil, errcode.InvalidArgument, "Bill.Amount"},
		{"invalid discount", pct("0"), money("100", "EUR"), nil, errcode.InvalidConfig, "Discount.Percent"},
		{"invalid series currency", series.Discount{Kind: series.Fixed, Amount: dec("1")}, money("100", "EUR"), nil,
			errcode.InvalidConfig, "Discount.Currency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.d.Apply(tc.bill, tc.rates)
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Field != tc.field {
				t.Fatalf("Apply error = %v, want code %v on %q", err, tc.code, tc.field)
			}
		})
	}
	_, err := fixed("5").Apply(money("100", "USD"), failingRates{errcode.ErrUnavailable})
	if !errors.Is(err, errcode.ErrUnavailable) || !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("the rates' error is not kept: %v", err)
	}
}

func TestConvertBill(t *testing.T) {
	d := pct("10")
	cases := []struct {
		bill  series.Money
		want  string
		field string
	}{
		{money("100", "USD"), "92", ""},
		{money("12.345", "EUR"), "12.345", ""},
		{money("100", "CHF"), "", "Bill.Currency"},
		{money("-5", "USD"), "", "Bill.Amount"},
		{money("5", "usd"), "", "Bill.Currency"},
	}
	for _, tc := range cases {
		got, err := d.ConvertBill(tc.bill, rates)
		if tc.field != "" {
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != tc.field {
				t.Errorf("ConvertBill(%v) error = %v, want InvalidArgument on %s", tc.bill, err, tc.field)
			}
			continue
		}
		if err != nil || !got.Equal(dec(tc.want)) {
			t.Errorf("ConvertBill(%v) = %v, %v; want %s", tc.bill, got, err, tc.want)
		}
	}
	d.Currency = "euro"
	_, err := d.ConvertBill(money("1", "EUR"), rates)
	if ce := errcode.All(err); len(ce) != 1 || ce[0].Code != errcode.InvalidConfig || ce[0].Field != "Discount.Currency" {
		t.Errorf("ConvertBill with a bad series currency: %v", err)
	}
}

func TestMoneyString(t *testing.T) {
	if got := money("12.50", "EUR").String(); got != "12.5 EUR" {
		t.Errorf("String = %q", got)
	}
}

// For random bills, discounts and rates: the discount is in the bill's
// currency, at most Scale decimal places, between zero and the bill, within
// the converted cap, and it does not shrink when the bill grows.
func TestApplyProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var d series.Discount
		if rapid.Bool().Draw(t, "fixed") {
			d = series.Discount{Kind: series.Fixed, Amount: decimal.New(rapid.Int64Range(1, 1e7).Draw(t, "amount"), -2)}
		} else {
			d = series.Discount{Kind: series.Percent, Percent: decimal.New(rapid.Int64Range(1, 10000).Draw(t, "percent"), -2)}
			if rapid.Bool().Draw(t, "capped") {
				d.Cap = decimal.NewNullDecimal(decimal.New(rapid.Int64Range(1, 1e6).Draw(t, "cap"), -2))
			}
		}
		d.Currency = "EUR"
		d.Scale = rapid.Int32Range(0, 4).Draw(t, "scale")
		billCur := rapid.SampledFrom([]string{"EUR", "USD"}).Draw(t, "currency")
		rate := decimal.New(rapid.Int64Range(1, 1e6).Draw(t, "rate"), -4)
		rs := series.FixedRates{{From: "EUR", To: "USD"}: rate}
		if billCur == "EUR" {
			rate = decimal.NewFromInt(1)
		}
		exp := -rapid.Int32Range(0, 4).Draw(t, "billScale")
		bill := series.Money{Amount: decimal.New(rapid.Int64Range(0, 1e9).Draw(t, "bill"), exp), Currency: billCur}

		got, err := d.Apply(bill, rs)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if got.Currency != billCur {
			t.Fatalf("currency %s, want %s", got.Currency, billCur)
		}
		if got.Amount.Sign() < 0 || got.Amount.GreaterThan(bill.Amount) {
			t.Fatalf("discount %v outside [0, %v]", got.Amount, bill.Amount)
		}
		if scale := d.EffectiveScale(); !got.Amount.Equal(got.Amount.Round(scale)) {
			t.Fatalf("discount %v has more than %d decimals", got.Amount, scale)
		}
		if d.Cap.Valid && got.Amount.GreaterThan(d.Cap.Decimal.Mul(rate)) {
			t.Fatalf("discount %v above the cap %v", got.Amount, d.Cap.Decimal.Mul(rate))
		}
		if d.Kind == series.Fixed && got.Amount.GreaterThan(d.Amount.Mul(rate).Round(d.EffectiveScale())) {
			t.Fatalf("discount %v above the fixed amount", got.Amount)
		}
		more := bill
		more.Amount = bill.Amount.Add(decimal.New(rapid.Int64Range(0, 1e6).Draw(t, "more"), exp))
		got2, err := d.Apply(more, rs)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if got2.Amount.LessThan(got.Amount) {
			t.Fatalf("bill %v gives %v but bill %v gives %v", bill.Amount, got.Amount, more.Amount, got2.Amount)
		}
	})
}

func BenchmarkApply(b *testing.B) {
	d := withCap(pct("15"), "20")
	bill := money("123.45", "USD")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Apply(bill, rates); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFixedRates(t *testing.T) {
	r, err := rates.Rate("CHF", "CHF")
	if err != nil || !r.Equal(dec("1")) {
		t.Errorf("Rate(CHF, CHF) = %v, %v", r, err)
	}
	r, err = rates.Rate("EUR", "USD")
	if err != nil || !r.Equal(dec("1.0837")) {
		t.Errorf("Rate(EUR, USD) = %v, %v", r, err)
	}
	_, err = rates.Rate("USD", "JPY")
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Currency" {
		t.Errorf("Rate(USD, JPY) error = %v", err)
	}
}
