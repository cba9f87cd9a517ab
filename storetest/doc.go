// Package storetest is the conformance suite that every couponkit
// [store.Store] adapter runs: the in-memory store, the SQL stores, the
// reference adapter, and any third party's.
//
// Run it from the adapter's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return newMyStore(t) // a fresh, empty store of its own; clean up with t.Cleanup
//		}, storetest.Sizes{})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return newMyStore(b) })
//	}
//
// # Tiers
//
// [Run] runs five tiers, one after another; each has its own entry point,
// so that an adapter being written can pass them one at a time, in this
// order:
//
//   - [RunContract], the store contract alone: the store driven directly,
//     without the engine, for what the engine cannot show. Apply's
//     atomicity, its version, status, guard and sequence expectations and
//     its unique keys, each refusal's typed error, the reads' filters,
//     order, paging and copies, the bulk methods' idempotency and limit,
//     cancelled contexts, and guarded bumps racing at one counter.
//   - [RunEngine], the engine over the store: one subtest per engine
//     operation and error path (series, issue, redeem and every limit kind,
//     holds, reverse, revoke, transfer, reissue, expiry and reminders,
//     queries, bulk work, audience lists), each checking results, stored
//     state, counters and events, and matching errors with errors.Is and
//     errors.As; and the input tests: bad strings (NUL, invalid UTF-8,
//     control characters, values past every length limit) and times
//     outside the years 1900 through 2199 get the same refusal on every
//     store and change nothing, and a rapid property checks that every
//     store keeps, as given, the strings and times the engine accepts.
//   - [RunFeed], the event feed: every event once, in position order,
//     through the store and the engine; resuming, pages, typed errors for
//     a negative limit and a position past the last event, a failed change
//     adding nothing, a change's notices, checkpoints, the notifications
//     the engine writes (issuance threshold, reissue, reminders due); and
//     writers committing concurrently while readers follow the feed, every
//     reader seeing every event exactly once.
//   - [RunModel], a model-based test (pgregory.net/rapid): random
//     sequences of every engine operation on a small world, compared,
//     result by result and state by state, with a plain in-memory model of
//     the rules, and the feed followed step by step against the model's
//     histories.
//   - [RunRaces], the concurrency tests: many goroutines racing at each
//     limit kind, with idempotent retries mixed in, repeated several
//     rounds; exactly the allowed number succeed, every loser gets the
//     right refusal, and counters equal the redemption records.
//
// Each tier's documentation says what it checks and what a store must do
// to pass it. Every subtest starts from a fresh store, built by the
// caller's constructor, and drives an engine with a fake clock, a fixed
// code key and an in-memory customer directory. Failure messages name the
// rule being checked.
//
// The subtests of the contract, engine and feed tiers run in parallel,
// each on its own store, so the constructor is called concurrently and
// each call must return a store that shares nothing with another (its own
// schema, database file or memory). The races (those of the feed tier
// first, alone) and the model test run one at a time. [Sizes] scales the expensive parts for slower backends. Times
// used by the suite are whole seconds, so a store may keep times at
// microsecond precision. The suite never reads the wall clock for coupon
// logic.
//
// Package refstore is the reference adapter: a small one, written to be
// read, that passes Run; its documentation walks through the contract
// method by method.
package storetest
