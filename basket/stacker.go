package basket

import (
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// stacker applies coupons one after another to a checked basket. Its
// buffers are kept from one call to the next (Stacker).
type stacker struct {
	pb      prepared
	rates   series.Rates
	scratch []int64 // room for left, w, parts and reduced
	left    []int64 // what each line comes to now
	w       []int64 // scratch: the eligible lines' amounts
	parts   []int64 // scratch: a discount's parts
	reduced []int64 // scratch: a reduced discount's parts
	sel     Selection
	applied []*Coupon
	// split holds the parts of the decisions applied so far. Unless
	// handOver says that it is the caller's (a stacker of one call),
	// result copies it into one slice of the caller's.
	split    []Part
	handOver bool
	res      Result
	// Room for the usual few coupons.
	order      [4]int
	appliedBuf [4]*Coupon
}

// init readies st, whose basket is prepared, for n coupons.
func (st *stacker) init(rates series.Rates, n int) {
	pb := &st.pb
	k := len(pb.lines)
	if st.scratch == nil || cap(st.scratch) < 4*k { // Left is never nil
		st.scratch = make([]int64, 4*k)
	}
	scratch := st.scratch[:4*k]
	st.left, st.w, st.parts, st.reduced = scratch[:k:k], scratch[k:2*k:2*k], scratch[2*k:3*k:3*k], scratch[3*k:]
	for i := range pb.lines {
		st.left[i] = pb.lines[i].amount
	}
	st.rates = rates
	if cap(st.sel.Eligible) < k {
		st.sel.Eligible = make([]bool, k)
	}
	st.sel = Selection{Eligible: st.sel.Eligible[:k]}
	st.applied = st.appliedBuf[:0]
	st.split = st.split[:0]
	ds := st.res.Decisions[:0]
	if cap(ds) < n {
		ds = make([]Decision, 0, n)
	}
	st.res = Result{Currency: pb.b.Currency, AllApplied: true, Decisions: ds}
}

// apply decides one coupon and, when it is applied, takes its discount off
// the lines.
func (st *stacker) apply(c *Coupon) error {
	d := Decision{Code: c.Code}
	refs := st.combine(c)
	sel := &st.sel
	st.pb.selectInto(&c.Products, sel)
	q, err := st.pb.qualify(&c.Products, c.Discount.Currency, sel, st.rates)
	if err != nil {
		return err
	}
	refs = append(refs, q...)
	var parts []int64
	if len(refs) == 0 {
		parts, refs, err = st.discount(c, sel.Eligible, &d)
		if err != nil {
			return err
		}
	}
	if len(refs) > 0 {
		d.Refusals = refs
		st.res.AllApplied = false
		st.res.Decisions = append(st.res.Decisions, d)
		return nil
	}
	d.Applied = true
	d.Discount = decimalOf(d.Minor, st.pb.places)
	if st.handOver { // each decision's parts in a slice of their own
		n := 0
		for _, ok := range sel.Eligible {
			if ok {
				n++
			}
		}
		st.split = make([]Part, 0, n)
	}
	from := len(st.split)
	for i, ok := range sel.Eligible {
		if !ok {
			continue
		}
		l := &st.pb.b.Lines[i]
		st.split = append(st.split, Part{Line: l.ID, Quantity: l.Quantity, Base: st.w[i], Discount: parts[i]})
		st.left[i] -= parts[i]
	}
	// Parts is in st.split (result moves it unless it is the caller's).
	d.Parts = st.split[from:len(st.split):len(st.split)]
	st.res.Minor += d.Minor
	st.res.Decisions = append(st.res.Decisions, d)
	st.applied = append(st.applied, c)
	return nil
}

// combine returns the refusals of a coupon that does not combine with
// those applied, or would bring the bill past a coupon's MaxPerBill.
func (st *stacker) combine(c *Coupon) []refusal.Refusal {
	if len(st.applied) == 0 {
		return nil
	}
	var out []refusal.Refusal
	first := st.applied[0]
	if c.Stacking.Exclusive || first.Stacking.Exclusive || c.Stacking.Group != first.Stacking.Group {
		out = append(out, refusal.NotCombinableWith(first.Code))
	}
	n := len(st.applied)
	if m := c.Stacking.MaxPerBill; m > 0 && n+1 > m {
		return append(out, refusal.TooManyOnBill(int64(m), int64(n), c.Code))
	}
	for _, a := range st.applied {
		if m := a.Stacking.MaxPerBill; m > 0 && n+1 > m {
			return append(out, refusal.TooManyOnBill(int64(m), int64(n), a.Code))
		}
	}
	return out
}

// discount computes c's discount on what is left of the eligible lines,
// within its budget, into d.Minor and d.Reduced, and returns its parts by
// line (in the basket's order), or the refusals.
func (st *stacker) discount(c *Coupon, eligible []bool, d *Decision) ([]int64, []refusal.Refusal, error) {
	var sum int64
	for i, ok := range eligible {
		st.w[i] = 0
		if ok {
			st.w[i] = st.left[i]
			sum += st.left[i]
		}
	}
	if sum == 0 {
		return nil, []refusal.Refusal{refusal.NothingLeft()}, nil
	}
	parts := st.parts
	clear(parts)
	total, err := st.pb.compute(&c.Discount, st.w, sum, parts, st.rates)
	if err != nil {
		return nil, nil, err
	}
	allowed, reduced, refs := c.Budget.Limit(total, st.pb.b.Currency)
	if refs != nil {
		return nil, refs, nil
	}
	if reduced {
		full := parts
		parts = st.reduced
		split(allowed, full, st.pb.id, parts)
	}
	d.Minor, d.Reduced = allowed, reduced
	return parts, nil, nil
}

// id is the id of line i.
func (pb *prepared) id(i int) string { return pb.b.Lines[i].ID }

// result is the stacking's result: the applied decisions' parts, kept in
// st.split, are copied into one slice of the caller's, each decision's
// parts with no room after them.
func (st *stacker) result() *Result {
	st.res.Left = st.left
	if len(st.split) > 0 && !st.handOver {
		all := make([]Part, len(st.split))
		n := 0
		for j := range st.res.Decisions {
			d := &st.res.Decisions[j]
			if len(d.Parts) == 0 {
				continue
			}
			m := copy(all[n:], d.Parts)
			d.Parts = all[n : n+m : n+m]
			n += m
		}
	}
	return &st.res
}

// compute returns discount d on lines whose amounts are w (zero for a line
// not eligible), summing to sum > 0, and fills parts with its split.
func (pb *prepared) compute(d *series.Discount, w []int64, sum int64, parts []int64, rates series.Rates) (int64, error) {
	switch d.Kind {
	case series.Fixed:
		amt, err := pb.convert(d.Amount, d.Currency, rates, minorRound)
		if err != nil {
			return 0, err
		}
		total := min(amt, sum)
		split(total, w, pb.id, parts)
		return total, nil
	case series.Percent:
		total := percentOf(sum, d.Percent)
		if d.Cap.Valid {
			capped, err := pb.convert(d.Cap.Decimal, d.Currency, rates, minorFloor)
			if err != nil {
				return 0, err
			}
			total = min(total, capped)
		}
		total = min(total, sum)
		split(total, w, pb.id, parts)
		return total, nil
	}
	// PerUnit (Discount.Validate refuses any other kind).
	each, err := pb.convert(d.Amount, d.Currency, rates, minorRound)
	if err != nil {
		return 0, err
	}
	var total int64
	for i, x := range w {
		if x > 0 {
			parts[i] = min(mulSat(pb.lines[i].qty, each), x)
			total += parts[i]
		}
	}
	return total, nil
}
