package series

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
)

// DiscountKind is the kind of discount a coupon gives. The zero value is not
// a kind.
type DiscountKind uint8

// The discount kinds.
const (
	// Fixed takes a fixed amount off the bill.
	Fixed DiscountKind = iota + 1
	// Percent takes a percentage of the bill, optionally capped.
	Percent
	// PerUnit takes a fixed amount off each eligible unit of a basket
	// (never more than the unit's price). It needs the basket's lines:
	// Apply, which sees only the bill, refuses it.
	PerUnit
)

var discountKindNames = []string{Fixed: "fixed", Percent: "percent", PerUnit: "per_unit"}

// String returns "fixed", "percent" or "per_unit", or "DiscountKind(n)".
func (v DiscountKind) String() string { return enumString(discountKindNames, v, "DiscountKind") }

// MarshalText implements encoding.TextMarshaler; an unknown kind fails.
func (v DiscountKind) MarshalText() ([]byte, error) {
	return enumText(discountKindNames, v, "DiscountKind")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *DiscountKind) UnmarshalText(b []byte) error {
	return parseEnum(discountKindNames, b, "DiscountKind", v)
}

// Scales of discount results.
const (
	DefaultScale = 2  // decimal places when Discount.Scale is zero
	MaxScale     = 10 // most decimal places Discount.Scale may ask for
)

// Discount is what a redemption takes off the bill.
type Discount struct {
	Kind DiscountKind `json:"kind,omitzero"`
	// Amount is the fixed discount, or for PerUnit the discount on each
	// unit, in Currency; positive. Fixed and PerUnit only.
	Amount decimal.Decimal `json:"amount,omitzero"`
	// Percent is the percentage of the bill, 0 < Percent <= 100. Percent
	// only.
	Percent decimal.Decimal `json:"percent,omitzero"`
	// Cap, when valid, is the largest discount a Percent discount gives, in
	// Currency; positive. Percent only.
	Cap decimal.NullDecimal `json:"cap,omitzero"`
	// Currency is the series' currency, an ISO 4217 code of three capital
	// letters ("EUR"). Amount, Cap and the series' bill bounds
	// (Redemption.MinBill, MaxBill) are in it. Required for every kind.
	Currency string `json:"currency"`
	// Scale is the number of decimal places discounts are rounded to, 0 to
	// MaxScale; zero means DefaultScale (2). (So zero decimal places cannot
	// be asked for: a currency without minor units gets .00 amounts.)
	Scale int32 `json:"scale,omitempty"`
}

// EffectiveScale is Scale, or DefaultScale when Scale is zero.
func (d *Discount) EffectiveScale() int32 {
	if d.Scale == 0 {
		return DefaultScale
	}
	return d.Scale
}

func (d *Discount) validateInto(f *errcode.Fields, p string) {
	// Check the size of each number before comparing it: comparing decimals
	// whose exponents differ by a billion would take forever.
	okAmount := checkDigits(f, p, "Amount", d.Amount)
	okPercent := checkDigits(f, p, "Percent", d.Percent)
	okCap := !d.Cap.Valid || checkDigits(f, p, "Cap", d.Cap.Decimal)
	switch d.Kind {
	case Fixed, PerUnit:
		if okAmount && d.Amount.Sign() <= 0 {
			f.Add(errcode.InvalidConfig, p+"Amount", "the discount must be positive")
		}
		if !d.Percent.IsZero() {
			f.Add(errcode.InvalidConfig, p+"Percent", "applies only to a percent discount")
		}
		if d.Cap.Valid {
			f.Add(errcode.InvalidConfig, p+"Cap", "applies only to a percent discount")
		}
	case Percent:
		if okPercent && (d.Percent.Sign() <= 0 || d.Percent.GreaterThan(hundred)) {
			f.Add(errcode.InvalidConfig, p+"Percent", fmt.Sprintf("%s is outside (0, 100]", d.Percent))
		}
		if !d.Amount.IsZero() {
			f.Add(errcode.InvalidConfig, p+"Amount", "applies only to a fixed or per-unit discount")
		}
		if d.Cap.Valid && okCap && d.Cap.Decimal.Sign() <= 0 {
			f.Add(errcode.InvalidConfig, p+"Cap", "must be positive")
		}
	default:
		checkEnum(f, p+"Kind", discountKindNames, d.Kind, "discount kind")
	}
	if !isCurrency(d.Currency) {
		f.Add(errcode.InvalidConfig, p+"Currency", fmt.Sprintf("%q is not an ISO 4217 code of three capital letters", d.Currency))
	}
	if d.Scale < 0 || d.Scale > MaxScale {
		f.Add(errcode.InvalidConfig, p+"Scale", fmt.Sprintf("%d is outside 0..%d", d.Scale, MaxScale))
	}
}

