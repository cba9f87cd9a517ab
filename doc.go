// Package couponkit is an embeddable library for coupon rules and the coupon
// state machine: series (offers) with issuance and redemption limits, codes
// generated without collisions at the scale of tens of millions, issue,
// redeem with idempotency keys, hold and confirm, reverse, revoke, transfer,
// reissue and expiry, over a storage of your choice.
//
// # The parts
//
//   - [Engine] (this package) runs the operations. Create one with [New]
//     over a [store.Store].
//   - Package series holds a series' configuration and its validation,
//     expiry and discount arithmetic.
//   - Package limits is the pure evaluator of every issuance and redemption
//     rule; it returns a [limits.Decision] listing each broken rule.
//   - Package refusal turns a decision and the coupon's state into what a
//     caller is told: the ordered list of refusals, each fact once.
//   - Package basket is the pure arithmetic of a checkout with the basket's
//     lines: eligible lines, discounts split per line to the minor unit,
//     several coupons on one bill, budgets and partial returns. The
//     Engine applies one coupon to a basket (RedeemRequest.Lines) and
//     keeps series' money budgets; see "Baskets and budgets".
//   - Package coupon is the pure state machine: states, transitions, the
//     redemption and event records.
//   - Package codegen makes unique and randomized common codes by a keyed
//     permutation: no retries, no collisions, not guessable from their order.
//   - Package store is the storage contract; store/memstore keeps everything
//     in memory, store/sqlite in an SQLite file and store/postgres in
//     PostgreSQL. Package storetest is the conformance suite any adapter
//     runs.
//   - Package errcode is the one error type, with stable numeric codes.
//   - Package lease is the model of a till's lease: a slice of a series'
//     uses that the engine grants a till (GrantLease, TopUpLease,
//     ReturnLease, RenewLease, ReclaimLapsed) and counts against the
//     series at once, so that the till can redeem offline within it. The
//     engine decides a till's use online (RedeemAtTill), records the uses
//     and reversals of its journal (ApplyJournal) once per till and key
//     either way, serves it the feed of its own series (TillFeed,
//     TillSeries) and reports conflicts, reversals and each lease's
//     allowance of unverified uses (Reconcile).
//
// # Guarantees
//
// Every operation is atomic: its change and its events are written together
// or not at all. Operations are isolated: however many goroutines and
// processes share a store, no limit is passed, no redemption is lost or
// counted twice. The engine decides from a snapshot and the store re-checks
// each counter's limit and gap atomically when it applies the change; a
// stale snapshot only costs a retry. A redemption carries an idempotency key:
// repeating it returns the first result and changes nothing.
//
// # Baskets and budgets
//
// A redemption, hold or validation may carry the bill's lines
// (RedeemRequest.Lines). The bill is then the basket: its amount is the
// lines' total, its currency the basket's. The series' product rules
// (series.ProductRules) select the eligible lines, the discount applies to
// them alone, and the redemption records its split per line
// (coupon.Redemption.Parts), exact in minor units, for receipts and later
// returns. A basket that falls short is refused beside the other rules
// (codes 1701 to 1703). The idempotency key then also names the lines: the
// same key with other lines is refused with ErrKeyMismatch on "Lines".
//
// A series may cap the money it gives away (series.Budget), in total and
// per customer. The engine reads what is left, refuses a discount past it
// (1706, 1707) or, under series.BudgetReduce, reduces it to what is left
// (coupon.Redemption.Reduced). The use bumps two counters
// (limits.SeriesBudget, limits.CustomerBudget, in minor units of the
// series' currency) by what it took (coupon.Redemption.Budget), guarded by
// the caps in the same change as the use, so no cap is passed under any
// interleaving; a reversal, a release or a lapsed hold gives it back. A
// budget applies to bills without lines too, their discount then counted
// in whole minor units of the bill's currency, rounded down.
//
// # Time
//
// The engine reads time from Config.Now (time.Now by default); tests pass a
// fake clock. Expiry days and redemption calendars are computed in the
// series' time zone.
//
// # Errors
//
// Bad input and refused operations return errors that wrap an
// *errcode.Error: match them with errors.Is against the errcode sentinels
// (errcode.ErrRevoked, errcode.ErrLimitReached, ...) or read the code with
// errors.As. A refused redemption, hold, validation or issue is a
// *refusal.Error (package refusal): each fact that stops it once, with its
// stable code, rule, a message a cashier can read and the figures behind
// it. Nothing changes when an operation fails.
package couponkit
