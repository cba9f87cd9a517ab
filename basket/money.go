package basket

import (
	"math/bits"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/series"
)

// maxMinor is where amounts from outside saturate: above every basket's
// whole amount (MaxLines × MaxLineAmount), so that a bound it stands for
// never binds.
const maxMinor = MaxLines * MaxLineAmount

// rateOf is the factor converting from into to, asking rates only when the
// currencies differ. Errors are InvalidArgument on "Currency".
func rateOf(from, to string, rates series.Rates) (decimal.Decimal, error) {
	if from == to {
		return unitRate, nil
	}
	return series.RateFor("Currency", from, to, rates)
}

// Roundings to minor units.
const (
	down = iota
	halfUp
	up
)

// minorRound is the non-negative d in minor units of places decimal
// places, rounded half away from zero, saturating at maxMinor.
func minorRound(d decimal.Decimal, places int32) int64 {
	if c, ok := minorFast(d, places, halfUp); ok {
		return c
	}
	return saturate(d.Shift(places).Round(0))
}

// minorFloor is the non-negative d in minor units, rounded down,
// saturating at maxMinor.
func minorFloor(d decimal.Decimal, places int32) int64 {
	if c, ok := minorFast(d, places, down); ok {
		return c
	}
	return saturate(d.Shift(places).Floor())
}

// minorCeil is the non-negative d in minor units, rounded up, saturating
// at maxMinor.
func minorCeil(d decimal.Decimal, places int32) int64 {
	if c, ok := minorFast(d, places, up); ok {
		return c
	}
	return saturate(d.Shift(places).Ceil())
}

// minorFast is minorRound, minorFloor or minorCeil on int64, reporting
// false when d does not fit.
func minorFast(d decimal.Decimal, places int32, mode int) (int64, bool) {
	if d.Sign() < 0 || d.NumDigits() > 18 {
		return 0, false
	}
	c, k := d.CoefficientInt64(), int64(d.Exponent())+int64(places)
	switch {
	case k >= 0:
		if k > 18 || c > maxMinor/pow10[k] {
			return 0, false
		}
		return c * pow10[k], true
	case k < -18:
		return 0, false
	}
	q, r := c/pow10[-k], c%pow10[-k]
	if mode == halfUp && 2*r >= pow10[-k] || mode == up && r > 0 {
		q++
	}
	return q, true
}

// saturate is the integer d, at most maxMinor.
func saturate(d decimal.Decimal) int64 {
	if d.Sign() <= 0 {
		return 0
	}
	if d.GreaterThan(decimal.NewFromInt(maxMinor)) {
		return maxMinor
	}
	return d.IntPart()
}

// mulDiv returns a×b / c and its remainder, for a×b/c below 2^64 and c > 0.
func mulDiv(a, b, c int64) (q, r int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	uq, ur := bits.Div64(hi, lo, uint64(c))
	return int64(uq), int64(ur)
}

// mulSat is a×b for non-negative a and b, at most maxMinor.
func mulSat(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > maxMinor {
		return maxMinor
	}
	return int64(lo)
}

// percentOf is pct percent of s minor units, rounded half away from zero.
func percentOf(s int64, pct decimal.Decimal) int64 {
	if pct.NumDigits() <= 18 {
		c, e := pct.CoefficientInt64(), int64(pct.Exponent())-2
		switch {
		case e >= 0 && e <= 18:
			return mulSat(s, mulSat(c, pow10[e]))
		case e < 0 && e >= -18:
			q, r := mulDiv(s, c, pow10[-e])
			if 2*r >= pow10[-e] {
				q++
			}
			return q
		}
	}
	return saturate(decimal.NewFromInt(s).Mul(pct).Shift(-2).Round(0))
}

// convert brings an amount of the series' currency cur into minor units of
// the basket's currency, rounded by round.
func (pb *prepared) convert(amount decimal.Decimal, cur string, rates series.Rates, round func(decimal.Decimal, int32) int64) (int64, error) {
	if cur == pb.b.Currency {
		return round(amount, pb.places), nil
	}
	r, err := rateOf(cur, pb.b.Currency, rates)
	if err != nil {
		return 0, err
	}
	return round(amount.Mul(r), pb.places), nil
}