var hundred = decimal.NewFromInt(100)

// MaxDigits bounds the numbers of a series and the bills it is applied to:
// at most MaxDigits decimal places as written, and a magnitude below
// 10^MaxDigits. It keeps arithmetic on numbers from outside cheap.
const MaxDigits = 18

// saneDigits reports whether v is within MaxDigits.
func saneDigits(v decimal.Decimal) bool {
	e := int64(v.Exponent())
	return e >= -MaxDigits && int64(v.NumDigits())+e <= MaxDigits
}

// checkDigits adds an error for the field prefix+name unless v is within
// MaxDigits, and reports whether it is. (The name is built only for the
// error: a discount is checked on every redemption.)
func checkDigits(f *errcode.Fields, prefix, name string, v decimal.Decimal) bool {
	if saneDigits(v) {
		return true
	}
	f.Add(errcode.InvalidConfig, prefix+name, fmt.Sprintf("has more than %d digits before or after the decimal point", MaxDigits))
	return false
}

// Money is an amount in a currency (an ISO 4217 code such as "EUR").
type Money struct {
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// String formats m as "<amount> <currency>", for example "12.5 EUR".
func (m Money) String() string { return m.Amount.String() + " " + m.Currency }

// Rates converts between currencies. Rate returns the factor r such that an
// amount a in currency from is worth a*r in currency to; it is positive.
// Implementations are supplied by the caller (for example a snapshot of the
// day's rates) and must not block. couponkit asks only for from != to.
type Rates interface {
	Rate(from, to string) (decimal.Decimal, error)
}

// CurrencyPair is a source and a target currency.
type CurrencyPair struct{ From, To string }

// FixedRates is a [Rates] from a fixed table. Rate of a currency to itself is
// one; any other pair must be in the table (the inverse pair is not
// derived).
type FixedRates map[CurrencyPair]decimal.Decimal

// Rate implements [Rates]. A missing pair is an *errcode.Error with code
// InvalidArgument on field "Currency".
func (r FixedRates) Rate(from, to string) (decimal.Decimal, error) {
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	if x, ok := r[CurrencyPair{from, to}]; ok {
		return x, nil
	}
	return decimal.Decimal{}, errcode.New(errcode.InvalidArgument, "Currency", fmt.Sprintf("no rate from %s to %s", from, to))
}

// Apply returns the discount d gives on bill, in the bill's currency. A
// coupon's value is converted to the store's currency at the time of the
// transaction: the bill is in the store's currency, a Fixed amount is
// converted from d.Currency into it, and a Percent discount is that
// percentage of the bill with Cap converted likewise.
//
// The discount is never negative and never exceeds the bill or the
// converted cap. It is rounded to EffectiveScale decimal places, half away
// from zero (decimal.Decimal.Round); when rounding up would pass the bill or
// the cap, it is that bound truncated to the scale instead.
//
// rates is asked only when the currencies differ and a conversion is needed
// (a Percent discount without a cap needs none); it may then be nil.
//
// Errors, each an *errcode.Error: InvalidConfig ("Discount.<field>") when d
// does not validate; InvalidArgument on "Bill" for a PerUnit discount, which
// needs the basket's lines (package basket); InvalidArgument on "Bill.Amount" for a negative bill or
// one beyond MaxDigits; InvalidArgument on "Bill.Currency" for a malformed
// currency or a missing or non-positive rate. An error from rates is
// wrapped, or, when it is itself an InvalidArgument *errcode.Error (as from
// FixedRates), its message and cause are kept under "Bill.Currency".
func (d Discount) Apply(bill Money, rates Rates) (Money, error) {
	var f errcode.Fields
	d.validateInto(&f, "Discount.")
	if err := f.Err(); err != nil {
		return Money{}, err
	}
	if err := checkBill(bill); err != nil {
		return Money{}, err
	}
	if d.Kind == PerUnit {
		return Money{}, errcode.New(errcode.InvalidArgument, "Bill", "a per-unit discount needs the basket's lines")
	}
	if bill.Currency == d.Currency {
		if out, ok := d.applySmall(bill.Amount); ok {
			return Money{Amount: out, Currency: bill.Currency}, nil
		}
	}
	return d.applyDecimal(bill, rates)
}

// applyDecimal is Apply's arithmetic, on checked input.
func (d *Discount) applyDecimal(bill Money, rates Rates) (Money, error) {
	upper := bill.Amount // the discount never passes it
	var raw decimal.Decimal
	switch d.Kind {
	case Fixed:
		r, err := rate(d.Currency, bill.Currency, rates)
		if err != nil {
			return Money{}, err
		}
		raw = d.Amount.Mul(r)
	case Percent:
		raw = bill.Amount.Mul(d.Percent).Shift(-2)
		if d.Cap.Valid {
			r, err := rate(d.Currency, bill.Currency, rates)
			if err != nil {
				return Money{}, err
			}
			upper = decimal.Min(upper, d.Cap.Decimal.Mul(r))
		}
	}
	raw = decimal.Min(raw, upper)
	scale := d.EffectiveScale()
	out := raw.Round(scale)
	if out.GreaterThan(upper) {
		out = upper.Truncate(scale)
	}
	return Money{Amount: out, Currency: bill.Currency}, nil
}

// ConvertBill returns the bill's amount in the series' currency (d.Currency),
// unrounded, for comparison with Redemption.MinBill and MaxBill. Errors are
// as for [Discount.Apply], with InvalidConfig on "Discount.Currency" when
// the series' currency is malformed.
func (d Discount) ConvertBill(bill Money, rates Rates) (decimal.Decimal, error) {
	if !isCurrency(d.Currency) {
		return decimal.Decimal{}, errcode.New(errcode.InvalidConfig, "Discount.Currency",
			fmt.Sprintf("%q is not an ISO 4217 code of three capital letters", d.Currency))
	}
	if err := checkBill(bill); err != nil {
		return decimal.Decimal{}, err
	}
	if bill.Currency == d.Currency {
		return bill.Amount, nil
	}
	r, err := rate(bill.Currency, d.Currency, rates)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return bill.Amount.Mul(r), nil
}

func checkBill(bill Money) error {
	if !isCurrency(bill.Currency) {
		return errcode.New(errcode.InvalidArgument, "Bill.Currency",
			fmt.Sprintf("%q is not an ISO 4217 code of three capital letters", bill.Currency))
	}
	if !saneDigits(bill.Amount) {
		return errcode.New(errcode.InvalidArgument, "Bill.Amount",
			fmt.Sprintf("has more than %d digits before or after the decimal point", MaxDigits))
	}
	if bill.Amount.Sign() < 0 {
		return errcode.New(errcode.InvalidArgument, "Bill.Amount", "must not be negative")
	}
	return nil
}

// rate is the factor converting from into to, asking rates only when the
// currencies differ; errors name the bill's currency.
func rate(from, to string, rates Rates) (decimal.Decimal, error) {
	return RateFor("Bill.Currency", from, to, rates)
}

// RateFor returns the factor converting an amount in currency from into
// currency to: one when they are equal, else rates.Rate(from, to). Errors
// are *errcode.Error values with code InvalidArgument on field: no rates
// given, an error from rates (wrapped, or, when it is itself an
// InvalidArgument *errcode.Error as from FixedRates, its message and cause
// kept), or a rate that is not positive.
func RateFor(field, from, to string, rates Rates) (decimal.Decimal, error) {
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	if rates == nil {
		return decimal.Decimal{}, errcode.New(errcode.InvalidArgument, field,
			fmt.Sprintf("no rates given to convert %s to %s", from, to))
	}
	r, err := rates.Rate(from, to)
	if err != nil {
		var ce *errcode.Error
		if errors.As(err, &ce) && ce.Code == errcode.InvalidArgument {
			// A missing rate, as FixedRates reports it: name the field.
			return decimal.Decimal{}, &errcode.Error{Code: errcode.InvalidArgument, Field: field,
				Message: ce.Message, Err: ce.Err}
		}
		return decimal.Decimal{}, &errcode.Error{Code: errcode.InvalidArgument, Field: field,
			Message: fmt.Sprintf("cannot convert %s to %s", from, to), Err: err}
	}
	if r.Sign() <= 0 {
		return decimal.Decimal{}, errcode.New(errcode.InvalidArgument, field,
			fmt.Sprintf("rate from %s to %s is %s, not positive", from, to, r))
	}
	return r, nil
}

func isCurrency(c string) bool {
	return len(c) == 3 && 'A' <= c[0] && c[0] <= 'Z' && 'A' <= c[1] && c[1] <= 'Z' && 'A' <= c[2] && c[2] <= 'Z'
}
