package codegen

import (
	"fmt"
	"iter"

	"github.com/couponkit/couponkit/errcode"
)

// Sample lengths accepted for a randomized common series.
const (
	MinSampleLen = 5
	MaxSampleLen = 10
)

// RandomizedSpec describes a randomized common series ("personalization at
// scale"): every code has the sample's length, starts with the sample's
// first half (rounded down) and continues with generated characters of the
// sample's alphabet.
type RandomizedSpec struct {
	// Sample is a sample code of MinSampleLen to MaxSampleLen ASCII letters
	// and digits, as an operator typed it: surrounding ASCII white space is
	// removed and letters are upper-cased. An all-digit sample gives Numeric
	// codes, any other Alphanumeric ones. "TEST12345" keeps "TEST" and
	// generates 5 characters; a 10-character alphanumeric sample gives
	// 36^5 = 60,466,176 codes.
	Sample string
	// Count, when not 0, is the number of codes the series must be able to
	// issue; a spec that cannot is refused up front.
	Count uint64
	// MaxFill is the largest share of the code space that may be issued, in
	// (0, 1]; 0 means 1.
	MaxFill float64
}

// NewRandomizedCommon returns the generator of a randomized common series,
// keyed with the caller's secret key (at least MinKeyLen bytes, not
// retained). Its codes are the fixed part (Generator.Prefix) followed by the
// generated characters, with no check character and no suffix, so they have
// the sample's length. The fixed part must be unique in the organisation:
// check it with FixedPartAvailable before creating the series.
//
// Errors: InvalidConfig with Field "Sample" or "MaxFill" and InvalidArgument
// with Field "Key", all at once; then CapacityExceeded or FillRatioExceeded
// (Field "Count") as for NewUnique.
func NewRandomizedCommon(spec RandomizedSpec, key []byte) (*Generator, error) {
	var fe errcode.Fields
	sample, serr := canonicalSample(spec.Sample)
	if serr != nil {
		fe.Add(errcode.InvalidConfig, "Sample", serr.Error())
	}
	checkMaxFill(&fe, spec.MaxFill)
	checkKey(&fe, key)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return generatorFor(randomizedFormat(sample), spec.Count, spec.MaxFill, key)
}

// canonicalSample trims and upper-cases a sample and checks it; the error
// is a plain message for the caller to wrap.
func canonicalSample(s string) (string, error) {
	s = trimSpace(s)
	if len(s) < MinSampleLen || len(s) > MaxSampleLen {
		return "", fmt.Errorf("must have %d to %d characters, has %d", MinSampleLen, MaxSampleLen, len(s))
	}
	b := []byte(s)
	for i, c := range b {
		c = upper(c)
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return "", fmt.Errorf("may hold only ASCII letters and digits (position %d)", i+1)
		}
		b[i] = c
	}
	return string(b), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FixedPart returns the fixed part a randomized common series made from
// sample would have: the first half (rounded down) of the trimmed,
// upper-cased sample. A bad sample is an InvalidConfig error with Field
// "Sample".
func FixedPart(sample string) (string, error) {
	s, err := canonicalSample(sample)
	if err != nil {
		return "", errcode.New(errcode.InvalidConfig, "Sample", err.Error())
	}
	return s[:len(s)/2], nil
}

// FixedPartAvailable reports whether a randomized common series may be made
// from sample in an organisation whose existing randomized common series
// have the fixed parts inUse (for instance maps.Keys of a set, slices.Values
// of a list, or a database cursor). Fixed parts are compared after trimming,
// case-insensitively. It returns nil when the fixed part is free, a
// FixedPartInUse error (Field "Sample") when it is taken, and an
// InvalidConfig error (Field "Sample") for a bad sample.
//
// Distinct fixed parts keep the organisation's series' codes apart: codes of
// equal length then differ in their first half, and codes of different
// lengths differ anyway.
func FixedPartAvailable(sample string, inUse iter.Seq[string]) error {
	fixed, err := FixedPart(sample)
	if err != nil {
		return err
	}
	for f := range inUse {
		if p, err := Plain(f); err == nil && p == fixed {
			return errcode.New(errcode.FixedPartInUse, "Sample", fmt.Sprintf(
				"the fixed part %q is used by another series", fixed))
		}
	}
	return nil
}
