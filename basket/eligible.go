package basket

import (
	"slices"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Selects reports whether the product rules select a line of the given
// product and categories: it matches the include rules (or there are none)
// and no exclude rule.
func Selects(p *series.ProductRules, product string, categories []string) bool {
	m := newMatcher(p)
	return m.selects(product, categories)
}

// matcher answers Selects, with sets for long lists.
type matcher struct {
	include, exclude, includeCats, excludeCats set
	all                                        bool // no include rule
}

func newMatcher(p *series.ProductRules) matcher {
	return matcher{include: newSet(p.Include), exclude: newSet(p.Exclude),
		includeCats: newSet(p.IncludeCategories), excludeCats: newSet(p.ExcludeCategories),
		all: len(p.Include) == 0 && len(p.IncludeCategories) == 0}
}

func (m *matcher) selects(product string, categories []string) bool {
	if m.exclude.has(product) || m.excludeCats.hasAny(categories) {
		return false
	}
	return m.all || m.include.has(product) || m.includeCats.hasAny(categories)
}

// set is a list of strings, looked up through a map when it is long.
type set struct {
	list []string
	m    map[string]struct{}
}

// shortSet is the longest list searched in place.
const shortSet = 16

func newSet(list []string) set {
	s := set{list: list}
	if len(list) > shortSet {
		s.m = make(map[string]struct{}, len(list))
		for _, x := range list {
			s.m[x] = struct{}{}
		}
	}
	return s
}

func (s *set) has(x string) bool {
	if s.m != nil {
		_, ok := s.m[x]
		return ok
	}
	return slices.Contains(s.list, x)
}

func (s *set) hasAny(xs []string) bool {
	if len(s.list) == 0 {
		return false
	}
	for _, x := range xs {
		if s.has(x) {
			return true
		}
	}
	return false
}

// Selection is what a series' product rules select of a basket.
type Selection struct {
	// Eligible says, for each line in the basket's order, whether it is
	// eligible.
	Eligible []bool
	// Quantity is the eligible units; Subtotal the eligible lines' amount
	// in minor units of the basket's currency.
	Quantity int64
	Subtotal int64
}

// Select returns which lines of b the product rules select, with the
// refusals of a basket that falls short: no eligible line, or fewer
// eligible units or a smaller eligible subtotal than the rules ask (the
// subtotal converted into currency, the series' currency, with rates when
// the basket's differs). The refusals are nil when the basket qualifies.
//
// Errors, each an *errcode.Error: those of [Basket.Validate]; InvalidConfig
// on "Products.<field>" for rules that do not validate; InvalidArgument on
// "Currency" when a conversion is needed and rates has none.
func Select(p *series.ProductRules, currency string, b *Basket, rates series.Rates) (Selection, []refusal.Refusal, error) {
	pb, err := b.prepare()
	if err != nil {
		return Selection{}, nil, err
	}
	if err := p.Validate(); err != nil {
		return Selection{}, nil, err
	}
	sel := pb.selection(p)
	refs, err := pb.qualify(p, currency, &sel, rates)
	return sel, refs, err
}

// selection computes which lines p selects.
func (pb *prepared) selection(p *series.ProductRules) Selection {
	sel := Selection{Eligible: make([]bool, len(pb.lines))}
	pb.selectInto(p, &sel)
	return sel
}

// selectInto computes which lines p selects into sel, whose Eligible has
// a place for each line.
func (pb *prepared) selectInto(p *series.ProductRules, sel *Selection) {
	m := newMatcher(p)
	sel.Quantity, sel.Subtotal = 0, 0
	for i := range pb.b.Lines {
		l := &pb.b.Lines[i]
		sel.Eligible[i] = m.selects(l.Product, l.Categories)
		if sel.Eligible[i] {
			sel.Quantity += pb.lines[i].qty
			sel.Subtotal += pb.lines[i].amount
		}
	}
}

// qualify returns the refusals of a selection that falls short of p's
// minima: no eligible line alone, or each minimum not met.
func (pb *prepared) qualify(p *series.ProductRules, currency string, sel *Selection, rates series.Rates) ([]refusal.Refusal, error) {
	if sel.Quantity == 0 {
		return []refusal.Refusal{refusal.NoEligibleProduct()}, nil
	}
	var out []refusal.Refusal
	if p.MinQuantity > 0 && sel.Quantity < p.MinQuantity {
		out = append(out, refusal.FewEligibleUnits(p.MinQuantity, sel.Quantity))
	}
	if p.MinSubtotal.Valid {
		if currency == pb.b.Currency && sel.Subtotal >= minorCeil(p.MinSubtotal.Decimal, pb.places) {
			return out, nil // the usual case, without allocating
		}
		sub := decimalOf(sel.Subtotal, pb.places)
		if currency != pb.b.Currency {
			r, err := rateOf(pb.b.Currency, currency, rates)
			if err != nil {
				return nil, err
			}
			sub = sub.Mul(r)
		}
		if sub.LessThan(p.MinSubtotal.Decimal) {
			out = append(out, refusal.SmallEligibleSubtotal(
				series.Money{Amount: p.MinSubtotal.Decimal, Currency: currency},
				series.Money{Amount: sub, Currency: currency}))
		}
	}
	return out, nil
}

// unitRate is the rate of a currency to itself.
var unitRate = decimal.NewFromInt(1)
