// Package refstore is the reference [store.Store]: a small, plain adapter
// written to be read by anyone writing an adapter for their own database.
// It passes the whole conformance suite (storetest.Run), and says, method
// by method, what the contract asks and how it meets it.
//
// It keeps every record in Go maps and slices behind one sync.Mutex and
// answers every query by a scan and a sort: no index beyond the unique
// keys the contract names, no cache, nothing clever. That is slow for
// large data and easy to check against the contract, which is the point:
// copy its shape, then replace the maps by your database's tables and the
// mutex by its transactions. For a fast in-memory store use package
// memstore; for SQLite or PostgreSQL, packages sqlite and postgres.
//
// # Rules every method follows
//
// Every method is safe for concurrent use: each takes the one mutex. Each
// checks its context first: a context already done fails the call with
// the context's error before anything is read or written. Reads return
// copies: a caller changing a returned value (including the slices inside
// a series.Series: Reminders, Issuance.ExcludeSeries, Redemption.Hours)
// must not change the store, so series are stored and returned through
// series.Series.Clone. Codes are compared exactly, in canonical form; a
// store never case-folds or trims. A lookup of one record by its key that
// finds nothing returns [store.NotFound] (an error matching
// errcode.ErrNotFound); a list that matches nothing is empty, never an
// error. A record with an empty id is refused with
// errcode.InvalidArgument.
//
// # The reads
//
//   - Series, Coupon, Redemption: the record with the id, from a map by
//     id.
//   - RedemptionByKey: the redemption with the (coupon, idempotency key),
//     from a second map that Apply keeps beside the records; a redemption
//     without a key is not in it.
//   - ListSeries: the series that [store.SeriesQuery.Match] keeps,
//     ordered by id.
//   - CouponsByCode: the coupons with the canonical code, in one series or
//     in every series, ordered by id; a common code has one coupon per
//     customer.
//   - ListCoupons: the coupons that [store.CouponFilter.Match] keeps, with
//     ids above AfterID, ordered by id, at most Limit of them.
//   - ListRedemptions: the records that [store.RedemptionQuery.Match]
//     keeps, ordered by id, at most Limit.
//   - Counters: one value per key, read from a map by [store.CounterKey];
//     a counter never bumped reads as the zero Count. The key's fields are
//     opaque strings.
//   - Events: the events [store.EventQuery.Match] keeps, in the order they
//     were applied (one slice, appended to), the first Limit of them.
//   - InAudience, Audience: a set of customers per series, with the time
//     each was added; Audience lists members ordered by customer
//     (byte-wise), after After, at most Limit, only Customers when given.
//   - NextIndex: the series' next code index, 0 until a change advances
//     it; it reserves nothing.
//   - EventsAfter: the feed, at most limit events after a position, in
//     position order, and the position to resume from. The position of
//     the event at index i of the one events slice is (0, i+1): every
//     write appends under the mutex, so index order is commit order and
//     no event ever lands behind a reader. A database numbers its events
//     in commit order, or holds back those of transactions that may still
//     commit behind a reader. A negative limit, a position the store never
//     made, or one past its last event are refused ([store.FeedLimit],
//     [store.ForeignPosition], *store.FuturePositionError).
//   - Checkpoint, SaveCheckpoint ([store.Checkpointer], optional): a
//     position per consumer name, in a map; a name never saved is a
//     *store.UnknownConsumerError, a malformed one refused by
//     [store.CheckConsumer].
//
// # Apply, part by part
//
// Apply is all of a change or none of it. It first refuses a change that
// writes one record twice ([store.Change.Validate]): a change writes each
// record at most once, so no part needs to see another's write of the same
// record. It then stages the change in a pending overlay, checking each
// part in the order [store.Change] gives against the stored state, and
// writes to
// the maps only when every check has passed, all under the one mutex, so
// that no other call sees half a change. A SQL adapter does the same in
// one transaction, with the checks in its statements (an UPDATE ... WHERE
// version = expected, unique constraints, an UPDATE of a counter WHERE
// its guard holds) and a rollback on the first refusal.
//
//  1. Series: an insert (ExpectVersion 0) whose id exists is a
//     *store.ExistsError; an update whose stored version is not
//     ExpectVersion, or of a series that does not exist, a
//     *store.ConflictError. The stored version becomes ExpectVersion+1.
//  2. NewCoupons: an id taken is a *store.ExistsError of kind "coupon".
//  3. Coupons: an update whose stored Version is not ExpectVersion, or of
//     a coupon that does not exist, is a *store.ConflictError.
//  4. The coupons' unique keys, on the state after every coupon write of
//     the change (so that a change may move a key another of its coupons
//     gives up): (series, canonical code, [store.Slot]) held by another
//     coupon is a *store.ExistsError of kind "coupon", and (series,
//     IssueKey), for a coupon with an IssueKey, one of kind "issue".
//  5. NewRedemptions and Redemptions, as the coupons: an id taken is a
//     *store.ExistsError, an update whose stored Status is not
//     ExpectStatus a *store.ConflictError, and a (coupon, idempotency
//     key) held by another redemption a *store.ExistsError.
//  6. Audience updates: adding a customer already on the list is
//     a *store.ExistsError of kind "audience", removing one who is not on
//     it a *store.ConflictError.
//  7. Bumps, each by [store.Bump.Next] on the stored counter: a guard that refuses is a *store.GuardError; a
//     decrement below zero, or a rewind that does not find the count it
//     expects, a *store.ConflictError.
//  8. Sequence: [store.SequenceAdvance.Next] from the series' stored next
//     index; an index that moved is a *store.ConflictError.
//  9. Then it writes it all, appends the events in order, then the event
//     of each notice whose counter the bumps took across its value
//     ([store.Notice.Crossed]), and sets each bump's After to the
//     counter's value after it.
//
// The store decides nothing: it checks the expectations and guards the
// change carries, and reports which one refused with the typed error the
// engine retries or answers on.
//
// # The bulk methods
//
//   - InsertCoupons: inserts the batch, skipping each coupon whose id,
//     unique key or issue key is already taken (by a stored coupon or an
//     earlier one of the batch) and its events, so that running it twice
//     inserts nothing the second time; it returns how many it inserted.
//   - UpdateWhere: moves the coupons that match the filter, at most Limit
//     of them in id order, to the new state, bumping each Version and
//     appending one event each from the template (id prefix and coupon id,
//     the coupon's series, code and holder filled in); it returns them as
//     stored.
//   - AddAudience (deprecated): adds customers, with no time, skipping
//     those already on the list.
//
// # What it leaves out
//
// It implements neither store.SeriesVersioner nor
// store.CouponsByCodeAppender: they save work on every redemption and a
// store need not offer them (memstore does). It keeps nothing across a
// restart.
//
// # Proving an adapter
//
// Package storetest is the executable form of this contract. Run it from
// the adapter's tests, under the race detector:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return refstore.New() }, storetest.Sizes{})
//	}
//
// While an adapter is being written, run its tiers one at a time, in
// order: storetest.RunContract (the contract alone, as above), then
// storetest.RunEngine (every engine operation over the store),
// storetest.RunFeed (the event feed, its notices and checkpoints),
// storetest.RunModel (random sequences against a model) and
// storetest.RunRaces (concurrency). A slower backend lowers the sizes in
// storetest.Sizes (Goroutines, RaceRounds, RapidChecks, RapidSteps) rather
// than skipping a tier. storetest.RunBenchmarks measures the engine's hot
// paths over the store: go test -bench . -run '^$'.
package refstore
