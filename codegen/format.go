package codegen

import (
	"fmt"
	"math/bits"

	"github.com/couponkit/couponkit/errcode"
)

// Format is the shape of a series' codes, without its key: the alphabet, the
// number of generated characters, the prefix and suffix, and whether a check
// character follows. It is everything needed to canonicalise and check a
// code a person typed ([Format.Canonical]) and to size the code space
// ([Format.Capacity], [Format.Fill]); it cannot make or decode codes, which
// needs the secret key and a [Generator]. A till that only reads codes needs
// a Format, never the key.
//
// A Generator embeds the Format of its spec, so a Generator's Canonical is
// its Format's.
//
// A Format is immutable and safe for concurrent use.
type Format struct {
	kind     kind
	alpha    *Alphabet
	chars    string
	radix    uint64
	length   int // generated characters, without the check character
	prefix   string
	suffix   string
	check    *quasigroup // nil without a check character
	width    int
	capacity uint64
}

// NewFormat returns the format of a series of generated unique codes: the
// shape spec's Alphabet, Length, Prefix, Suffix and CheckChar describe.
// spec.Count and spec.MaxFill do not shape codes and are not looked at.
//
// Errors: every problem at once (errcode.Fields), as InvalidConfig errors
// with Field "Alphabet", "Length", "Prefix", "Suffix" or "CheckChar", the
// same NewUnique reports for those fields.
func NewFormat(spec UniqueSpec) (*Format, error) {
	var fe errcode.Fields
	checkShape(&fe, spec)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return newFormat(kindUnique, spec.Alphabet, spec.Length, spec.Prefix, spec.Suffix, spec.CheckChar), nil
}

// NewRandomizedFormat returns the format of a randomized common series made
// from sample (see RandomizedSpec.Sample): the sample's fixed part as
// prefix, then generated characters of its alphabet, no check character
// and no suffix. A bad sample is an InvalidConfig error with Field
// "Sample".
func NewRandomizedFormat(sample string) (*Format, error) {
	s, err := canonicalSample(sample)
	if err != nil {
		return nil, errcode.New(errcode.InvalidConfig, "Sample", err.Error())
	}
	return randomizedFormat(s), nil
}

// checkShape adds the errors of the fields of spec that shape codes.
func checkShape(fe *errcode.Fields, spec UniqueSpec) {
	a := spec.Alphabet
	if a == nil {
		fe.Add(errcode.InvalidConfig, "Alphabet", "is required")
	}
	switch {
	case spec.Length < MinLength:
		fe.Add(errcode.InvalidConfig, "Length", fmt.Sprintf("must be at least %d", MinLength))
	case a != nil && spec.Length > maxDigits(uint64(a.Size())):
		fe.Add(errcode.InvalidConfig, "Length", fmt.Sprintf(
			"must be at most %d for an alphabet of %d characters (the code space must fit in 64 bits)",
			maxDigits(uint64(a.Size())), a.Size()))
	}
	if a != nil {
		checkAffix(fe, a, "Prefix", spec.Prefix)
		checkAffix(fe, a, "Suffix", spec.Suffix)
		if spec.CheckChar && !a.SupportsCheckChar() {
			fe.Add(errcode.InvalidConfig, "CheckChar", fmt.Sprintf(
				"an alphabet of %d characters cannot carry a check character", a.Size()))
		}
	}
}

// randomizedFormat is the format of a randomized common series; sample is
// canonical and valid.
func randomizedFormat(sample string) *Format {
	a := Alphanumeric()
	if isDigits(sample) {
		a = Numeric()
	}
	fixed := sample[:len(sample)/2]
	return newFormat(kindRandomized, a, len(sample)-len(fixed), fixed, "", false)
}

// newFormat builds a format from validated parts.
func newFormat(k kind, a *Alphabet, length int, prefix, suffix string, check bool) *Format {
	f := &Format{
		kind:   k,
		alpha:  a,
		chars:  a.chars,
		radix:  uint64(len(a.chars)),
		length: length,
		prefix: prefix,
		suffix: suffix,
	}
	f.width = len(prefix) + length + len(suffix)
	if check {
		f.check = a.check
		f.width++
	}
	f.capacity = pow(f.radix, length)
	return f
}

// Capacity returns the number of distinct codes: Alphabet().Size()^Length().
func (f *Format) Capacity() uint64 { return f.capacity }

// Width returns the number of bytes in every code (prefix, generated
// characters, check character and suffix).
func (f *Format) Width() int { return f.width }

// Length returns the number of generated characters, without prefix, suffix
// or check character.
func (f *Format) Length() int { return f.length }

// Alphabet returns the alphabet of the generated characters.
func (f *Format) Alphabet() *Alphabet { return f.alpha }

// Prefix returns the fixed text every code starts with: the spec's Prefix,
// or a randomized common series' fixed part.
func (f *Format) Prefix() string { return f.prefix }

// Suffix returns the fixed text every code ends with.
func (f *Format) Suffix() string { return f.suffix }

// HasCheckChar reports whether codes end (before the suffix) with a check
// character.
func (f *Format) HasCheckChar() bool { return f.check != nil }

// Fill returns the share of the code space taken by issued codes,
// issued / Capacity(). It is the guessability of the series: the chance that
// a well-formed code picked at random (right prefix, suffix, alphabet and
// check character, which anyone can compute) is an issued one.
func (f *Format) Fill(issued uint64) float64 {
	return float64(issued) / float64(f.capacity)
}

