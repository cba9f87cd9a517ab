package codegen

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/google/go-cmp/cmp"
)

// TestRandomizedCommonShape covers the shape a sample code gives randomized
// common codes (personalization at scale): the sample's length, its first
// half (rounded down) fixed, the rest generated from the sample's alphabet,
// 60,466,176 codes for 10 alphanumeric characters.
func TestRandomizedCommonShape(t *testing.T) {
	tests := []struct {
		sample   string
		fixed    string
		alphabet string
		capacity uint64
	}{
		{"TEST12345", "TEST", "alphanumeric", 60_466_176}, // 9 characters: TEST fixed, 5 generated
		{"SUMMER2024", "SUMME", "alphanumeric", 60_466_176},
		{" summer2024 ", "SUMME", "alphanumeric", 60_466_176},
		{"1234567890", "12345", "numeric", 100_000},
		{"123456789", "1234", "numeric", 100_000},
		{"12345", "12", "numeric", 1000},
		{"ab123", "AB", "alphanumeric", 46_656},
		{"ABCDEF", "ABC", "alphanumeric", 46_656},
	}
	for _, tt := range tests {
		g := mustRandomized(t, tt.sample)
		sample := strings.TrimSpace(tt.sample)
		if g.Prefix() != tt.fixed || g.Alphabet().Name() != tt.alphabet || g.Capacity() != tt.capacity ||
			g.Width() != len(sample) || g.Length() != len(sample)-len(tt.fixed) || g.HasCheckChar() || g.Suffix() != "" {
			t.Errorf("%q: fixed %q %s capacity %d width %d length %d", tt.sample,
				g.Prefix(), g.Alphabet().Name(), g.Capacity(), g.Width(), g.Length())
		}
		if f, err := FixedPart(tt.sample); err != nil || f != tt.fixed {
			t.Errorf("FixedPart(%q) = %q, %v", tt.sample, f, err)
		}
		for i := range uint64(50) {
			c := mustCode(t, g, i)
			if len(c) != len(sample) || !strings.HasPrefix(c, tt.fixed) {
				t.Fatalf("%q: code %q", tt.sample, c)
			}
			for _, ch := range []byte(c[len(tt.fixed):]) {
				if !g.Alphabet().Contains(ch) {
					t.Fatalf("%q: code %q has %q outside the %s alphabet", tt.sample, c, ch, tt.alphabet)
				}
			}
			if back, err := g.Decode(strings.ToLower(c)); err != nil || back != i {
				t.Fatalf("Decode(%q) = %d, %v", strings.ToLower(c), back, err)
			}
		}
	}
}

func TestRandomizedCommonErrors(t *testing.T) {
	tests := []struct {
		name string
		spec RandomizedSpec
		key  []byte
		want []fieldErr
	}{
		{"short sample", RandomizedSpec{Sample: "TEST"}, testKey, []fieldErr{{errcode.InvalidConfig, "Sample"}}},
		{"long sample", RandomizedSpec{Sample: "TEST1234567"}, testKey, []fieldErr{{errcode.InvalidConfig, "Sample"}}},
		{"hyphen", RandomizedSpec{Sample: "TEST-1234"}, testKey, []fieldErr{{errcode.InvalidConfig, "Sample"}}},
		{"inner space", RandomizedSpec{Sample: "TEST 1234"}, testKey, []fieldErr{{errcode.InvalidConfig, "Sample"}}},
		{"non-ASCII", RandomizedSpec{Sample: "TÉST1234"}, testKey, []fieldErr{{errcode.InvalidConfig, "Sample"}}},
		{"all at once", RandomizedSpec{Sample: "", MaxFill: 2}, nil, []fieldErr{
			{errcode.InvalidConfig, "Sample"}, {errcode.InvalidConfig, "MaxFill"}, {errcode.InvalidArgument, "Key"}}},
		{"count past capacity", RandomizedSpec{Sample: "TEST12345", Count: 60_466_177}, testKey,
			[]fieldErr{{errcode.CapacityExceeded, "Count"}}},
		{"count past fill", RandomizedSpec{Sample: "TEST12345", Count: 30_000_000, MaxFill: 0.25}, testKey,
			[]fieldErr{{errcode.FillRatioExceeded, "Count"}}},
		{"30M in 60M", RandomizedSpec{Sample: "TEST12345", Count: 30_000_000}, testKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRandomizedCommon(tt.spec, tt.key)
			if diff := cmp.Diff(tt.want, fieldErrs(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
	_, err := FixedPart("abc")
	wantCode(t, err, errcode.InvalidConfig, "Sample")
}

func TestFixedPartAvailable(t *testing.T) {
	inUse := map[string]struct{}{"TEST": {}, "SUMME": {}, "12345": {}}
	tests := []struct {
		sample string
		want   errcode.Code
	}{
		{"TEST12345", errcode.FixedPartInUse},
		{"test99999", errcode.FixedPartInUse}, // case-insensitive
		{"TEST1234", errcode.FixedPartInUse},  // same fixed part, other length: still taken
		{"1234567890", errcode.FixedPartInUse},
		{"12345ABCDE", errcode.FixedPartInUse}, // numeric and alphanumeric share the fixed part
		{"TESTA12345", 0},                      // fixed part TESTA
		{"WINTER2024", 0},
		{"TES1234", 0}, // fixed part TES
		{"x", errcode.InvalidConfig},
	}
	for _, tt := range tests {
		err := FixedPartAvailable(tt.sample, maps.Keys(inUse))
		if tt.want == 0 {
			if err != nil {
				t.Errorf("FixedPartAvailable(%q) = %v", tt.sample, err)
			}
			continue
		}
		wantCode(t, err, tt.want, "Sample")
	}
	// Fixed parts as stored may carry other case or white space.
	stored := []string{" summe ", "Win"}
	if err := FixedPartAvailable("SUMMER2025", slices.Values(stored)); errcode.CodeOf(err) != errcode.FixedPartInUse {
		t.Errorf("stored %q: %v", stored, err)
	}
	if err := FixedPartAvailable("WINTER2024", slices.Values(stored)); err != nil {
		t.Errorf("WINTE against %q: %v", stored, err)
	}
	if err := FixedPartAvailable("WINTER2024", slices.Values([]string(nil))); err != nil {
		t.Errorf("no fixed parts in use: %v", err)
	}
}
