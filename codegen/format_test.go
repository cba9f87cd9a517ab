package codegen

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
)

// A Format reports the same shape errors as NewUnique, and none about Count,
// MaxFill or the key, which it does not need.
func TestNewFormatValidation(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec UniqueSpec
		want []fieldErr
	}{
		{"ok", UniqueSpec{Alphabet: Numeric(), Length: 4}, nil},
		{"count, fill and key are not the format's", UniqueSpec{Alphabet: Numeric(), Length: 4, Count: 1 << 40, MaxFill: 7}, nil},
		{"nothing", UniqueSpec{}, []fieldErr{{errcode.InvalidConfig, "Alphabet"}, {errcode.InvalidConfig, "Length"}}},
		{"bad affixes and length", UniqueSpec{Alphabet: Numeric(), Length: 20, Prefix: "x", Suffix: "a b"}, []fieldErr{
			{errcode.InvalidConfig, "Length"}, {errcode.InvalidConfig, "Prefix"}, {errcode.InvalidConfig, "Suffix"}}},
		{"unsupported check", UniqueSpec{Alphabet: mustAlphabet(t, customPool[10:36]), Length: 6, CheckChar: true},
			[]fieldErr{{errcode.InvalidConfig, "CheckChar"}}},
	} {
		f, err := NewFormat(tt.spec)
		if diff := cmp.Diff(tt.want, fieldErrs(err)); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s\n%v", tt.name, diff, err)
		}
		if err == nil && f == nil {
			t.Errorf("%s: nil format without error", tt.name)
		}
		if tt.want != nil {
			_, gerr := NewUnique(tt.spec, testKey)
			if diff := cmp.Diff(fieldErrs(err), fieldErrs(gerr)); diff != "" {
				t.Errorf("%s: NewFormat and NewUnique disagree on the shape (-format +unique):\n%s", tt.name, diff)
			}
		}
	}
	if _, err := NewRandomizedFormat("ab"); errcode.CodeOf(err) != errcode.InvalidConfig {
		t.Errorf("NewRandomizedFormat of a short sample: %v, want InvalidConfig", err)
	}
}

