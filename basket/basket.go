package basket

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/series"
)

// Bounds of a basket.
const (
	// MaxLines is the most lines a basket holds.
	MaxLines = 1000
	// MaxQuantity is the most units one line holds.
	MaxQuantity = 1_000_000
	// MaxCategories is the most categories one line names.
	MaxCategories = 100
	// MaxLineAmount bounds a line's amount (quantity times unit price) in
	// minor units: below 10^15 (ten trillion euros), so that a basket's
	// whole amount, and every product of two amounts, fits the arithmetic.
	MaxLineAmount = 1_000_000_000_000_000
)

// Line is one line of a basket: a quantity of one product at a unit price.
type Line struct {
	// ID identifies the line within its basket (a receipt's line number,
	// say); required, unique, at most 128 bytes.
	ID string `json:"id"`
	// Product is the product's id; required, at most 128 bytes.
	Product string `json:"product"`
	// Categories are the product's categories, each non-empty and at most
	// 128 bytes; at most MaxCategories.
	Categories []string `json:"categories,omitempty"`
	// Quantity is the number of units, 1 to MaxQuantity.
	Quantity int64 `json:"quantity"`
	// UnitPrice is the price of one unit in the basket's currency: not
	// negative, exact in the currency's minor units.
	UnitPrice decimal.Decimal `json:"unit_price"`
}

// Basket is the lines of one bill, in one currency.
type Basket struct {
	// Currency is an ISO 4217 code of three capital letters ("EUR").
	Currency string `json:"currency"`
	// Lines are the basket's lines, at most MaxLines.
	Lines []Line `json:"lines"`
}

// Validate reports every field of b that breaks a rule, each an
// *errcode.Error naming the field ("Currency", "Lines[3].Quantity"): code
// TooMany on "Lines" for more than MaxLines lines (then the lines are not
// read), InvalidArgument otherwise. errcode.All lists them; nil when b is
// valid.
func (b *Basket) Validate() error {
	_, err := b.prepare()
	return err
}

// Total returns what b's lines come to, the sum of their quantities times
// their unit prices, in minor units of b's currency, and true; or false
// when b has more than MaxLines lines or a line's quantity or unit price
// breaks a rule (Validate says which). It checks only the amounts.
func (b *Basket) Total() (int64, bool) {
	if len(b.Lines) > MaxLines {
		return 0, false
	}
	places := int32(series.MinorUnits(b.Currency))
	var t int64
	for i := range b.Lines {
		l := &b.Lines[i]
		if l.Quantity <= 0 || l.Quantity > MaxQuantity {
			return 0, false
		}
		price, msg := exactMinor(l.UnitPrice, places)
		if msg != "" || price > 0 && l.Quantity > (MaxLineAmount-1)/price {
			return 0, false
		}
		t += price * l.Quantity
	}
	return t, true
}

// line is a checked line: its amounts in minor units.
type line struct {
	qty    int64
	price  int64 // unit price
	amount int64 // qty × price
}

// prepared is a checked basket.
type prepared struct {
	b      *Basket
	places int32 // the currency's minor units
	lines  []line
	total  int64
}

// repeatsID reports whether two lines have the same id, not empty: their
// ids go into a hash table (FNV-1a, open addressing), and only ids that
// share a hash are compared.
func repeatsID(lines []Line) bool {
	var room [128]uint16
	table := room[:]
	if n := 2 * len(lines); n > len(room) {
		table = make([]uint16, 1<<bits.Len(uint(n-1)))
	}
	mask := uint32(len(table) - 1)
	for i := range lines {
		id := lines[i].ID
		if id == "" {
			continue
		}
		h := uint32(2166136261)
		for j := 0; j < len(id); j++ {
			h = (h ^ uint32(id[j])) * 16777619
		}
		for k := h & mask; ; k = (k + 1) & mask {
			if table[k] == 0 {
				table[k] = uint16(i + 1)
				break
			}
			if lines[table[k]-1].ID == id {
				return true
			}
		}
	}
	return false
}

// byID returns the indices of lines sorted by id, then index.
func byID(lines []Line) []int {
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(strings.Compare(lines[a].ID, lines[b].ID), cmp.Compare(a, b)) })
	return order
}

// prepare checks b and brings its amounts to minor units.
func (b *Basket) prepare() (*prepared, error) {
	p := new(prepared)
	if err := b.prepareInto(p); err != nil {
		return nil, err
	}
	return p, nil
}

