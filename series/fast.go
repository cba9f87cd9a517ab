package series

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// small is a non-negative decimal c·10^e whose coefficient has at most 18
// digits, so that the discount arithmetic of the usual case (bills, amounts
// and percentages of a few digits) runs on int64 without allocating. Every
// operation reports false when its result would not fit; the caller then
// falls back to decimal, so results never depend on which path ran.
type small struct {
	c int64
	e int32
}

const maxSmall = 1e18 // coefficients stay below this

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func toSmall(d decimal.Decimal) (small, bool) {
	if d.Sign() < 0 || d.NumDigits() > 18 {
		return small{}, false
	}
	return small{d.CoefficientInt64(), d.Exponent()}, true
}

func (x small) decimal() decimal.Decimal { return decimal.New(x.c, x.e) }

// mul is x·y, as decimal.Mul computes it (coefficients and exponents
// multiplied and added).
func (x small) mul(y small) (small, bool) {
	hi, lo := bits.Mul64(uint64(x.c), uint64(y.c))
	e := int64(x.e) + int64(y.e)
	if hi != 0 || lo >= maxSmall || e != int64(int32(e)) {
		return small{}, false
	}
	return small{int64(lo), int32(e)}, true
}

// scaledTo returns x's coefficient at exponent e <= x.e.
func (x small) scaledTo(e int32) (int64, bool) {
	k := int64(x.e) - int64(e)
	if k < 0 || k > 18 || x.c >= maxSmall/pow10[k] && x.c != 0 {
		return 0, false
	}
	return x.c * pow10[k], true
}

// cmp compares x and y like decimal.Cmp.
func (x small) cmp(y small) (int, bool) {
	e := min(x.e, y.e)
	a, ok1 := x.scaledTo(e)
	b, ok2 := y.scaledTo(e)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	}
	return 0, true
}

// round is decimal.Round(places) for a non-negative x: half up, exponent
// -places.
func (x small) round(places int32) (small, bool) {
	e := -places
	switch {
	case x.e == e:
		return x, true
	case x.e > e:
		c, ok := x.scaledTo(e)
		return small{c, e}, ok
	}
	// Keep one digit past places, add 5 and drop it.
	k := int64(e) - int64(x.e) - 1 // digits dropped before the last
	t := int64(0)
	if k <= 18 {
		t = x.c / pow10[k]
	}
	return small{(t + 5) / 10, e}, true
}

// truncate is decimal.Truncate(places) for a non-negative x.
func (x small) truncate(places int32) small {
	e := -places
	if e <= x.e {
		return x
	}
	k := int64(e) - int64(x.e)
	if k > 18 {
		return small{0, e}
	}
	return small{x.c / pow10[k], e}
}

// minOf is decimal.Min(a, b): a unless b is smaller.
func minOf(a, b small) (small, bool) {
	c, ok := a.cmp(b)
	if c > 0 {
		return b, ok
	}
	return a, ok
}

// applySmall is Apply's arithmetic for a bill in the series' currency, on
// int64. It reports false when some number does not fit, and never differs
// from the decimal arithmetic when it reports true.
func (d *Discount) applySmall(bill decimal.Decimal) (decimal.Decimal, bool) {
	b, ok := toSmall(bill)
	if !ok {
		return decimal.Decimal{}, false
	}
	upper, raw := b, small{}
	switch d.Kind {
	case Fixed:
		if raw, ok = toSmall(d.Amount); !ok {
			return decimal.Decimal{}, false
		}
	case Percent:
		p, ok := toSmall(d.Percent)
		if !ok {
			return decimal.Decimal{}, false
		}
		if raw, ok = b.mul(p); !ok {
			return decimal.Decimal{}, false
		}
		raw.e -= 2
		if d.Cap.Valid {
			cp, ok := toSmall(d.Cap.Decimal)
			if !ok {
				return decimal.Decimal{}, false
			}
			if upper, ok = minOf(upper, cp); !ok {
				return decimal.Decimal{}, false
			}
		}
	default:
		return decimal.Decimal{}, false
	}
	if raw, ok = minOf(raw, upper); !ok {
		return decimal.Decimal{}, false
	}
	scale := d.EffectiveScale()
	out, ok := raw.round(scale)
	if !ok {
		return decimal.Decimal{}, false
	}
	above, ok := out.cmp(upper)
	if !ok {
		return decimal.Decimal{}, false
	}
	if above > 0 {
		out = upper.truncate(scale)
	}
	return out.decimal(), true
}
