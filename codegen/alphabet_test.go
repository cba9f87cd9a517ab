package codegen

import (
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"pgregory.net/rapid"
)

func TestBuiltinAlphabets(t *testing.T) {
	tests := []struct {
		a     *Alphabet
		name  string
		chars string
	}{
		{Numeric(), "numeric", "0123456789"},
		{Alphanumeric(), "alphanumeric", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
		{ConfusionFree(), "confusion-free", "0123456789ABCDEFGHJKMNPQRSTVWXYZ"},
	}
	for _, tt := range tests {
		if tt.a.Name() != tt.name || tt.a.String() != tt.chars || tt.a.Size() != len(tt.chars) {
			t.Errorf("alphabet = %q %q size %d, want %q %q", tt.a.Name(), tt.a.String(), tt.a.Size(), tt.name, tt.chars)
		}
		if !tt.a.SupportsCheckChar() {
			t.Errorf("%s does not support a check character", tt.name)
		}
		for i := 0; i < 256; i++ {
			if tt.a.Contains(byte(i)) != (strings.IndexByte(tt.chars, byte(i)) >= 0) {
				t.Errorf("%s.Contains(%q) wrong", tt.name, byte(i))
			}
		}
	}
	if cf := ConfusionFree().String(); strings.ContainsAny(cf, "ILOU") || len(cf) != 32 {
		t.Errorf("confusion-free alphabet %q must be Crockford's 32 without I, L, O, U", cf)
	}
}

func TestNewAlphabet(t *testing.T) {
	tests := []struct {
		chars string
		ok    bool
	}{
		{"01", true},
		{"ABCDEFGH", true},
		{"abcdef", true},
		{"aB", true},
		{customPool, true},
		{"", false},
		{"A", false},
		{"AA", false},
		{"Aa", false},   // same letter in both cases
		{"AB C", false}, // space
		{"AB\tC", false},
		{"ABÉ", false},
		{"AB\x7f", false},
	}
	for _, tt := range tests {
		a, err := NewAlphabet(tt.chars)
		if tt.ok {
			if err != nil || a.String() != tt.chars || a.Name() != "custom" {
				t.Errorf("NewAlphabet(%q) = %v, %v", tt.chars, a, err)
			}
			continue
		}
		wantCode(t, err, errcode.InvalidConfig, "Alphabet")
	}
}

func TestAlphabetCanonical(t *testing.T) {
	lower, err := NewAlphabet("abcdefgh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a    *Alphabet
		in   string
		want string
	}{
		{Numeric(), "  0123 ", "0123"},
		{Numeric(), "ny2024", "NY2024"},
		{Numeric(), "12-34", "12-34"},
		{Alphanumeric(), "\tsummer2024\n", "SUMMER2024"},
		{Alphanumeric(), "oil-OIL", "OIL-OIL"}, // no confusion mapping here
		{ConfusionFree(), " ab1o-xyzl ", "AB10XYZ1"},
		{ConfusionFree(), "oOiIlL", "001111"},
		{ConfusionFree(), "--u--", "U"}, // U is kept (and rejected later as not in the alphabet)
		{ConfusionFree(), "", ""},
		{lower, "ABCxyz", "abcXYZ"}, // letters of the alphabet take its case, others upper
		{Alphanumeric(), "日本", ""},
		{Alphanumeric(), "AB\x00C", ""},
		{Alphanumeric(), "A B", ""}, // inner white space is refused
	}
	for _, tt := range tests {
		got, err := tt.a.Canonical(tt.in)
		if tt.want == "" && tt.in != "" {
			wantCode(t, err, errcode.InvalidCode, "Code")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s.Canonical(%q) = %q, %v, want %q", tt.a.Name(), tt.in, got, err, tt.want)
		}
	}
}

// TestFoldIsIdempotent checks the folding table byte by byte: whatever a byte
// folds to folds to itself.
func TestFoldIsIdempotent(t *testing.T) {
	lower, _ := NewAlphabet("abc-xyz")
	custom, _ := NewAlphabet(customPool)
	for _, a := range []*Alphabet{Numeric(), Alphanumeric(), ConfusionFree(), lower, custom} {
		for c := 0; c < 256; c++ {
			f := a.fold[c]
			if f == foldInvalid || f == foldDrop {
				if c >= 0x21 && c <= 0x7E && !(f == foldDrop && c == '-') {
					t.Errorf("%s: printable %q is not kept", a.Name(), byte(c))
				}
				continue
			}
			if a.fold[f] != f {
				t.Errorf("%s: %q folds to %q which folds to %q", a.Name(), byte(c), f, a.fold[f])
			}
			if a.Contains(byte(c)) && f != byte(c) {
				t.Errorf("%s: alphabet character %q folds to %q", a.Name(), byte(c), f)
			}
		}
	}
}

// genAlphabet draws a built-in alphabet or a custom one.
func genAlphabet(t *rapid.T) *Alphabet {
	switch rapid.IntRange(0, 3).Draw(t, "alphabetKind") {
	case 0:
		return Numeric()
	case 1:
		return Alphanumeric()
	case 2:
		return ConfusionFree()
	}
	size := rapid.IntRange(2, len(customPool)).Draw(t, "size")
	chars := []byte(customPool[:size])
	for i := range chars {
		if rapid.Bool().Draw(t, "lower") && 'A' <= chars[i] && chars[i] <= 'Z' {
			chars[i] += 'a' - 'A'
		}
	}
	a, err := NewAlphabet(string(chars))
	if err != nil {
		t.Fatalf("NewAlphabet(%q): %v", chars, err)
	}
	return a
}

// userInput draws strings that look like typed codes: letters of both
// cases, digits, hyphens, spaces, the confusable letters, and some bytes
// that are never valid.
func userInput(t *rapid.T) string {
	const typed = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZoOiIlL--  \t#*é\x00"
	runes := rapid.SliceOfN(rapid.SampledFrom([]rune(typed)), 0, 24).Draw(t, "runes")
	return string(runes)
}

func TestPropertyCanonicalIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genAlphabet(t)
		s := userInput(t)
		c, err := a.Canonical(s)
		if err != nil {
			if errcode.CodeOf(err) != errcode.InvalidCode {
				t.Fatalf("Canonical(%q) error %v is not InvalidCode", s, err)
			}
			return
		}
		again, err := a.Canonical(c)
		if err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, then %q, %v", s, c, again, err)
		}
	})
}
