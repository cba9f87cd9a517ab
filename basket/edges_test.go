package basket_test

import (
	"hash/fnv"
	"slices"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// The cases below each catch, every time, a fault the rapid properties
// meet only in some draws.

// TestTotalRefusesBadAmounts: Total refuses a quantity out of range and a
// price finer than the currency's minor unit, as Validate does, and adds
// up the rest exactly.
func TestTotalRefusesBadAmounts(t *testing.T) {
	line := func(qty int64, price string) basket.Line {
		return basket.Line{ID: "1", Product: "p", Quantity: qty, UnitPrice: decimal.RequireFromString(price)}
	}
	for _, c := range []struct {
		name string
		line basket.Line
		want int64 // minor units; -1: refused
	}{
		{"valid", line(3, "1.25"), 375},
		{"the largest quantity", line(basket.MaxQuantity, "0.01"), basket.MaxQuantity},
		{"no quantity", line(0, "1.00"), -1},
		{"a negative quantity", line(-1, "1.00"), -1},
		{"too many units", line(basket.MaxQuantity+1, "0.01"), -1},
		{"a price finer than a cent", line(1, "1.005"), -1},
	} {
		b := &basket.Basket{Currency: "EUR", Lines: []basket.Line{c.line}}
		got, ok := b.Total()
		if !ok {
			got = -1
		}
		if got != c.want {
			t.Errorf("%s: Total %d, want %d", c.name, got, c.want)
		}
		if valid := b.Validate() == nil; valid != (c.want >= 0) {
			t.Errorf("%s: Validate says valid %v, Total %d", c.name, valid, got)
		}
	}
}

// TestRepeatedIDAfterCollision: a line id repeated after another id that
// shares its slot in the table of ids is still found.
func TestRepeatedIDAfterCollision(t *testing.T) {
	slot := func(id string) uint32 {
		h := fnv.New32a()
		h.Write([]byte(id))
		return h.Sum32() & 127 // the table of a small basket has 128 slots
	}
	a, b := "L0", ""
	for i := 1; b == ""; i++ {
		if id := "L" + strconv.Itoa(i); slot(id) == slot(a) {
			b = id
		}
	}
	l := func(id string) basket.Line {
		return basket.Line{ID: id, Product: "p", Quantity: 1, UnitPrice: decimal.New(1, 0)}
	}
	bk := &basket.Basket{Currency: "EUR", Lines: []basket.Line{l(a), l(b), l(a)}}
	if got, want := codeFields(bk.Validate()), []string{"1002:Lines[2].ID"}; !slices.Equal(got, want) {
		t.Errorf("ids %s, %s, %s (the first two share a slot): %v, want %v", a, b, a, got, want)
	}
}

// TestFixedDiscountAboveTheLines: a fixed discount larger than what the
// eligible lines come to gives what they come to, and no line more than
// its price.
func TestFixedDiscountAboveTheLines(t *testing.T) {
	l := func(id string) basket.Line {
		return basket.Line{ID: id, Product: "p" + id, Quantity: 1, UnitPrice: decimal.RequireFromString("3.00")}
	}
	c := basket.Coupon{Code: "TEN", Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}}
	d, err := basket.Apply(&basket.Basket{Currency: "EUR", Lines: []basket.Line{l("1"), l("2")}}, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Minor != 600 || !d.Discount.Equal(decimal.RequireFromString("6")) {
		t.Errorf("discount %s (%d minor units), want the lines' 6.00", d.Discount, d.Minor)
	}
	for _, p := range d.Parts {
		if p.Discount != 300 {
			t.Errorf("line %s takes %d minor units, want its price, 300", p.Line, p.Discount)
		}
	}
}
