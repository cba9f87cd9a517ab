package codegen

import (
	"fmt"

	"github.com/couponkit/couponkit/errcode"
)

// Byte markers in Alphabet.fold. Canonical bytes are printable ASCII
// (0x21..0x7E), so neither marker can be confused with one.
const (
	foldInvalid = 0    // the byte cannot appear in a code
	foldDrop    = 0x80 // the byte is removed (hyphens in ConfusionFree)
	notInAlpha  = 0xFF // Alphabet.index value for a byte outside the alphabet
)

// The characters of the built-in alphabets.
const (
	numericChars      = "0123456789"
	alphanumericChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	// Crockford's base 32: the digits and the upper-case letters without
	// I, L, O (read as 1, 1, 0) and U.
	confusionFreeChars = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// Alphabet is the ordered set of characters the generated part of a code is
// written in, together with the rules that turn what a person typed into
// canonical form. The value of a character is its position in the set.
//
// An Alphabet is immutable and safe for concurrent use. Build one with
// [NewAlphabet], or use [Numeric], [Alphanumeric] or [ConfusionFree].
type Alphabet struct {
	name  string
	chars string
	index [256]uint8 // byte -> value, notInAlpha when not in the alphabet
	fold  [256]uint8 // input byte -> canonical byte, foldInvalid or foldDrop
	check *quasigroup
}

// Built-in alphabets. They are built once, are never modified, and their
// fields are unexported, so sharing them is safe.
var (
	numericAlphabet       = newAlphabet("numeric", numericChars, false)
	alphanumericAlphabet  = newAlphabet("alphanumeric", alphanumericChars, false)
	confusionFreeAlphabet = newAlphabet("confusion-free", confusionFreeChars, true)
)

// Numeric returns the alphabet of the ten digits 0-9 (size 10).
// Canonicalisation trims surrounding white space and upper-cases letters
// (which can then only match a prefix or suffix).
func Numeric() *Alphabet { return numericAlphabet }

// Alphanumeric returns the digits followed by the upper-case letters A-Z
// (size 36). Canonicalisation trims surrounding white space and upper-cases
// letters, so codes compare case-insensitively.
func Alphanumeric() *Alphabet { return alphanumericAlphabet }

// ConfusionFree returns Crockford's base-32 alphabet
// "0123456789ABCDEFGHJKMNPQRSTVWXYZ" (size 32): no I, L or O, which are read
// as 1, 1 and 0, and no U. Canonicalisation trims surrounding white space,
// upper-cases letters, maps O to 0 and I and L to 1 (in either case), and
// removes hyphens anywhere, so "ab1o-xyzl" and "AB10XYZ1" are the same code.
func ConfusionFree() *Alphabet { return confusionFreeAlphabet }

// NewAlphabet returns a caller-defined alphabet whose characters, in value
// order, are the bytes of chars. chars must hold 2 or more distinct printable
// ASCII characters (0x21..0x7E, so no spaces) with no letter present in both
// cases: codes are compared case-insensitively. Canonicalisation trims
// surrounding white space and folds every letter to the case the alphabet
// uses for it (upper case for a letter it does not contain).
//
// A bad chars is an InvalidConfig error with Field "Alphabet".
func NewAlphabet(chars string) (*Alphabet, error) {
	if len(chars) < 2 {
		return nil, errcode.New(errcode.InvalidConfig, "Alphabet", "needs at least 2 characters")
	}
	var seen [256]bool
	for i := 0; i < len(chars); i++ {
		c := chars[i]
		if c < 0x21 || c > 0x7E {
			return nil, errcode.New(errcode.InvalidConfig, "Alphabet",
				fmt.Sprintf("character at position %d is not printable ASCII", i))
		}
		k := upper(c)
		if seen[k] {
			return nil, errcode.New(errcode.InvalidConfig, "Alphabet",
				fmt.Sprintf("character %q appears twice (letters are compared case-insensitively)", c))
		}
		seen[k] = true
	}
	return newAlphabet("custom", chars, false), nil
}

// newAlphabet builds the tables; chars has been validated.
func newAlphabet(name, chars string, crockford bool) *Alphabet {
	a := &Alphabet{name: name, chars: chars}
	for i := range a.index {
		a.index[i] = notInAlpha
	}
	for i := 0; i < len(chars); i++ {
		a.index[chars[i]] = uint8(i)
	}
	for c := 0x21; c <= 0x7E; c++ {
		a.fold[c] = uint8(c)
	}
	// Letters fold to the case the alphabet holds them in, else to upper case.
	for c := byte('A'); c <= 'Z'; c++ {
		lc := c + ('a' - 'A')
		target := c
		if a.index[lc] != notInAlpha {
			target = lc
		}
		a.fold[c] = target
		a.fold[lc] = target
	}
	if crockford {
		a.fold['O'], a.fold['o'] = '0', '0'
		a.fold['I'], a.fold['i'] = '1', '1'
		a.fold['L'], a.fold['l'] = '1', '1'
		a.fold['-'] = foldDrop
	}
	a.check = newQuasigroup(len(chars))
	return a
}

// upper returns the upper-case form of an ASCII letter and any other byte
// unchanged.
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Name returns "numeric", "alphanumeric", "confusion-free" or "custom".
func (a *Alphabet) Name() string { return a.name }

// String returns the alphabet's characters in value order.
func (a *Alphabet) String() string { return a.chars }

// Size returns the number of characters (the radix of generated codes).
func (a *Alphabet) Size() int { return len(a.chars) }

// Contains reports whether c is one of the alphabet's characters (in
// canonical form; use Canonical first for what a person typed).
func (a *Alphabet) Contains(c byte) bool { return a.index[c] != notInAlpha }

// SupportsCheckChar reports whether codes in this alphabet can carry a check
// character. Every size can, except sizes 2 mod 4 that are not a multiple of
// 10 (2, 6, 14, 18, 22, 26, 34, ...): see the package documentation.
func (a *Alphabet) SupportsCheckChar() bool { return a.check != nil }

// Canonical returns s in canonical form: surrounding ASCII white space
// removed and
// every character folded as the alphabet's documentation says (for
// ConfusionFree also O->0, I/L->1 and hyphens removed). It does not check
// that the characters belong to the alphabet: a code's prefix or suffix may
// hold others. Canonical is idempotent: Canonical of a canonical string
// returns it unchanged.
//
// A byte that is not printable ASCII other than space (0x21..0x7E) after
// trimming, in particular any byte of a non-ASCII character, is an
// InvalidCode error with Field "Code": only ASCII letters are case-folded.
func (a *Alphabet) Canonical(s string) (string, error) {
	s = trimSpace(s)
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		f := a.fold[s[i]]
		switch f {
		case foldInvalid:
			return "", errBadByte(i)
		case foldDrop:
			continue
		}
		out = append(out, f)
	}
	return string(out), nil
}

// canonInto canonicalises s into buf and returns the number of bytes
// written. It fails with InvalidCode when a byte is invalid or when the
// canonical form is longer than buf.
func (a *Alphabet) canonInto(buf []byte, s string) (int, error) {
	s = trimSpace(s)
	n := 0
	for i := 0; i < len(s); i++ {
		f := a.fold[s[i]]
		switch f {
		case foldInvalid:
			return 0, errBadByte(i)
		case foldDrop:
			continue
		}
		if n == len(buf) {
			return 0, errcode.New(errcode.InvalidCode, "Code",
				fmt.Sprintf("too long: more than %d characters", len(buf)))
		}
		buf[n] = f
		n++
	}
	return n, nil
}

// isCanonical reports whether every byte of s folds to itself, that is,
// whether Canonical would return s unchanged (s has no surrounding space).
func (a *Alphabet) isCanonical(s string) bool {
	for i := 0; i < len(s); i++ {
		if a.fold[s[i]] != s[i] {
			return false
		}
	}
	return true
}

func errBadByte(i int) error {
	return errcode.New(errcode.InvalidCode, "Code",
		fmt.Sprintf("byte %d (after trimming) is not a printable ASCII character other than space", i+1))
}
