package basket_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/errcode"
)

func TestValidate(t *testing.T) {
	ok := func() *basket.Basket {
		return eurBasket(line("1", "boots", 1, "120.00", "shoes"), line("2", "socks", 3, "4.99"))
	}
	many := make([]basket.Line, basket.MaxLines+1)
	for i := range many {
		many[i] = line(strings.Repeat("x", i%100+1)+string(rune('a'+i/100)), "p", 1, "1")
	}
	for _, tc := range []struct {
		name string
		mod  func(*basket.Basket)
		want []string // code:field
	}{
		{"valid", func(*basket.Basket) {}, nil},
		{"free item", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("0") }, nil},
		{"trailing zeros", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("4.9900") }, nil},
		{"no lines", func(b *basket.Basket) { b.Lines = nil }, nil},
		{"currency", func(b *basket.Basket) { b.Currency = "eur" }, []string{"1002:Currency"}},
		{"zero quantity", func(b *basket.Basket) { b.Lines[1].Quantity = 0 }, []string{"1002:Lines[1].Quantity"}},
		{"negative quantity", func(b *basket.Basket) { b.Lines[0].Quantity = -2 }, []string{"1002:Lines[0].Quantity"}},
		{"huge quantity", func(b *basket.Basket) { b.Lines[0].Quantity = basket.MaxQuantity + 1 }, []string{"1002:Lines[0].Quantity"}},
		{"negative price", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("-1") }, []string{"1002:Lines[1].UnitPrice"}},
		{"fraction of a cent", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("4.995") }, []string{"1002:Lines[1].UnitPrice"}},
		{"yen with decimals", func(b *basket.Basket) { b.Currency = "JPY" }, []string{"1002:Lines[1].UnitPrice"}}, // 120.00 is 120 yen
		{"huge price", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("1e13") }, []string{"1002:Lines[1].UnitPrice"}},
		{"past MaxDigits", func(b *basket.Basket) { b.Lines[1].UnitPrice = dec("1e-40") }, []string{"1002:Lines[1].UnitPrice"}},
		{"line amount too large", func(b *basket.Basket) {
			b.Lines[0].Quantity, b.Lines[0].UnitPrice = basket.MaxQuantity, dec("1e7")
		}, []string{"1002:Lines[0].UnitPrice"}},
		{"duplicate id", func(b *basket.Basket) { b.Lines[1].ID = "1" }, []string{"1002:Lines[1].ID"}},
		{"empty id", func(b *basket.Basket) { b.Lines[0].ID = "" }, []string{"1002:Lines[0].ID"}},
		{"empty product", func(b *basket.Basket) { b.Lines[1].Product = "" }, []string{"1002:Lines[1].Product"}},
		{"control character", func(b *basket.Basket) { b.Lines[1].Product = "a\x00" }, []string{"1002:Lines[1].Product"}},
		{"empty category", func(b *basket.Basket) { b.Lines[0].Categories = []string{"shoes", ""} }, []string{"1002:Lines[0].Categories[1]"}},
		{"too many categories", func(b *basket.Basket) { b.Lines[0].Categories = make([]string, basket.MaxCategories+1) },
			[]string{"1002:Lines[0].Categories"}},
		{"too many lines", func(b *basket.Basket) { b.Lines = many }, []string{"1003:Lines"}},
		{"several", func(b *basket.Basket) { b.Currency, b.Lines[0].Quantity = "", 0 }, []string{"1002:Currency", "1002:Lines[0].Quantity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ok()
			tc.mod(b)
			if got := codeFields(b.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("Validate = %v, want %v", got, tc.want)
			}
		})
	}
}

func codeFields(err error) []string {
	var out []string
	for _, e := range errcode.All(err) {
		out = append(out, strconv.Itoa(int(e.Code))+":"+e.Field)
	}
	return out
}

// FuzzBasketJSON decodes arbitrary JSON as a basket and validates it:
// never a panic, and every error a typed one naming a field. A valid
// basket takes a discount whose parts sum to it within each line.
func FuzzBasketJSON(f *testing.F) {
	for _, b := range []*basket.Basket{
		eurBasket(line("1", "boots", 1, "120.00", "shoes"), line("2", "socks", 3, "4.99")),
		{Currency: "JPY", Lines: []basket.Line{line("1", "tea", 2, "1999")}},
	} {
		data, err := json.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"currency":"EUR","lines":[{"id":"1","product":"p","quantity":1000000,"unit_price":"9999999999.99"},{"id":"1"}]}`))
	f.Add([]byte(`{"currency":"KWD","lines":[{"id":"x","product":"p","quantity":-1,"unit_price":"1e-19","categories":["",""]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b basket.Basket
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		err := b.Validate()
		for _, e := range errcode.All(err) {
			if (e.Code != errcode.InvalidArgument && e.Code != errcode.TooMany) || e.Field == "" {
				t.Fatalf("untyped or unnamed error %#v", e)
			}
		}
		if err != nil {
			if len(errcode.All(err)) == 0 {
				t.Fatalf("error without an *errcode.Error: %v", err)
			}
			return
		}
		c := basket.Coupon{Code: "F", Discount: shoes().Discount}
		c.Discount.Currency = b.Currency
		d, err := basket.Apply(&b, c, nil)
		if err != nil {
			t.Fatalf("Apply on a valid basket: %v", err)
		}
		checkParts(t, d)
	})
}

// checkParts fails unless d's parts sum to its discount and none passes
// its base or goes below zero.
func checkParts(t interface {
	Helper()
	Fatalf(string, ...any)
}, d basket.Decision) {
	t.Helper()
	var sum int64
	for _, p := range d.Parts {
		if p.Discount < 0 || p.Discount > p.Base {
			t.Fatalf("part %+v outside 0..base", p)
		}
		sum += p.Discount
	}
	if sum != d.Minor {
		t.Fatalf("parts sum to %d, discount %d: %+v", sum, d.Minor, d.Parts)
	}
}
