package basket

import (
	"cmp"
	"slices"
	"strings"
)

// Split divides total minor units over lines in proportion to their
// weights (each line's amount), by largest remainder: each line gets the
// floor of its exact share total×w/W, and the units left go one each to
// the lines with the largest remainders, ties broken by ids (ascending).
// The parts sum exactly to total, and none exceeds its weight. total must
// not exceed the sum of the weights (it is cut to it); weights must not be
// negative and sum to at most MaxLines×MaxLineAmount. ids name the lines
// (unique), so that the result does not depend on their order; parts is
// filled in the weights' order.
func Split(total int64, weights []int64, ids []string, parts []int64) {
	split(total, weights, func(i int) string { return ids[i] }, parts)
}

// split is Split with the lines' ids given by id.
func split(total int64, w []int64, id func(int) string, parts []int64) {
	var sum int64
	for _, x := range w {
		sum += x
	}
	clear(parts)
	if total <= 0 || sum == 0 {
		return
	}
	if total >= sum {
		copy(parts, w)
		return
	}
	var given int64
	// rems holds the remainders of lines with one: (remainder, index)
	// pairs.
	var buf [32]rem
	rems := buf[:0]
	for i, x := range w {
		if x == 0 {
			continue
		}
		q, r := mulDiv(total, x, sum)
		parts[i] = q
		given += q
		if r > 0 {
			rems = append(rems, rem{r, i})
		}
	}
	left := total - given
	if left == 0 {
		return
	}
	// Largest remainder first, then by id (then index, for ids that are
	// not unique), so that the order of the lines does not matter.
	slices.SortFunc(rems, func(a, b rem) int {
		if a.r != b.r {
			return cmp.Compare(b.r, a.r)
		}
		return cmp.Or(strings.Compare(id(a.i), id(b.i)), cmp.Compare(a.i, b.i))
	})
	for _, x := range rems[:left] {
		parts[x.i]++
	}
}

type rem struct {
	r int64
	i int
}
