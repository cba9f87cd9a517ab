package basket_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

var (
	products   = []string{"p1", "p2", "p3", "p4", "p5"}
	categories = []string{"c1", "c2", "c3", "c4"}
)

func genBasket(t *rapid.T) *basket.Basket {
	cur := rapid.SampledFrom([]string{"EUR", "JPY", "KWD"}).Draw(t, "currency")
	places := int32(series.MinorUnits(cur))
	n := rapid.OneOf(rapid.Just(0), rapid.IntRange(1, 8), rapid.IntRange(1, 8), rapid.IntRange(1, 8)).Draw(t, "lines")
	b := &basket.Basket{Currency: cur}
	for i := range n {
		b.Lines = append(b.Lines, basket.Line{
			ID:         "L" + strconv.Itoa(i),
			Product:    rapid.SampledFrom(products).Draw(t, "product"),
			Categories: rapid.SliceOfNDistinct(rapid.SampledFrom(categories), 0, 2, rapid.ID).Draw(t, "categories"),
			Quantity:   rapid.Int64Range(1, 12).Draw(t, "quantity"),
			// Prices from a few values often tie the split's remainders.
			UnitPrice: decimal.New(rapid.OneOf(rapid.SampledFrom([]int64{100, 250, 999}), rapid.Int64Range(0, 100),
				rapid.Int64Range(0, 100_000)).Draw(t, "price"), -places),
		})
	}
	return b
}

func genRules(t *rapid.T, cur string) series.ProductRules {
	sub := func(name string, from []string) []string {
		return rapid.SliceOfNDistinct(rapid.SampledFrom(from), 0, 2, rapid.ID).Draw(t, name)
	}
	p := series.ProductRules{Include: sub("include", products), IncludeCategories: sub("includeCats", categories)}
	p.Exclude = slices.DeleteFunc(sub("exclude", products), func(x string) bool { return slices.Contains(p.Include, x) })
	p.ExcludeCategories = slices.DeleteFunc(sub("excludeCats", categories), func(x string) bool { return slices.Contains(p.IncludeCategories, x) })
	p.MinQuantity = rapid.Int64Range(0, 6).Draw(t, "minQuantity")
	if rapid.Bool().Draw(t, "minSubtotal") {
		p.MinSubtotal = decimal.NewNullDecimal(decimal.New(rapid.Int64Range(1, 50_000).Draw(t, "min"), -int32(series.MinorUnits(cur))))
	}
	return p
}

func genDiscount(t *rapid.T, cur string) series.Discount {
	places := -int32(series.MinorUnits(cur))
	d := series.Discount{Kind: series.DiscountKind(rapid.IntRange(1, 3).Draw(t, "kind")), Currency: cur}
	switch d.Kind {
	case series.Percent:
		d.Percent = decimal.New(rapid.Int64Range(1, 10_000).Draw(t, "percent"), -2)
		if rapid.Bool().Draw(t, "capped") {
			d.Cap = decimal.NewNullDecimal(decimal.New(rapid.Int64Range(1, 50_000).Draw(t, "cap"), places))
		}
	default:
		d.Amount = decimal.New(rapid.Int64Range(1, 50_000).Draw(t, "amount"), places)
	}
	return d
}

func genLeft(t *rapid.T, name string) basket.Left {
	if rapid.Bool().Draw(t, name+"Capped") {
		return basket.Cap(rapid.Int64Range(0, 30_000).Draw(t, name))
	}
	return basket.Left{}
}

func genCoupon(t *rapid.T, code, cur string) basket.Coupon {
	c := basket.Coupon{Code: code, Discount: genDiscount(t, cur), Products: genRules(t, cur)}
	if rapid.IntRange(0, 4).Draw(t, "exclusive") == 0 {
		c.Stacking.Exclusive = true
	} else {
		c.Stacking.Group = rapid.SampledFrom([]string{"", "", "g"}).Draw(t, "group")
		c.Stacking.MaxPerBill = rapid.IntRange(0, 3).Draw(t, "maxPerBill")
	}
	c.Stacking.Priority = rapid.IntRange(0, 3).Draw(t, "priority")
	c.Budget = basket.Budget{Total: genLeft(t, "total"), Customer: genLeft(t, "customer"),
		Policy: series.BudgetPolicy(rapid.IntRange(0, 1).Draw(t, "policy"))}
	return c
}

func genCoupons(t *rapid.T, cur string) []basket.Coupon {
	n := rapid.IntRange(1, 4).Draw(t, "coupons")
	out := make([]basket.Coupon, n)
	for i := range out {
		out[i] = genCoupon(t, fmt.Sprintf("C%d", i), cur)
	}
	return out
}

