package codegen

import (
	"errors"

	"github.com/couponkit/couponkit/errcode"
)

// testKey is a fixed secret for tests and benchmarks; real keys come from a
// secret store.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// customPool holds the 68 printable ASCII characters a case-insensitive
// alphabet can have: digits, upper-case letters and the 32 symbols.
const customPool = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// fataler is what the helpers need of a *testing.T, *testing.B or *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// wantCode fails t unless err is an *errcode.Error with the code and field.
func wantCode(t fataler, err error, code errcode.Code, field string) {
	t.Helper()
	var ce *errcode.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want *errcode.Error %v on %q", err, code, field)
	}
	if ce.Code != code || ce.Field != field {
		t.Fatalf("error = %v (code %d, field %q), want code %d (%v) on %q", err, ce.Code, ce.Field, code, code, field)
	}
	if !errors.Is(err, &errcode.Error{Code: code}) {
		t.Fatalf("errors.Is(%v, code %d) = false", err, code)
	}
}

func mustUnique(t fataler, spec UniqueSpec) *Generator {
	t.Helper()
	g, err := NewUnique(spec, testKey)
	if err != nil {
		t.Fatalf("NewUnique(%+v): %v", spec, err)
	}
	return g
}

func mustRandomized(t fataler, sample string) *Generator {
	t.Helper()
	g, err := NewRandomizedCommon(RandomizedSpec{Sample: sample}, testKey)
	if err != nil {
		t.Fatalf("NewRandomizedCommon(%q): %v", sample, err)
	}
	return g
}

func mustCode(t fataler, g *Generator, i uint64) string {
	t.Helper()
	c, err := g.Code(i)
	if err != nil {
		t.Fatalf("Code(%d): %v", i, err)
	}
	return c
}
