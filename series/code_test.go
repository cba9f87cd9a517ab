package series_test

import (
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// TestCanonicalCode: the one rule of a code's canonical form, by the
// series' source: plain codes compare case- and space-insensitively, a
// generated code's confusable spellings are one code, and what the rule
// cannot read is a typed error.
func TestCanonicalCode(t *testing.T) {
	plain := series.Source{Kind: series.Common, Code: "SUMMER"}
	cf := series.Source{Kind: series.Generated, Length: 6, Alphabet: series.ConfusionFree, Prefix: "X"}
	alnum := series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Alphanumeric}
	cases := []struct {
		name string
		src  series.Source
		in   string
		want string
		code errcode.Code
	}{
		{"plain as typed", plain, "abc", "ABC", 0},
		{"plain with spaces", plain, " ABC\t", "ABC", 0},
		{"plain empty", plain, "  ", "", errcode.InvalidArgument},
		{"plain look-alike", plain, "ſUMMER", "", errcode.InvalidCode},
		{"uploaded keeps symbols", series.Source{Kind: series.Uploaded}, "a-b_c", "A-B_C", 0},
		{"confusion-free folds O, I and L", cf, "x-oil234", "X011234", 0},
		{"confusion-free lower case and hyphens", cf, " X0-11-234 ", "X011234", 0},
		{"generated wrong length", alnum, "abc", "", errcode.InvalidCode},
		{"generated upper-cases", alnum, "a1b2", "A1B2", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.src.CanonicalCode(nil, tc.in)
			if tc.code != 0 {
				if errcode.CodeOf(err) != tc.code {
					t.Fatalf("CanonicalCode(%q) = %q, %v; want code %v", tc.in, got, err, tc.code)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CanonicalCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			f, err := tc.src.Format()
			if tc.src.MakesCodes() {
				if err != nil {
					t.Fatal(err)
				}
				if again, err := tc.src.CanonicalCode(f, got); err != nil || again != got {
					t.Errorf("not idempotent with a kept format: %q, %v", again, err)
				}
			} else if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("Format of a source that makes no codes: %v", err)
			}
		})
	}
}