// A generator's format, built without the key, reads every input exactly as
// the generator does.
func TestFormatMatchesGenerator(t *testing.T) {
	gens := map[string]*Generator{
		"confusion-free": mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", Suffix: "#", CheckChar: true}),
		"numeric":        mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 6}),
		"randomized":     mustRandomized(t, "Summer2024"),
	}
	formats := map[string]*Format{
		"confusion-free": must(NewFormat(UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", Suffix: "#", CheckChar: true})),
		"numeric":        must(NewFormat(UniqueSpec{Alphabet: Numeric(), Length: 6})),
		"randomized":     must(NewRandomizedFormat(" summer2024 ")),
	}
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.SampledFrom([]string{"confusion-free", "numeric", "randomized"}).Draw(t, "series")
		g, f := gens[name], formats[name]
		if f.Capacity() != g.Capacity() || f.Width() != g.Width() || f.Prefix() != g.Prefix() {
			t.Fatalf("format %s: capacity %d width %d prefix %q; generator %d %d %q",
				name, f.Capacity(), f.Width(), f.Prefix(), g.Capacity(), g.Width(), g.Prefix())
		}
		input := rapid.OneOf(
			rapid.Custom(func(t *rapid.T) string {
				code := mustCode(t, g, rapid.Uint64Range(0, g.Capacity()-1).Draw(t, "index"))
				return rapid.SampledFrom([]string{code, strings.ToLower(code), " " + code + "\t", code[1:]}).Draw(t, "typed")
			}),
			rapid.String(),
		).Draw(t, "input")
		fc, ferr := f.Canonical(input)
		gc, gerr := g.Canonical(input)
		if fc != gc || errcode.CodeOf(ferr) != errcode.CodeOf(gerr) {
			t.Fatalf("Canonical(%q): format %q, %v; generator %q, %v", input, fc, ferr, gc, gerr)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The limit is the decimal ratio of the space, exactly: a float64 product
// would make 0.0003 of 10,000 codes 2.
func TestFormatLimit(t *testing.T) {
	f := must(NewFormat(UniqueSpec{Alphabet: Numeric(), Length: 4}))
	for _, tt := range []struct {
		maxFill float64
		want    uint64
	}{
		{0, 10000}, {1, 10000}, {0.0001, 1}, {0.0003, 3}, {0.0007, 7}, {0.00001, 0}, {0.29, 2900}, {0.57, 5700},
		{0.99999999, 9999}, {1e-300, 0},
	} {
		got, err := f.Limit(tt.maxFill)
		if err != nil || got != tt.want {
			t.Errorf("Limit(%g) = %d, %v; want %d", tt.maxFill, got, err, tt.want)
		}
	}
	big := must(NewFormat(UniqueSpec{Alphabet: Numeric(), Length: 19}))
	if got, _ := big.Limit(0.3); got != 3_000_000_000_000_000_000 {
		t.Errorf("Limit(0.3) of 10^19 codes = %d, want exactly 3e18", got)
	}
	if _, err := f.Limit(1.5); errcode.CodeOf(err) != errcode.InvalidConfig {
		t.Errorf("Limit(1.5): %v, want InvalidConfig", err)
	}
	wantCode(t, f.CheckCount(4, 0.0003), errcode.FillRatioExceeded, "Count")
	wantCode(t, f.CheckCount(10001, 1), errcode.CapacityExceeded, "Count")
	if err := f.CheckCount(3, 0.0003); err != nil {
		t.Errorf("CheckCount(3, 0.0003) = %v", err)
	}
}

// Look-alikes of ASCII letters are refused, never folded: Unicode upper
// case maps "ſ" to "S" and "ı" to "I", so folding first would let
// "ſUMMER10" stand for SUMMER10.
func TestLookAlikesRefused(t *testing.T) {
	f := must(NewRandomizedFormat("SUMMER1000"))
	for _, in := range []string{"ſUMMER1000", "SUMMER100ı", "ＳUMMER1000", "SUMMER1000\u00a0", "\u2028SUMMER1000", "SUMME\u212a1000"} {
		if c, err := f.Canonical(in); errcode.CodeOf(err) != errcode.InvalidCode {
			t.Errorf("Format.Canonical(%q) = %q, %v; want InvalidCode", in, c, err)
		}
		if c, err := Plain(in); errcode.CodeOf(err) != errcode.InvalidCode {
			t.Errorf("Plain(%q) = %q, %v; want InvalidCode", in, c, err)
		}
	}
	for in, want := range map[string]string{" summer10\t": "SUMMER10", "Spring-10": "SPRING-10", "A_b": "A_B", "": "", "\n": ""} {
		if got, err := Plain(in); got != want || err != nil {
			t.Errorf("Plain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Plain allocates nothing for a code already in canonical form, as codes
// typed from a receipt are.
func TestPlainAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = Plain(" SUMMER-10 ") }); n != 0 {
		t.Errorf("Plain of a canonical code allocates %v times", n)
	}
}

// FuzzCanonicalASCII feeds arbitrary text to Plain and to a format's
// Canonical: an accepted code is ASCII and canonical (idempotent), and any
// input holding a byte outside ASCII between its ASCII white space is
// refused with InvalidCode on "Code".
func FuzzCanonicalASCII(f *testing.F) {
	formats := []*Format{
		must(NewFormat(UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", CheckChar: true})),
		must(NewRandomizedFormat("SUMMER2024")),
		must(NewFormat(UniqueSpec{Alphabet: mustAlphabet(f, "abcdefgh-23456789"), Length: 6})),
	}
	for _, s := range []string{"ſUMMER2024", "summer2024", " ıNFO ", "NY0000000", "SUMMER\u00a0", "日本", "\xff", "\u212a", "ﬀ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		trimmed := strings.Trim(in, " \t\n\v\f\r")
		nonASCII := false
		for i := 0; i < len(trimmed); i++ {
			nonASCII = nonASCII || trimmed[i] >= utf8.RuneSelf
		}
		check := func(what, out string, err error) {
			if err != nil {
				var ce *errcode.Error
				if !errors.As(err, &ce) || ce.Field != "Code" || (ce.Code != errcode.InvalidCode && ce.Code != errcode.CheckFailed) {
					t.Fatalf("%s(%q): error %v is not InvalidCode or CheckFailed on Code", what, in, err)
				}
				return
			}
			if nonASCII {
				t.Fatalf("%s(%q) = %q accepts non-ASCII input", what, in, out)
			}
			for i := 0; i < len(out); i++ {
				if out[i] >= utf8.RuneSelf || what == "Plain" && 'a' <= out[i] && out[i] <= 'z' {
					t.Fatalf("%s(%q) = %q is not upper-case ASCII", what, in, out)
				}
			}
		}
		p, err := Plain(in)
		check("Plain", p, err)
		if err == nil {
			if again, err := Plain(p); err != nil || again != p {
				t.Fatalf("Plain not idempotent: %q -> %q -> %q, %v", in, p, again, err)
			}
			if p != strings.ToUpper(trimmed) {
				t.Fatalf("Plain(%q) = %q, not the ASCII upper case", in, p)
			}
		}
		for _, fm := range formats {
			c, err := fm.Canonical(in)
			check("Canonical", c, err)
			if err == nil {
				if again, err := fm.Canonical(c); err != nil || again != c {
					t.Fatalf("Canonical not idempotent: %q -> %q -> %q, %v", in, c, again, err)
				}
			}
		}
	})
}