// prepareInto is prepare into p, reusing the room p.lines has.
func (b *Basket) prepareInto(p *prepared) error {
	var f errcode.Fields
	if !isCurrency(b.Currency) {
		f.Add(errcode.InvalidArgument, "Currency", fmt.Sprintf("%q is not an ISO 4217 code of three capital letters", b.Currency))
	}
	if len(b.Lines) > MaxLines {
		f.Add(errcode.TooMany, "Lines", fmt.Sprintf("%d lines; a basket holds at most %d", len(b.Lines), MaxLines))
		return f.Err()
	}
	lines := p.lines[:0]
	if cap(lines) < len(b.Lines) {
		lines = make([]line, len(b.Lines))
	}
	*p = prepared{b: b, places: int32(series.MinorUnits(b.Currency)), lines: lines[:len(b.Lines)]}
	if repeatsID(b.Lines) {
		order := byID(b.Lines)
		for k, i := range order {
			if k > 0 && b.Lines[i].ID == b.Lines[order[k-1]].ID && b.Lines[i].ID != "" {
				f.Add(errcode.InvalidArgument, lineField(i, "ID"), fmt.Sprintf("line id %q is also line %d's", b.Lines[i].ID, order[k-1]))
			}
		}
	}
	for i := range b.Lines {
		l := &b.Lines[i]
		checkText(&f, i, "ID", l.ID)
		checkText(&f, i, "Product", l.Product)
		checkCategories(&f, i, l.Categories)
		p.lines[i] = checkAmounts(&f, i, l, p.places)
		p.total += p.lines[i].amount
	}
	return f.Err()
}

// lineField names a field of line i. (Names are built only for errors: a
// basket is checked on every redemption.)
func lineField(i int, name string) string { return "Lines[" + strconv.Itoa(i) + "]." + name }

// checkText adds an error on field name of line i unless s is a valid,
// non-empty id.
func checkText(f *errcode.Fields, i int, name, s string) {
	if s == "" {
		f.Add(errcode.InvalidArgument, lineField(i, name), "is required")
		return
	}
	if err := input.Text("", input.ID, s); err != nil {
		f.Add(errcode.InvalidArgument, lineField(i, name), errcode.All(err)[0].Message)
	}
}

func checkCategories(f *errcode.Fields, i int, cats []string) {
	if len(cats) > MaxCategories {
		f.Add(errcode.InvalidArgument, lineField(i, "Categories"), fmt.Sprintf("%d categories; a line names at most %d", len(cats), MaxCategories))
		return
	}
	for j, c := range cats {
		if c == "" || input.Text("", input.ID, c) != nil {
			checkText(f, i, "Categories["+strconv.Itoa(j)+"]", c)
		}
	}
}

// checkAmounts checks the quantity and unit price of line i and returns
// them in minor units.
func checkAmounts(f *errcode.Fields, i int, l *Line, places int32) line {
	out := line{qty: l.Quantity}
	okQty := true
	switch {
	case l.Quantity <= 0:
		f.Add(errcode.InvalidArgument, lineField(i, "Quantity"), "must be positive")
		okQty = false
	case l.Quantity > MaxQuantity:
		f.Add(errcode.InvalidArgument, lineField(i, "Quantity"), fmt.Sprintf("%d is above %d", l.Quantity, MaxQuantity))
		okQty = false
	}
	price, msg := exactMinor(l.UnitPrice, places)
	if msg != "" {
		f.Add(errcode.InvalidArgument, lineField(i, "UnitPrice"), msg)
		return out
	}
	out.price = price
	if !okQty {
		return out
	}
	if price > 0 && l.Quantity > (MaxLineAmount-1)/price {
		f.Add(errcode.InvalidArgument, lineField(i, "UnitPrice"),
			fmt.Sprintf("quantity times unit price must be below %d minor units", int64(MaxLineAmount)))
		return out
	}
	out.amount = price * l.Quantity
	return out
}

// exactMinor returns d in minor units of a currency with places decimal
// places, or why it cannot be: negative, too large, or finer than a minor
// unit.
func exactMinor(d decimal.Decimal, places int32) (int64, string) {
	if d.Sign() < 0 {
		return 0, "must not be negative"
	}
	e := int64(d.Exponent())
	if e < -series.MaxDigits || int64(d.NumDigits())+e > series.MaxDigits {
		return 0, fmt.Sprintf("has more than %d digits before or after the decimal point", series.MaxDigits)
	}
	shift := e + int64(places)
	if shift < 0 {
		// Drop trailing zeros of the coefficient before refusing.
		r := d.Truncate(places)
		if !r.Equal(d) {
			return 0, fmt.Sprintf("has more decimal places than a minor unit allows (%d)", places)
		}
		d, shift = r, int64(r.Exponent())+int64(places)
	}
	if d.NumDigits()+int(shift) > 18 || d.NumDigits() > 18 {
		return 0, fmt.Sprintf("must be below %d minor units", int64(MaxLineAmount))
	}
	c := d.CoefficientInt64() * pow10[shift]
	if c >= MaxLineAmount {
		return 0, fmt.Sprintf("must be below %d minor units", int64(MaxLineAmount))
	}
	return c, ""
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func isCurrency(c string) bool {
	return len(c) == 3 && 'A' <= c[0] && c[0] <= 'Z' && 'A' <= c[1] && c[1] <= 'Z' && 'A' <= c[2] && c[2] <= 'Z'
}

// decimalOf is n minor units with places decimal places.
func decimalOf(n int64, places int32) decimal.Decimal { return decimal.New(n, -places) }
