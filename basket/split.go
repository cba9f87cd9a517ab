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
	order := canonical(ids)
	split(total, weights, order, parts)
}

// canonical returns the indices of ids sorted by id.
func canonical(ids []string) []int {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	return order
}

// split is Split with the canonical order given: order lists the line
// indices by id.
func split(total int64, w []int64, order []int, parts []int64) {
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
	// rems holds the remainders of lines with one, in canonical order:
	// (remainder, index) pairs.
	var buf [32]rem
	rems := buf[:0]
	for _, i := range order {
		if w[i] == 0 {
			continue
		}
		q, r := mulDiv(total, w[i], sum)
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
	// Largest remainder first; the stable sort keeps the canonical order
	// among equal remainders.
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for _, x := range rems[:left] {
		parts[x.i]++
	}
}

type rem struct {
	r int64
	i int
}
