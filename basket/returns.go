package basket

import (
	"fmt"
	"strconv"

	"github.com/couponkit/couponkit/errcode"
)

// Return is a number of units of one line handed back.
type Return struct {
	Line     string `json:"line"`
	Quantity int64  `json:"quantity"`
}

// GiveBack returns the part of a redemption's discount that lines returned
// now give back: in all, and per part (in the order of parts). parts are
// the redemption's split ([Decision.Parts]); before lists the units of its
// lines returned earlier, now those returned now, each line at most once
// per list. A line that got no part gives nothing back.
//
// A line's share is its part times its units returned so far over its
// units, rounded down, counted over all its returns: what one return gives
// back is the share after it less the share before it. So it is exact in
// minor units, never more than was given, and once every unit of a line is
// back the line has given back its whole part.
//
// Errors, each an *errcode.Error with code InvalidArgument: on
// "Parts[i].<field>" for a part that is not one of a split (a quantity not
// positive, a discount negative or above its base, a line twice); on
// "Before[i]..." or "Now[i]..." for a line the split does not hold, one
// listed twice, a quantity not positive, or more units returned than were
// bought.
func GiveBack(parts []Part, before, now []Return) (int64, []int64, error) {
	if err := checkParts(parts); err != nil {
		return 0, nil, err
	}
	index := make(map[string]int, len(parts))
	for i := range parts {
		index[parts[i].Line] = i
	}
	prev := make([]int64, len(parts))
	if err := tally(index, parts, "Before", before, prev, nil); err != nil {
		return 0, nil, err
	}
	cur := make([]int64, len(parts))
	if err := tally(index, parts, "Now", now, cur, prev); err != nil {
		return 0, nil, err
	}
	out := make([]int64, len(parts))
	var total int64
	for i := range parts {
		if cur[i] == 0 {
			continue
		}
		p := &parts[i]
		after, _ := mulDiv(p.Discount, prev[i]+cur[i], p.Quantity)
		was, _ := mulDiv(p.Discount, prev[i], p.Quantity)
		out[i] = after - was
		total += out[i]
	}
	return total, out, nil
}

// tally adds the quantities of rs into q, by part, checking them (with
// earlier, the units already returned, when given).
func tally(index map[string]int, parts []Part, name string, rs []Return, q, earlier []int64) error {
	var f errcode.Fields
	seen := make(map[string]bool, len(rs))
	for j, r := range rs {
		pre := name + "[" + strconv.Itoa(j) + "]."
		i, ok := index[r.Line]
		switch {
		case !ok:
			f.Add(errcode.InvalidArgument, pre+"Line", fmt.Sprintf("line %q is not in the redemption", r.Line))
			continue
		case seen[r.Line]:
			f.Add(errcode.InvalidArgument, pre+"Line", fmt.Sprintf("line %q is listed twice", r.Line))
			continue
		}
		seen[r.Line] = true
		done := int64(0)
		if earlier != nil {
			done = earlier[i]
		}
		switch {
		case r.Quantity <= 0:
			f.Add(errcode.InvalidArgument, pre+"Quantity", "must be positive")
		case r.Quantity > parts[i].Quantity-done:
			f.Add(errcode.InvalidArgument, pre+"Quantity",
				fmt.Sprintf("%d units returned, but %d of %d are left to return", r.Quantity, parts[i].Quantity-done, parts[i].Quantity))
		default:
			q[i] = r.Quantity
		}
	}
	return f.Err()
}

// GiveBackAmount returns the part of a redemption's discount that an
// amount returned now gives back, the amounts measured, like each part's
// Base, before the discount and in minor units: before is the amount
// returned earlier. The share of an amount x is the discount times x over
// the parts' Base, rounded down (x at most that sum); one return gives back
// the share after it less the share before it, so successive returns give
// back exactly the discount once the whole amount is back, and never more.
//
// Errors, each an *errcode.Error with code InvalidArgument: those of the
// parts, as for [GiveBack]; on "Before" or "Now" for a negative amount, or
// one past the parts' Base.
func GiveBackAmount(parts []Part, before, now int64) (int64, error) {
	if err := checkParts(parts); err != nil {
		return 0, err
	}
	var base, given int64
	for _, p := range parts {
		base += p.Base
		given += p.Discount
	}
	switch {
	case before < 0 || before > base:
		return 0, errcode.New(errcode.InvalidArgument, "Before", fmt.Sprintf("must be within 0..%d", base))
	case now < 0 || now > base-before:
		return 0, errcode.New(errcode.InvalidArgument, "Now", fmt.Sprintf("must be within 0..%d, what is left to return", base-before))
	case base == 0:
		return 0, nil
	}
	after, _ := mulDiv(given, before+now, base)
	was, _ := mulDiv(given, before, base)
	return after - was, nil
}

// checkParts checks that parts are a split's.
func checkParts(parts []Part) error {
	if len(parts) > MaxLines {
		return errcode.New(errcode.TooMany, "Parts", fmt.Sprintf("%d parts; a basket holds at most %d lines", len(parts), MaxLines))
	}
	var f errcode.Fields
	seen := make(map[string]bool, len(parts))
	for i, p := range parts {
		pre := "Parts[" + strconv.Itoa(i) + "]."
		switch {
		case p.Quantity <= 0 || p.Quantity > MaxQuantity:
			f.Add(errcode.InvalidArgument, pre+"Quantity", fmt.Sprintf("must be within 1..%d", MaxQuantity))
		case p.Base < 0 || p.Base >= MaxLineAmount:
			f.Add(errcode.InvalidArgument, pre+"Base", fmt.Sprintf("must be within 0..%d", int64(MaxLineAmount-1)))
		case p.Discount < 0 || p.Discount > p.Base:
			f.Add(errcode.InvalidArgument, pre+"Discount", "must be within 0 and the line's base")
		case seen[p.Line]:
			f.Add(errcode.InvalidArgument, pre+"Line", fmt.Sprintf("line %q is listed twice", p.Line))
		}
		seen[p.Line] = true
	}
	return f.Err()
}
