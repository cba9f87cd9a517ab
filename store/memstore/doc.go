// Package memstore is couponkit's fast in-memory [store.Store], for tests,
// for demonstrations and for single-process deployments that can afford to
// lose their state. It is built for speed (the indexes below) rather than
// for reading: an adapter author reads package refstore, the reference
// adapter, which meets the same contract plainly.
//
// A [Store] keeps every record in Go maps guarded by one sync.RWMutex.
// Reads take the read lock only to find and copy a record, so they run in
// parallel with each other; [Store.ReadCode] reads what a redemption is
// decided on (a code's coupons, their series' version, the counters of a
// use) under one read lock. [Store.Apply] takes the write lock, checks every
// part of the change (versions, statuses, unique keys, counter guards,
// decrements) without writing anything, and only then writes all of it: a
// failed change leaves the store exactly as it was, and every change is
// isolated from every other. The bulk methods ([Store.InsertCoupons],
// [Store.UpdateWhere]) are atomic per call in the same way.
//
// Indexes: one record per coupon id holding the coupon, its redemptions
// (with their idempotency keys beside them), the positions of its events
// and its code-level counters, so that the reads and writes of a
// redemption find all of them with one lookup; one record per customer
// holding the coupons they hold, the positions of the events naming them
// and their per-series counters (a coupon's record points to its holder's);
// coupons by unique key (series, canonical code, slot); by issue key
// (series, issue key), for the coupons issued with one; by canonical code
// (the coupon itself when one coupon has the code, as is usual); ordered
// sets of ids by series and overall, so that the per-holder and per-series
// queries and id paging never scan every coupon; redemptions in slabs,
// indexed by a pointer-free hash table of their ids, by series, by
// redeemer (in the customer's record), and the held ones; series-level counters and the next code index by series;
// events encoded in an append-only log of byte chunks, each event chained
// to the previous one of its coupon and of its customer. Counters are looked up
// by [store.CounterKey] as one map would be, wherever they are kept (see
// counters.go); a redemption therefore touches a handful of records instead
// of a map entry per counter, and a hot path of a million-coupon store
// allocates little.
//
// The event log and the redemption index hold no pointers, so the
// collector does not trace them however large they grow.
//
// The event feed numbers the log: the event numbered k (from 0) is at the
// position (0, k+1). Changes append under the write lock, so the numbers
// are the order of commit and an event is readable at once; a read finds
// its first event by the number of the first event in each chunk of the
// log and skips within the chunk by the encoded lengths. Checkpoints are a
// map under the same lock.
//
// Records are returned as copies. A stored series is never changed in place
// (an update replaces it) and a logged event never changes, so reading them
// copies outside the lock. An event's time comes back as the same instant,
// in the zone offset it had (time.Time's binary form); the name of its
// Location is not kept.
//
// A lookup that finds nothing returns an error that matches
// errcode.ErrNotFound and, under errors.As, is the *errcode.Error that
// store.NotFound gives; it is formatted only when looked at, because an
// idempotency-key lookup usually misses.
//
// Points the contract leaves open, and what memstore does:
//   - A series write stores Version = ExpectVersion+1 (1 on insert), as
//     series.Series documents that the store bumps it; CreatedAt and
//     UpdatedAt are stored as given (memstore reads no clock).
//   - A record with an empty id is refused with errcode.InvalidArgument.
//   - A redemption with an empty IdempotencyKey is not indexed by key: it
//     collides with nothing and RedemptionByKey never finds it.
//   - A missing coupon in Change.Coupons, or a missing redemption in
//     Change.Redemptions, is a *store.ConflictError (its expectation does
//     not hold), as a guarded SQL UPDATE that matches no row would be.
//   - Unique keys are checked on the state after the whole change, so a
//     change may move one coupon's key to a key another coupon of the same
//     change gives up; so are issue keys. A coupon with an empty IssueKey
//     has no issue key: it collides with nothing and CouponFilter.IssueKeys
//     never finds it.
//   - CouponFilter.Unused keeps coupons with Redemptions == 0 and
//     Holds == 0; ExpiresAfter keeps coupons whose ExpiresAt is set and
//     after the time; RedemptionQuery.HoldExpiresBefore keeps records whose
//     HoldExpiresAt is set and not after the time (combine it with Status
//     StatusHeld for live holds).
//   - EventQuery with neither CouponID nor Customer scans every event.
//   - A Change.Sequence for a series that is not stored is applied: the
//     sequence is kept beside the series' records, which a counter or a
//     coupon of an unknown series has too.
package memstore
