package limits

import "github.com/shopspring/decimal"

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// cmpMoney is a.Cmp(b) without allocating when both amounts have at most 18
// significant digits after being brought to the same exponent, which covers
// every real bill; other amounts fall back to decimal.Cmp.
func cmpMoney(a, b decimal.Decimal) int {
	ea, eb := a.Exponent(), b.Exponent()
	if ea == eb {
		return a.Cmp(b)
	}
	da, db := a.NumDigits(), b.NumDigits()
	if da > 18 || db > 18 {
		return a.Cmp(b)
	}
	ca, cb := a.CoefficientInt64(), b.CoefficientInt64()
	// Scale the coefficient with the larger exponent down to the smaller one.
	if ea > eb {
		k := int(ea - eb)
		if k+da > 18 {
			return a.Cmp(b)
		}
		ca *= pow10[k]
	} else {
		k := int(eb - ea)
		if k+db > 18 {
			return a.Cmp(b)
		}
		cb *= pow10[k]
	}
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}
