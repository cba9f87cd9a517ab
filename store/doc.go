// Package store defines the contract between couponkit's engine and the
// storage it runs on.
//
// The engine decides; a store applies. For every operation the engine reads
// a snapshot through the read methods of [Store], evaluates the rules (with
// package limits and package coupon), and hands the store one [Change]: the
// records to insert, the coupon and redemption updates guarded by version or
// status, the counter bumps guarded by the limit and gap that package limits
// computed, the events, and for codes minted from a series' code sequence
// the advance of the sequence past them, guarded by the index the engine
// read. A change writes each record at most once ([Change.Validate]), so
// each part is checked against the stored state alone. [Store.Apply]
// writes all of it atomically or none of it, and says which guard failed. A store never decides whether a
// redemption is allowed: it checks guards it is given, nothing else.
//
// Because every limit is re-checked by the store's atomic guard, limits stay
// exact however many engines share a store: a stale snapshot can only make
// the engine try a change that the guard then refuses.
//
// The bulk methods ([Store.InsertCoupons], [Store.UpdateWhere]) are
// set-based: one call handles a batch, and they are idempotent so that an
// interrupted job can be resumed.
//
// # The event feed
//
// Every event a store keeps has a [Position], and the positions order all
// of them: [Store.EventsAfter] reads the events after a position, and a
// reader that resumes from the last position it handled never misses one,
// however many writers commit concurrently and in whatever order. A store
// that numbers events before it knows the order of commit (a sequence in a
// database with concurrent writers) holds back the events of transactions
// that may still commit behind a reader; the feed lags, it never skips. A
// change's [Notice] is an event appended only when the change's bumps take
// a counter across a value. Optionally a store keeps a position per
// consumer ([Checkpointer]); package feed follows the feed with them.
//
// Implementations: package refstore (the reference adapter: small, plain,
// written to be read by adapter authors), package memstore (in memory,
// fast), package sqlite (an SQLite file) and package postgres
// (PostgreSQL), the last two over one shared SQL core. Package storetest is
// the conformance suite every implementation must pass, in five tiers (the
// contract alone, the engine over the store, the feed, a model-based test,
// the races); run it from your adapter's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newMyStore(t) }, storetest.Sizes{})
//	}
//
// # Retries
//
// The engine is the one owner of retries; a store runs nothing again. A
// store reports what it met with the typed errors of this package and
// stops: a *GuardError or a *ConflictError when the engine's snapshot was
// stale, and a *ConflictError of Kind "transaction" when the database
// refused the whole transaction (a serialization failure, a deadlock, a
// busy database) and wrote nothing. The engine reads again, decides again
// and applies again, up to couponkit.Config.MaxAttempts times, or, for a
// write that decides nothing (a bulk method, a series write), makes the
// same write again. A store that waits for a lock (a busy timeout) is
// waiting, not retrying.
//
// # Caching
//
// The engine is the one owner of caches of records: it keeps the series it
// has read and reuses one while the store reports its version unchanged
// ([SeriesVersioner]), so that a redemption does not decode its series
// every time. A store caches no record: every read returns what is stored
// then (an index, a page cache or a prepared statement is not a cache of
// records).
package store
