package couponkit

import (
	"time"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// useKeys are the counters a redemption (or hold) by customer of the coupon
// with the canonical code and slot (store.Slot) in a series reads and
// bumps, in the order of limits' redemption guards.
func useKeys(seriesID, code, slot, customer string) [4]store.CounterKey {
	return [4]store.CounterKey{
		{Counter: limits.CodeUses, Series: seriesID, Code: code, Holder: slot},
		{Counter: limits.CustomerCodeUses, Series: seriesID, Code: code, Holder: slot, Customer: customer},
		{Counter: limits.SeriesUses, Series: seriesID},
		{Counter: limits.CustomerSeriesUses, Series: seriesID, Customer: customer},
	}
}

// issueKeys are the counters an issue reads and bumps, in the order of
// limits' issuance guards.
func issueKeys(seriesID, customer string) [2]store.CounterKey {
	return [2]store.CounterKey{
		{Counter: limits.SeriesIssued, Series: seriesID},
		{Counter: limits.CustomerIssued, Series: seriesID, Customer: customer},
	}
}

// issueReadKeys cuts keys (issueKeys' series counter first, then
// customers' counters) to the counters s's issuance rules decide on: the
// series' alone where no rule reads a customer's
// (limits.IssuanceRules.DecidesOnCustomer). A customer's counter not read
// stays zero, which decides the same; it is bumped either way, so that a
// rule added later counts the coupons issued before it.
func issueReadKeys(s *series.Series, keys []store.CounterKey) []store.CounterKey {
	if rules := s.EffectiveIssuance(); !rules.DecidesOnCustomer() {
		return keys[:1]
	}
	return keys
}

// guardedBumps appends to dst a +1 bump of each key guarded by the
// matching guard of a decision.
func guardedBumps(dst []store.Bump, guards []limits.Guard, keys []store.CounterKey, at time.Time) []store.Bump {
	for i, g := range guards {
		dst = append(dst, store.Bump{Key: keys[i], Delta: 1, Guard: g, At: at})
	}
	return dst
}

// undoBumps gives back one use on each key.
func undoBumps(keys []store.CounterKey, at time.Time) []store.Bump {
	out := make([]store.Bump, len(keys))
	for i, k := range keys {
		out[i] = store.Bump{Key: k, Delta: -1, At: at}
	}
	return out
}
