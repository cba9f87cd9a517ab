package basket_test

import (
	"math/big"
	"slices"
	"strconv"
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

// Validate refuses a line id exactly when an earlier line has it (not
// empty), naming each later line once: what comparing every pair says.
func TestRepeatedIDProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Distinct ids but for a few repeated, or empty, so that a repeat
		// is found alone among many ids that share hashes; many lines
		// fill the larger tables.
		n := rapid.OneOf(rapid.IntRange(1, 10), rapid.IntRange(60, 300)).Draw(t, "lines")
		b := &basket.Basket{Currency: "EUR"}
		for i := range n {
			b.Lines = append(b.Lines, basket.Line{ID: "L" + strconv.Itoa(i), Product: "p", Quantity: 1, UnitPrice: decimal.New(1, 0)})
		}
		for range rapid.IntRange(0, 2).Draw(t, "repeats") {
			i, j := rapid.IntRange(0, n-1).Draw(t, "from"), rapid.IntRange(0, n-1).Draw(t, "to")
			b.Lines[j].ID = b.Lines[i].ID
			if rapid.IntRange(0, 4).Draw(t, "empty") == 0 {
				b.Lines[j].ID = ""
			}
		}
		var want []string
		for i, l := range b.Lines {
			if l.ID == "" {
				want = append(want, "1002:Lines["+strconv.Itoa(i)+"].ID")
				continue
			}
			for _, o := range b.Lines[:i] {
				if o.ID == l.ID {
					want = append(want, "1002:Lines["+strconv.Itoa(i)+"].ID")
					break
				}
			}
		}
		got := codeFields(b.Validate())
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Validate names %v, want %v", got, want)
		}
	})
}

// plainSplit is largest remainder written plainly, in big integers: every
// line's exact share total×w/W, floored, and one more unit to each of the
// lines with the largest remainders, ties to the smaller id.
func plainSplit(total int64, w []int64, ids []string) []int64 {
	var sum big.Int
	for _, x := range w {
		sum.Add(&sum, big.NewInt(x))
	}
	parts := make([]int64, len(w))
	if total <= 0 || sum.Sign() == 0 {
		return parts
	}
	if sum.Cmp(big.NewInt(total)) <= 0 {
		return slices.Clone(w)
	}
	rems := make([]*big.Int, len(w))
	left := total
	for i, x := range w {
		var q, r big.Int
		q.QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(x)), &sum, &r)
		parts[i], rems[i] = q.Int64(), &r
		left -= parts[i]
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := rems[b].Cmp(rems[a]); c != 0 {
			return c
		}
		return strings.Compare(ids[a], ids[b])
	})
	for _, i := range order[:left] {
		parts[i]++
	}
	return parts
}

func TestSplitEqualsPlain(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(t, "n")
		w := rapid.SliceOfN(rapid.OneOf(rapid.Int64Range(0, 3), rapid.Int64Range(0, 1000), rapid.Int64Range(0, basket.MaxLineAmount-1)), n, n).Draw(t, "weights")
		var sum int64
		for _, x := range w {
			sum += x
		}
		total := rapid.Int64Range(0, sum+2).Draw(t, "total")
		ids := rapid.Permutation(rapid.SliceOfNDistinct(rapid.StringMatching(`[a-z0-9]{1,4}`), n, n, rapid.ID).Draw(t, "ids")).Draw(t, "order")
		parts := make([]int64, n)
		basket.Split(total, w, ids, parts)
		if want := plainSplit(total, w, ids); !slices.Equal(parts, want) {
			t.Fatalf("Split gives %v, want %v", parts, want)
		}
	})
}
