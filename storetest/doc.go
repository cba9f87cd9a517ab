// Package storetest is the conformance suite that every couponkit
// [store.Store] adapter runs: the in-memory store, the SQL stores, and any
// third party's.
//
// The suite exercises a store through the engine ([couponkit.Engine]), the
// way production code does, and through the store contract directly where
// the engine cannot reach (atomicity of [store.Store.Apply], idempotency of
// the bulk methods). Every subtest starts from a fresh store, built by the
// caller's constructor, and drives an engine with a fake clock, a fixed code
// key and an in-memory customer directory. Failure messages name the rule
// being checked.
//
// Run it from the adapter's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return newMyStore(t) // a fresh, empty store; clean up with t.Cleanup
//		}, storetest.Capabilities{})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return newMyStore(b) })
//	}
//
// The suite has five parts:
//
//   - operation tests: one subtest per engine operation and error path
//     (series, issue, redeem and every limit kind, holds, reverse, revoke,
//     transfer, reissue, expiry and reminders, queries, bulk work), each
//     checking results, stored state, counters and events, and matching
//     errors with errors.Is and errors.As;
//   - store-contract tests: Apply's atomicity and guards, unique keys,
//     InsertCoupons' idempotency, UpdateWhere's limit, reads returning
//     copies;
//   - a model-based test (pgregory.net/rapid): random sequences of every
//     engine operation on a small world (three customers, a generated series
//     with low limits at every level, a common series, an uploaded pool of
//     four codes) compared, result by result and state by state, with a
//     plain in-memory model of the rules;
//   - concurrency tests: many goroutines racing at each limit kind, with
//     idempotent retries mixed in, repeated several rounds; exactly the
//     allowed number succeed, every loser gets the right refusal, and
//     counters equal the redemption records;
//   - input tests: bad strings (NUL, invalid UTF-8, control characters,
//     values past every length limit) and times outside the years 1900
//     through 2199 get the same refusal on every store and change nothing,
//     and a rapid property checks that every store keeps, as given, the
//     strings and times the engine accepts (multi-byte, emoji, odd but
//     valid characters, values at their maximum length, times at the ends
//     of the range).
//
// [Capabilities] scales the slow parts for slower backends. Times used by
// the suite are whole seconds, so a store may keep times at microsecond
// precision. The suite never reads the wall clock for coupon logic.
package storetest