// Every applied coupon's parts sum to its discount, none passes what the
// coupons before it left of its line, and no line goes below zero: what
// each line comes to after all of them is its amount less its parts.
func TestStackSplitsExactly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBasket(t)
		r, err := basket.Stack(b, genCoupons(t, b.Currency), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, b, r)
	})
}

func checkResult(t *rapid.T, b *basket.Basket, r *basket.Result) {
	places := int32(series.MinorUnits(b.Currency))
	left := map[string]int64{}
	for _, l := range b.Lines {
		left[l.ID] = l.UnitPrice.Shift(places).IntPart() * l.Quantity
	}
	var sum int64
	for _, d := range r.Decisions {
		if !d.Applied {
			if len(d.Refusals) == 0 || d.Minor != 0 || len(d.Parts) != 0 {
				t.Fatalf("refused without a reason, or with a discount: %+v", d)
			}
			continue
		}
		checkParts(t, d)
		for _, p := range d.Parts {
			if p.Base != left[p.Line] {
				t.Fatalf("%s: part base %d, line %s had %d left", d.Code, p.Base, p.Line, left[p.Line])
			}
			left[p.Line] -= p.Discount
		}
		sum += d.Minor
	}
	for i, l := range b.Lines {
		if r.Left[i] != left[l.ID] || r.Left[i] < 0 {
			t.Fatalf("line %s left %d, want %d (>= 0)", l.ID, r.Left[i], left[l.ID])
		}
	}
	if sum != r.Minor {
		t.Fatalf("Minor %d, decisions sum to %d", r.Minor, sum)
	}
}

// Excluding a product or category never raises a coupon's discount.
func TestExcludeNeverRaises(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBasket(t)
		c := genCoupon(t, "C", b.Currency)
		// A budget that refuses is all or nothing: a smaller discount may
		// fit it where a larger one did not.
		c.Budget.Policy = series.BudgetReduce
		before, err := basket.Apply(b, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rapid.Bool().Draw(t, "byCategory") {
			x := rapid.SampledFrom(categories).Draw(t, "excluded")
			c.Products.ExcludeCategories = append(slices.Clone(c.Products.ExcludeCategories), x)
			c.Products.IncludeCategories = slices.DeleteFunc(slices.Clone(c.Products.IncludeCategories), func(s string) bool { return s == x })
		} else {
			x := rapid.SampledFrom(products).Draw(t, "excluded")
			c.Products.Exclude = append(slices.Clone(c.Products.Exclude), x)
			c.Products.Include = slices.DeleteFunc(slices.Clone(c.Products.Include), func(s string) bool { return s == x })
		}
		c.Products.Exclude = slices.Compact(slices.Sorted(slices.Values(c.Products.Exclude)))
		c.Products.ExcludeCategories = slices.Compact(slices.Sorted(slices.Values(c.Products.ExcludeCategories)))
		if len(c.Products.Include)+len(c.Products.IncludeCategories) == 0 {
			return // removing the last include rule selects every product
		}
		after, err := basket.Apply(b, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after.Minor > before.Minor {
			t.Fatalf("an exclude raised the discount from %d to %d", before.Minor, after.Minor)
		}
	})
}

// The decisions do not depend on the order of the basket's lines or of
// the coupons.
func TestOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBasket(t)
		cs := genCoupons(t, b.Currency)
		r1, err := basket.Stack(b, cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		b2 := &basket.Basket{Currency: b.Currency, Lines: rapid.Permutation(b.Lines).Draw(t, "lines")}
		r2, err := basket.Stack(b2, rapid.Permutation(cs).Draw(t, "order"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if a, z := summary(r1), summary(r2); !slices.Equal(a, z) {
			t.Fatalf("reordered lines changed the result:\n%v\n%v", a, z)
		}
	})
}

// summary describes a result by line id, whatever the order of the lines.
func summary(r *basket.Result) []string {
	var out []string
	for _, d := range r.Decisions {
		s := fmt.Sprintf("%s %v %d %v", d.Code, d.Applied, d.Minor, d.Reduced)
		for _, rf := range d.Refusals {
			s += fmt.Sprintf(" %d", rf.Code)
		}
		parts := slices.Clone(d.Parts)
		slices.SortFunc(parts, func(a, b basket.Part) int { return strings.Compare(a.Line, b.Line) })
		out = append(out, s+fmt.Sprint(parts))
	}
	return out
}

