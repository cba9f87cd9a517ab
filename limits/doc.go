// Package limits decides whether a coupon may be issued or redeemed.
//
// It is the one place where couponkit's issuance and redemption rules are
// evaluated. It is pure: it reads no clock, touches no storage and allocates
// nothing on the evaluation path. The caller passes in
//
//   - the rules (a [RedemptionRules] or [IssuanceRules], usually part of a
//     series configuration),
//   - a snapshot of the counters the rules read ([RedemptionCounts] or
//     [IssuanceCounts]), and
//   - the request: when, where, for which bill and which customer.
//
// The result is a [Decision]. It lists every rule the request breaks, each as
// a [Reason] with a stable code, and, for each counter the operation will
// bump, the [Guard] (limit and minimum gap) that a store must check again
// atomically when it applies the change. The snapshot may be stale by the time
// the change is written; the guards are what make limits exact under
// concurrency.
//
// A zero [Limit] means "no limit". Calendar rules (weekdays, days of the
// month, hours) are read in the location of the request's time: pass the time
// in the series' time zone.
package limits
