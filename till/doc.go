// Package till is the till's side of offline redemption: a till keeps the
// leases the central granted it (package lease), what the central's feed
// told it of its series' coupons, and a durable journal of the uses it
// made, in its own SQL database (SQLite), so that it can keep selling
// while the network is down and report every use to the central
// afterwards, exactly once.
//
// # Online first
//
// [Till] is what a point of sale calls. [Till.Redeem] asks the central
// first ([Central].RedeemAtTill, with the sale's idempotency key and the
// lease the journal would draw an offline use on, or none) within a
// deadline, once the journal's unsynced entries are uploaded (the central
// counts an online use on the lease the till names when it has a use left
// there, never on a lease use the till spent offline and has not
// uploaded): the central's answer is final (a refusal is returned, never
// retried offline), and an allowed use is written to the journal as an
// online entry, already synced, in one transaction with the caller's
// hook, so that the till's own levels count it. When the central does not
// answer (the deadline passes, the network fails, or it answers
// Unavailable; see [Unanswered]) the sale is decided offline by the
// journal under the same key, so that a use the central made but whose
// answer was lost is counted once when the journal syncs. [Till.Sync]
// uploads the journal, sends again the lease calls left unanswered, sizes
// the till's leases by a lease.SizePolicy from its recent uses (grant,
// renew, top up, return) and reads the feed.
// [Local] is the [Central] of a till in the central's own process; the
// HTTP client of package tillhttp is the other.
//
// A sale asked of the central in vain and then refused offline too (no
// lease left, say) gave the customer nothing, yet the central may have
// made the use. Such a sale is kept in doubt ([Journal.Doubts]) unless the
// request never left the till (it could not connect), and [Till.Sync]
// settles it: it asks the central again under the sale's key and gives
// back, at once, the use the central answers with (a reversal keyed by
// the sale's key and "/void"), so that no coupon stays used up by a sale
// that never happened. A sale made after all under its key (the cashier
// tried again) is no longer in doubt.
//
// # The journal
//
// [Journal] is the local store. [Journal.Redeem] makes one offline use
// within a lease: in one transaction it decides the use, takes a use from
// a lease of the series that is usable by the till's clock (open,
// something left, and more than the clock-skew allowance before its End),
// writes the journal entry (the sale's idempotency key, the sale time, the
// lease) and runs the caller's hook on the same *sql.Tx, so that the
// till's own sale record is committed with the use or not at all. A use
// is never made twice for one key: a repeat with the same parameters
// returns the first entry, one with other parameters is refused with an
// error matching errcode.ErrKeyMismatch.
//
// Codes are kept, counted and compared in their canonical form for their
// series (series.Source.CanonicalCode, the rule the central applies):
// "abc", " ABC " and, with the confusion-free alphabet, a confusable
// spelling are one code.
//
// A use is decided ([Decide]) under the series' configuration the till
// last synced ([Journal.PutSeries], [Journal.ApplyFeed]) and what the feed
// told of the code ([Known]): the series must be open at the sale time;
// a revoked, expired or used-up coupon is refused with the refusal the
// central gives for that state; a coupon held by another customer is
// refused (unless anyone may redeem); and the redemption windows, the bill
// bounds, the code and customer levels (the central's uses of the code
// from the feed plus the till's own), "once per customer", the gap
// between one customer's uses and the series level (the till's own uses)
// must allow it. A refused use writes nothing and returns the
// *refusal.Error the central would give. Rules that need what the till
// does not hold offline (the place, the customer's registration and
// purchases) are the central's.
//
// A use of a code the feed told of as issued is verified; any other is
// unverified, and draws only on a lease whose Allowance (the operator's
// bound on the till's exposure) has an unverified use left; past it the
// use is refused with errcode.ErrAllowanceExceeded.
//
// On a series with a money budget a lease also holds a slice of the
// budget (lease.Slice.Money), and an offline use spends its discount from
// a lease whose money left covers it; when none does, the use is refused
// with the central's budget refusal, or, when the series reduces a
// discount to what is left (series.BudgetReduce), given what a lease has
// left (Entry.Discount, Entry.Budget; the central counts that discount).
// A series with a budget per customer is not sold offline at all (an
// errcode.ErrUnavailable error on "Budget.PerCustomer"): only the central
// can keep a customer's budget across tills. [Till.Sync] returns the uses
// left of a lease whose money is spent.
//
// [Journal.Reverse] records a reversal as an entry of its own, in one
// transaction with a hook: the use it gives back no longer counts toward
// the till's levels, but stays used on its lease (the central gives the
// use back to the series, not to the lease).
//
// # Sync
//
// Unsynced entries, uses and reversals, are read in journal order
// ([Journal.Pending]) and marked synced once the central acknowledges them
// ([Journal.MarkSynced]). [Journal.Sync] does both: it uploads the pending
// entries in order and in batches (couponkit.Engine.ApplyJournal, or its
// HTTP client in package tillhttp) and marks synced what the central
// acknowledged; an entry sent twice is counted once. A use the till
// decided offline that the central had decided online, its answer lost,
// is then counted on the lease the central counted it on. [Journal.ApplyFeed]
// applies a page of the sync down (couponkit.Engine.TillFeed): the series'
// configurations, and from the events of the till's series each code's
// state, holder and the uses the central counted, skipping the central's
// record of this till's own uses ([WithTill]); it moves the till's feed
// position ([Journal.FeedPosition]) in the same transaction, so a page
// applied twice is applied once.
//
// # Lease calls
//
// [Journal.PutLease] keeps only an answer newer than the one it holds
// (lease.Lease.Version): an old answer arriving late, or a retried call
// answered with its first result, never rolls a lease back. A lease call
// is written down before it is sent ([Journal.BeginCall]) and settled with
// the central's answer ([Journal.SettleCall]); one left unanswered is sent
// again with the same key, after a crash too ([Journal.Calls]), and the
// central answers it with its first result, so that the till learns the
// lease a lost grant made. A return sets its uses aside when it is written
// down ([Journal.ReserveReturn]): the till does not spend them while the
// answer is in doubt, and if the answer never comes they stay unused, to
// be reclaimed by the central when the lease lapses.
//
// # Schema
//
// [Open] creates the tables and brings a file made by an older version to
// the current schema, step by step (PRAGMA user_version counts the steps),
// in one transaction.
package till
