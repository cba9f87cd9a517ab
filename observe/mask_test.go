package observe_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/couponkit/couponkit/observe"
	"pgregory.net/rapid"
)

func TestMaskExamples(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"A", "*"},
		{"ABC", "***"},
		{"ABCD", "A**D"},
		{"ABCDE", "A***E"},
		{"SUMMER10", "SU****10"},
		{"ABCD-EFGH-IJKL", "AB**********KL"},
		{"ÄÖÜßÄÖÜß", "ÄÖ****Üß"},
		{"AB\xffDEFGH", "AB****GH"},
	} {
		if got := observe.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMaskHidesMostOfACode: a masked code has as many runes as the code,
// shows at most half of them and at most four, each where it was, and
// never shows the code whole (but the empty code).
func TestMaskHidesMostOfACode(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		code := rapid.StringN(0, 40, -1).Draw(t, "code")
		got := observe.Mask(code)
		in, out := []rune(code), []rune(got)
		if len(in) != len(out) {
			t.Fatalf("Mask(%q) = %q: %d runes, want %d", code, got, len(out), len(in))
		}
		shown := 0
		for i, r := range out {
			if r == '*' {
				continue
			}
			if r != in[i] {
				t.Fatalf("Mask(%q) = %q: rune %d is %q, not the code's", code, got, i, r)
			}
			shown++
		}
		if shown > 4 || 2*shown > len(in) {
			t.Fatalf("Mask(%q) = %q shows %d of %d runes", code, got, shown, len(in))
		}
		if len(in) > 0 && strings.Count(code, "*") < len(in) && got == code {
			t.Fatalf("Mask(%q) shows the code whole", code)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Mask(%q) = %q is not valid UTF-8", code, got)
		}
	})
}
