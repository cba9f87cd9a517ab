package codegen

import (
	"fmt"

	"github.com/couponkit/couponkit/errcode"
)

// Plain returns the canonical form of a code that follows no Format: a
// common code, an uploaded or a third-party one. Surrounding ASCII white
// space (space, tab, newline, carriage return, vertical tab, form feed) is
// removed and the ASCII letters a-z are upper-cased; nothing else changes,
// so codes compare case-insensitively and nothing more.
//
// Codes are ASCII: a byte outside ASCII is an InvalidCode error with Field
// "Code". Unicode case mapping would turn look-alikes into ASCII letters
// ("ſ" into "S", "ı" into "I"), letting a code be typed, or uploaded, in a
// form that is not the one printed; refusing them keeps one code one string.
// Plain does not check which ASCII characters a code holds; callers that
// store codes do. It allocates only when it upper-cases a letter.
func Plain(input string) (string, error) {
	s := trimSpace(input)
	lower := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return "", errcode.New(errcode.InvalidCode, "Code", fmt.Sprintf(
				"byte %d (after trimming) is not ASCII; codes are ASCII letters, digits and symbols", i+1))
		case 'a' <= c && c <= 'z':
			lower = true
		}
	}
	if !lower {
		return s, nil
	}
	b := []byte(s)
	for i, c := range b {
		b[i] = upper(c)
	}
	return string(b), nil
}

// trimSpace returns s without surrounding ASCII white space. Other white
// space (a no-break space, say) is not trimmed: it is not ASCII, so it makes
// the code invalid.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || '\t' <= c && c <= '\r'
}
