package observe

import (
	"strings"
	"unicode/utf8"
)

// Mask returns code as logs show it: as many runes as it has, all but a
// few at each end replaced by '*'. A quarter of the runes, at most two,
// stays at each end ("AB****YZ" for an eight-rune code, "A***Z" for five,
// "***" for three), so a log tells codes apart for a person who has them
// without giving away one it does not show: at most half of a code, and
// never more than four runes, is shown. A byte that is not valid UTF-8
// counts as one rune and is never shown.
func Mask(code string) string {
	n := utf8.RuneCountInString(code)
	keep := min(n/4, 2)
	var b strings.Builder
	b.Grow(n + 2*keep*utf8.UTFMax)
	i := 0
	for _, r := range code {
		if (i < keep || i >= n-keep) && r != utf8.RuneError {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}