// A budget is never passed: an applied coupon gives at most what is left
// of each of its caps, and a reduced one gives exactly the tighter cap.
func TestBudgetNeverPassed(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBasket(t)
		cs := genCoupons(t, b.Currency)
		r, err := basket.Stack(b, cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[string]basket.Coupon{}
		for _, c := range cs {
			byCode[c.Code] = c
		}
		for _, d := range r.Decisions {
			bg := byCode[d.Code].Budget
			tight := int64(-1)
			for _, l := range []basket.Left{bg.Total, bg.Customer} {
				if !l.Capped {
					continue
				}
				if d.Minor > l.Minor {
					t.Fatalf("%s gave %d with %d left", d.Code, d.Minor, l.Minor)
				}
				if tight < 0 || l.Minor < tight {
					tight = l.Minor
				}
			}
			if d.Reduced && (bg.Policy != series.BudgetReduce || d.Minor != tight) {
				t.Fatalf("%s reduced to %d; policy %v, tighter cap %d", d.Code, d.Minor, bg.Policy, tight)
			}
		}
	})
}

// Split gives parts that sum to the total, none above its weight, the same
// whatever the order of the lines.
func TestSplitProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(t, "n")
		w := rapid.SliceOfN(rapid.OneOf(rapid.Int64Range(0, 3), rapid.Int64Range(0, basket.MaxLineAmount-1)), n, n).Draw(t, "weights")
		var sum int64
		for _, x := range w {
			sum += x
		}
		total := rapid.Int64Range(0, sum).Draw(t, "total")
		ids := make([]string, n)
		for i := range ids {
			ids[i] = strconv.Itoa(i)
		}
		parts := make([]int64, n)
		basket.Split(total, w, ids, parts)
		var got int64
		for i, p := range parts {
			if p < 0 || p > w[i] {
				t.Fatalf("part %d = %d, weight %d", i, p, w[i])
			}
			got += p
		}
		if got != total {
			t.Fatalf("parts sum to %d, want %d", got, total)
		}
		perm := rapid.Permutation(ids).Draw(t, "perm")
		w2, parts2 := make([]int64, n), make([]int64, n)
		for i, id := range perm {
			j, _ := strconv.Atoi(id)
			w2[i] = w[j]
		}
		basket.Split(total, w2, perm, parts2)
		for i, id := range perm {
			j, _ := strconv.Atoi(id)
			if parts2[i] != parts[j] {
				t.Fatalf("line %s: %d in one order, %d in another", id, parts[j], parts2[i])
			}
		}
	})
}

// A tie in the split goes to the same line whatever the order the lines
// are given in: two lines of one price share a discount of one cent.
func TestSplitTieIndependentOfOrder(t *testing.T) {
	line := func(id string) basket.Line {
		return basket.Line{ID: id, Product: "p-" + id, Quantity: 1, UnitPrice: decimal.RequireFromString("1.00")}
	}
	c := basket.Coupon{Code: "CENT", Discount: series.Discount{Kind: series.Fixed, Amount: decimal.RequireFromString("0.01"), Currency: "EUR"}}
	var got []string
	for _, lines := range [][]basket.Line{{line("a"), line("b")}, {line("b"), line("a")}} {
		d, err := basket.Apply(&basket.Basket{Currency: "EUR", Lines: lines}, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Parts {
			if p.Discount > 0 {
				got = append(got, p.Line)
			}
		}
	}
	if len(got) != 2 || got[0] != got[1] {
		t.Errorf("the cent went to lines %v: the tie must be broken by line id, not by position", got)
	}
}

// TestLaterCouponSplitsWhatIsLeft: a coupon stacked after another splits
// its discount by what the first left of each line, not by the prices.
func TestLaterCouponSplitsWhatIsLeft(t *testing.T) {
	line := func(id string) basket.Line {
		return basket.Line{ID: id, Product: id, Quantity: 1, UnitPrice: decimal.RequireFromString("100.00")}
	}
	fixed := func(code, amount string, priority int, only ...string) basket.Coupon {
		return basket.Coupon{Code: code, Stacking: series.Stacking{Priority: priority},
			Discount: series.Discount{Kind: series.Fixed, Amount: decimal.RequireFromString(amount), Currency: "EUR"},
			Products: series.ProductRules{Include: only}}
	}
	b := &basket.Basket{Currency: "EUR", Lines: []basket.Line{line("a"), line("b")}}
	r, err := basket.Stack(b, []basket.Coupon{fixed("FIRST", "50", 0, "a"), fixed("THEN", "30", 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, p := range r.Decisions[1].Parts {
		got[p.Line] = p.Discount
	}
	// Line a has 50.00 left, line b 100.00: 30.00 splits 10.00 and 20.00.
	if want := map[string]int64{"a": 1000, "b": 2000}; got["a"] != want["a"] || got["b"] != want["b"] {
		t.Errorf("the second coupon's parts: %v, want %v (by what the first left)", got, want)
	}
}
