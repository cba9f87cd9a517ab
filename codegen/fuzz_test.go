package codegen

import (
	"errors"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
)

// fuzzGenerators are the series FuzzDecode reads user input for.
func fuzzGenerators(f *testing.F) []*Generator {
	lower := mustAlphabet(f, "abcdefgh-23456789")
	return []*Generator{
		mustUnique(f, UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", Suffix: "#", CheckChar: true}),
		mustRandomized(f, "SUMMER2024"),
		mustRandomized(f, "12345678"),
		mustUnique(f, UniqueSpec{Alphabet: lower, Length: 6, Prefix: "X-", CheckChar: true}),
		mustUnique(f, UniqueSpec{Alphabet: Numeric(), Length: 19}),
	}
}

// FuzzDecode feeds arbitrary user input to Canonical and Decode: neither may
// panic; they agree; a refusal is InvalidCode or CheckFailed; an acceptance
// round-trips through Code.
func FuzzDecode(f *testing.F) {
	gens := fuzzGenerators(f)
	for k, g := range gens {
		for _, i := range []uint64{0, 1, g.Capacity() - 1} {
			c := mustCode(f, g, i)
			f.Add(uint8(k), c)
			f.Add(uint8(k), " "+strings.ToLower(c)+"\t")
			f.Add(uint8(k), c[:len(c)-1])
			f.Add(uint8(k), c+c)
		}
	}
	f.Add(uint8(0), "ny-abcd-efgh-j#")
	f.Add(uint8(0), "NYOOOOIIII1#")
	f.Add(uint8(1), "summe\u00e9\u00e9\u00e9")
	f.Add(uint8(2), "")
	f.Add(uint8(3), "\xff\xfe")
	f.Fuzz(func(t *testing.T, which uint8, input string) {
		g := gens[int(which)%len(gens)]
		idx, err := g.Decode(input)
		canon, cerr := g.Canonical(input)
		if errcode.CodeOf(err) != errcode.CodeOf(cerr) {
			t.Fatalf("Decode error %v, Canonical error %v", err, cerr)
		}
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) || (ce.Code != errcode.InvalidCode && ce.Code != errcode.CheckFailed) || ce.Field != "Code" {
				t.Fatalf("Decode(%q) error %v is not InvalidCode or CheckFailed on Code", input, err)
			}
			return
		}
		if idx >= g.Capacity() {
			t.Fatalf("Decode(%q) = %d, past capacity %d", input, idx, g.Capacity())
		}
		code, err := g.Code(idx)
		if err != nil || code != canon {
			t.Fatalf("Decode(%q) = %d whose code is %q, %v; Canonical = %q", input, idx, code, err, canon)
		}
		if again, err := g.Canonical(canon); err != nil || again != canon {
			t.Fatalf("Canonical not idempotent on %q: %q, %v", canon, again, err)
		}
	})
}

// FuzzAlphabetCanonical feeds arbitrary text to the alphabets' Canonical: no
// panic, a refusal is InvalidCode, an acceptance is printable ASCII and
// idempotent.
func FuzzAlphabetCanonical(f *testing.F) {
	alphabets := []*Alphabet{Numeric(), Alphanumeric(), ConfusionFree(), mustAlphabet(f, "abcxyz-")}
	for _, s := range []string{"", " ab1o-xyzl ", "oOiIlL", "日本", "\x00", "a\tb", "--", "Ω"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range alphabets {
			c, err := a.Canonical(s)
			if err != nil {
				if errcode.CodeOf(err) != errcode.InvalidCode {
					t.Fatalf("%s.Canonical(%q) error %v is not InvalidCode", a.Name(), s, err)
				}
				continue
			}
			for i := 0; i < len(c); i++ {
				if c[i] < 0x21 || c[i] > 0x7E {
					t.Fatalf("%s.Canonical(%q) = %q has byte %#x", a.Name(), s, c, c[i])
				}
			}
			if again, err := a.Canonical(c); err != nil || again != c {
				t.Fatalf("%s.Canonical not idempotent: %q -> %q -> %q, %v", a.Name(), s, c, again, err)
			}
		}
	})
}
