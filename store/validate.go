package store

// Validate reports a change that writes one record more than once, which
// the store contract forbids (see Change): a coupon id among NewCoupons
// and Coupons together, a redemption id among NewRedemptions and
// Redemptions together, a counter key among Bumps, or a series and
// customer among Audience, a lease id among Leases, or a till and key
// among LeaseOps. The error is a *TwiceError naming the first
// record written again, in that order of the parts. Series and Sequence
// write one record each; Events are appended, not written over, and are
// not looked at.
//
// Every store calls Validate at the start of Apply and returns its error
// without writing anything. It allocates nothing for changes of up to a
// few dozen records of each kind.
func (c *Change) Validate() error {
	nc := len(c.NewCoupons)
	if i, ok := firstRepeat(nc+len(c.Coupons), func(i int) string {
		if i < nc {
			return c.NewCoupons[i].ID
		}
		return c.Coupons[i-nc].Coupon.ID
	}); ok {
		return &TwiceError{Kind: "coupon", Key: i}
	}
	nr := len(c.NewRedemptions)
	if i, ok := firstRepeat(nr+len(c.Redemptions), func(i int) string {
		if i < nr {
			return c.NewRedemptions[i].ID
		}
		return c.Redemptions[i-nr].Redemption.ID
	}); ok {
		return &TwiceError{Kind: "redemption", Key: i}
	}
	if k, ok := repeatedCounter(c.Bumps); ok {
		return &TwiceError{Kind: "counter", Key: k.String()}
	}
	type member struct{ series, customer string }
	if m, ok := firstRepeat(len(c.Audience), func(i int) member { return member{c.Audience[i].SeriesID, c.Audience[i].Customer} }); ok {
		return &TwiceError{Kind: "audience", Key: m.series + "/" + m.customer}
	}
	return c.validateLeases()
}

// repeatedCounter is firstRepeat over the bumps' keys, written out for
// the few bumps of every redemption: it compares the keys in place, the
// cheap counter kind first, instead of copying each through a function.
func repeatedCounter(bumps []Bump) (CounterKey, bool) {
	if len(bumps) > fewKeys {
		return firstRepeat(len(bumps), func(i int) CounterKey { return bumps[i].Key })
	}
	for i := 1; i < len(bumps); i++ {
		k := &bumps[i].Key
		for j := range i {
			if o := &bumps[j].Key; o.Counter == k.Counter && *o == *k {
				return *k, true
			}
		}
	}
	return CounterKey{}, false
}

// fewKeys is the most keys firstRepeat compares pairwise; past it, it
// uses a map.
const fewKeys = 32

// firstRepeat returns the first of the n keys key(0), ..., key(n-1) that
// equals an earlier one, and whether there is one.
func firstRepeat[K comparable](n int, key func(int) K) (K, bool) {
	if n <= fewKeys {
		for i := 1; i < n; i++ {
			k := key(i)
			for j := range i {
				if key(j) == k {
					return k, true
				}
			}
		}
		var zero K
		return zero, false
	}
	seen := make(map[K]struct{}, n)
	for i := range n {
		k := key(i)
		if _, dup := seen[k]; dup {
			return k, true
		}
		seen[k] = struct{}{}
	}
	var zero K
	return zero, false
}