// Limit returns how many codes may be issued when at most the maxFill share
// of the code space may be: floor(maxFill * Capacity()), computed exactly
// with maxFill read as the decimal it prints as (0.0003 of 10,000 codes is
// 3, not the 2 of a float64 product), at most Capacity(); maxFill 0 means 1.
// A maxFill outside [0, 1] is an InvalidConfig error with Field "MaxFill".
func (f *Format) Limit(maxFill float64) (uint64, error) {
	var fe errcode.Fields
	checkMaxFill(&fe, maxFill)
	if err := fe.Err(); err != nil {
		return 0, err
	}
	if maxFill == 0 {
		maxFill = 1
	}
	return limitFor(f.capacity, maxFill), nil
}

// CheckCount reports whether a series of this format can issue count codes
// with at most the maxFill share of the space used (maxFill in (0, 1], 0
// meaning 1): nil when count <= Limit(maxFill); a CapacityExceeded error
// (Field "Count") when count is more than Capacity(); a FillRatioExceeded
// error (Field "Count") when it is within the capacity but past the limit;
// an InvalidConfig error (Field "MaxFill") for a bad maxFill. NewUnique and
// NewRandomizedCommon refuse a spec's Count with these errors.
func (f *Format) CheckCount(count uint64, maxFill float64) error {
	limit, err := f.Limit(maxFill)
	if err != nil {
		return err
	}
	if count > f.capacity {
		return errcode.New(errcode.CapacityExceeded, "Count", fmt.Sprintf(
			"%d codes requested, the code space holds %d", count, f.capacity))
	}
	if count > limit {
		if maxFill == 0 {
			maxFill = 1
		}
		return errcode.New(errcode.FillRatioExceeded, "Count", fmt.Sprintf(
			"%d codes requested, at most %d may be issued (%g of %d)", count, limit, maxFill, f.capacity))
	}
	return nil
}

// checkIssue is Generator.CheckIssue for a limit computed from maxFill.
func (f *Format) checkIssue(issued, requested, limit uint64, maxFill float64) error {
	total, carry := bits.Add64(issued, requested, 0)
	if carry != 0 || total > f.capacity {
		return errcode.New(errcode.CapacityExceeded, "Count", fmt.Sprintf(
			"%d issued and %d requested, the code space holds %d", issued, requested, f.capacity))
	}
	if total > limit {
		return errcode.New(errcode.FillRatioExceeded, "Count", fmt.Sprintf(
			"%d issued and %d requested, at most %d may be issued (%g of %d)",
			issued, requested, limit, maxFill, f.capacity))
	}
	return nil
}

// Canonical returns the canonical form of a code as a person may have typed
// it, after checking that it is a well-formed code of this format:
// surrounding ASCII white space removed, ASCII letters case-folded (and for
// ConfusionFree O->0, I/L->1, hyphens removed), then the width, prefix,
// suffix, alphabet and check character verified. The canonical form is what
// Generator.Code returns, and what to store and compare. It is printable
// ASCII: any input with a byte outside ASCII is refused, so a Unicode
// look-alike ("ſ", "ı", a full-width digit) never passes for an ASCII
// character. Canonical is idempotent.
//
// A well-formed code is not necessarily an issued one: use Generator.Decode
// and compare the index with the issued count. Errors: InvalidCode (Field
// "Code") for a malformed code, CheckFailed (Field "Code") when only the
// check character disagrees.
func (f *Format) Canonical(input string) (string, error) {
	var buf [maxWidth]byte
	var vals [maxLength]uint8
	if err := f.parse(&buf, &vals, input); err != nil {
		return "", err
	}
	return string(buf[:f.width]), nil
}

// parse canonicalises input into buf, checks its shape, and stores the
// values of the generated characters in vals.
func (f *Format) parse(buf *[maxWidth]byte, vals *[maxLength]uint8, input string) error {
	n, err := f.alpha.canonInto(buf[:f.width], input)
	if err != nil {
		return err
	}
	if n != f.width {
		return errcode.New(errcode.InvalidCode, "Code", fmt.Sprintf(
			"has %d characters, want %d", n, f.width))
	}
	code := buf[:n]
	if string(code[:len(f.prefix)]) != f.prefix {
		return errcode.New(errcode.InvalidCode, "Code", fmt.Sprintf("does not start with %q", f.prefix))
	}
	if string(code[n-len(f.suffix):]) != f.suffix {
		return errcode.New(errcode.InvalidCode, "Code", fmt.Sprintf("does not end with %q", f.suffix))
	}
	body := code[len(f.prefix) : n-len(f.suffix)]
	for k, c := range body {
		v := f.alpha.index[c]
		if v == notInAlpha {
			return errcode.New(errcode.InvalidCode, "Code", fmt.Sprintf(
				"character %q at position %d is not in the %s alphabet", c, len(f.prefix)+k+1, f.alpha.Name()))
		}
		if k < f.length {
			vals[k] = v
		}
	}
	if f.check != nil && f.check.digit(vals[:f.length]) != f.alpha.index[body[f.length]] {
		return errcode.New(errcode.CheckFailed, "Code", "the check character does not match")
	}
	return nil
}
