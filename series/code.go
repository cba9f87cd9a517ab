package series

import (
	"strings"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
)

// MakesCodes reports whether couponkit makes the codes of a series of
// this source (Generated and RandomizedCommon): its codes then follow a
// codegen.Format.
func (s *Source) MakesCodes() bool { return s.Kind == Generated || s.Kind == RandomizedCommon }

// UniqueSpec is the shape of a generated unique series' codes, without a
// count or fill ratio: its alphabet (Alphanumeric when unset), length,
// affixes (upper-cased) and check character. A custom alphabet that
// codegen refuses is its error.
func (s *Source) UniqueSpec() (codegen.UniqueSpec, error) {
	var a *codegen.Alphabet
	switch s.Alphabet {
	case Numeric:
		a = codegen.Numeric()
	case ConfusionFree:
		a = codegen.ConfusionFree()
	case Custom:
		var err error
		if a, err = codegen.NewAlphabet(s.CustomAlphabet); err != nil {
			return codegen.UniqueSpec{}, err
		}
	default:
		a = codegen.Alphanumeric()
	}
	return codegen.UniqueSpec{
		Alphabet: a, Length: s.Length,
		Prefix: strings.ToUpper(s.Prefix), Suffix: strings.ToUpper(s.Suffix),
		CheckChar: s.CheckChar,
	}, nil
}

// Format returns the code format of a series whose codes couponkit makes
// (MakesCodes): what reading a typed code needs, without the series' key.
// Any other source is an InvalidArgument error on "Source.Kind".
func (s *Source) Format() (*codegen.Format, error) {
	switch s.Kind {
	case Generated:
		spec, err := s.UniqueSpec()
		if err != nil {
			return nil, err
		}
		return codegen.NewFormat(spec)
	case RandomizedCommon:
		return codegen.NewRandomizedFormat(s.Sample)
	}
	return nil, errcode.New(errcode.InvalidArgument, "Source.Kind", "the series does not generate codes")
}

// CanonicalCode returns the canonical form of a code typed for a series
// of source s: the one form the central and every till store, count and
// compare. A code of a series whose codes couponkit makes is read with its
// format (f, as s.Format returns it, which callers may keep; nil makes
// it), so that the confusable spellings the format folds (for the
// confusion-free alphabet O for 0, I and L for 1, hyphens) are one code;
// a malformed one is the format's InvalidCode or CheckFailed error. Any
// other code (common, uploaded, third-party) is trimmed and upper-cased,
// ASCII only (codegen.Plain): a non-ASCII code is an InvalidCode error on
// "Code" and an empty one an InvalidArgument error. It needs no key.
func (s *Source) CanonicalCode(f *codegen.Format, code string) (string, error) {
	if s.MakesCodes() {
		if f == nil {
			var err error
			if f, err = s.Format(); err != nil {
				return "", err
			}
		}
		return f.Canonical(code)
	}
	return PlainCode(code)
}

// PlainCode is the canonical form of a code that follows no format (a
// common, uploaded or third-party code, or one typed without its series):
// trimmed and upper-cased, ASCII only (codegen.Plain). A non-ASCII code is
// an InvalidCode error on "Code", so a look-alike such as "ſ" never folds
// into an ASCII letter; an empty one an InvalidArgument error.
func PlainCode(code string) (string, error) {
	c, err := codegen.Plain(code)
	if err == nil && c == "" {
		err = errcode.New(errcode.InvalidArgument, "Code", "is empty")
	}
	return c, err
}
