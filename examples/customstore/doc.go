// Package customstore is an example of a third-party store adapter: the
// smallest obviously-correct implementation of [store.Store], written the
// way an adapter author would write one for their own backend.
//
// It keeps everything in plain Go maps and slices behind one sync.Mutex and
// answers queries by linear scans and sorts. That is slow for large data but
// easy to check against the contract, which is the point: copy its shape,
// then replace the maps by your database's tables and the mutex by its
// transactions. For a fast in-memory store use package memstore.
//
// # What each method must guarantee
//
// Every method is safe for concurrent use, checks its context first, and
// returns copies: a caller changing a returned value (including the slices
// inside a series.Series: Reminders, Issuance.ExcludeSeries,
// Redemption.Hours) must not change the store. Codes are compared exactly,
// in canonical form; a store never case-folds or trims.
//
//   - Series, Coupon, Redemption, RedemptionByKey: the record, or
//     [store.NotFound] (an error matching errcode.ErrNotFound).
//   - ListSeries, CouponsByCode, ListCoupons, ListRedemptions: the matching
//     records ordered by id; an empty result, never an error, when none
//     match. ListCoupons pages with AfterID (ids strictly greater) and
//     Limit; every set filter field must match (the query types' Match
//     methods are the rule: store.SeriesQuery.Match,
//     store.CouponFilter.Match, store.RedemptionQuery.Match).
//   - Events: the matching events (store.EventQuery.Match) in the order
//     they were applied, at most Limit of them.
//   - Counters: one value per key; a counter never bumped reads as zero.
//   - Apply: all of the change or none of it. First refuse a change that
//     writes a record twice (store.Change.Validate). Check everything, then
//     write: a series insert (ExpectVersion 0) that collides is a
//     *store.ExistsError, a series, coupon or redemption update whose stored
//     version or status is not the expected one is a *store.ConflictError;
//     coupon inserts that collide on id or on (series, canonical code,
//     store.Slot) and redemption inserts that collide on id or (coupon,
//     idempotency key) are *store.ExistsError, counting collisions within
//     the change; so is a coupon insert or update that leaves a non-empty
//     IssueKey another coupon of the series keeps (Kind "issue"); each bump
//     applies to the stored counter by store.Bump.Next (a guard that refuses is a *store.GuardError, a
//     decrement below zero a *store.ConflictError, and an increment sets
//     the last-increment time); a Sequence advance applies only from the
//     series' stored next index (store.SequenceAdvance.Next: else a
//     *store.ConflictError). A successful Apply sets each
//     Bump.After.
//   - InsertCoupons: inserts the batch, skipping coupons whose id, unique
//     key or issue key is already taken (and their events), so that running it twice
//     inserts nothing the second time; returns how many it inserted.
//   - UpdateWhere: moves up to Limit matching coupons, in id order, to the
//     new state, bumping each Version and appending one event each.
//   - NextIndex: the series' next code index, 0 until a change advances
//     it; it changes nothing.
//   - InAudience, Audience, AddAudience: a set of customers per series,
//     with the time each was added; Audience lists members ordered by
//     customer (byte-wise), after After, at most Limit, only Customers when
//     given. Apply's Audience updates: adding a member is a
//     *store.ExistsError, removing a non-member a *store.ConflictError.
//
// # Running the conformance suite
//
// Package storetest is the executable form of this contract. Every adapter
// runs it from its own tests, under the race detector:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return customstore.New() }, storetest.Capabilities{})
//	}
//
// and go test -race ./yourstore/. A slower backend lowers the sizes in
// [storetest.Capabilities] (Parallelism, RaceRounds, RapidChecks,
// RapidSteps) rather than skipping tests. storetest.RunBenchmarks measures
// the engine's hot paths over the store: go test -bench . -run '^$'.
package customstore
