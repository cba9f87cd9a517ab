// Package till is the till's side of offline redemption: a till keeps the
// leases the central granted it (package lease) and a durable journal of
// the uses it made offline, in its own SQL database (SQLite), so that it
// can keep selling while the network is down and report every use to the
// central afterwards, exactly once.
//
// [Journal] is that local store. [Journal.Redeem] makes one offline use
// within a lease: in one transaction it takes a use from a lease of the
// series that is usable by the till's clock (open, something left, and
// more than the clock-skew allowance before its End), writes the journal
// entry (the sale's idempotency key, the sale time, the lease) and runs
// the caller's hook on the same *sql.Tx, so that the till's own sale
// record is committed with the use or not at all. A use is never made
// twice for one key: a repeat with the same parameters returns the first
// entry, one with other parameters is refused with an error matching
// errcode.ErrKeyMismatch.
//
// Before it takes a use, Redeem decides it ([Decide]) under the series'
// configuration the till last synced ([Journal.PutSeries]; fetched with
// tillhttp.Client.Series): the series must be open at the sale time, and
// the redemption windows, the bill bounds, the code and customer levels,
// "once per customer", the gap between one customer's uses and the series
// level must allow it, the levels counted over the till's own journal, so
// that one till never lets a code pass its levels by its own uses. A
// refused use writes nothing and returns the *refusal.Error the central
// would give for that rule. Rules that need what the till does not hold
// offline (the place, the customer's registration and purchases, the
// coupon's state) are the central's.
//
// Unsynced entries are read in journal order ([Journal.Pending]) for the
// central to apply, and marked synced once it acknowledges them
// ([Journal.MarkSynced]). [Journal.Sync] does both: it uploads the
// pending entries in order and in batches (couponkit.Engine.ApplyJournal,
// or its HTTP client in package tillhttp) and marks synced what the
// central acknowledged; an entry sent twice is counted once.
//
// Still to come on this foundation: the coupon states and deny list
// synced from the feed; reversals in the journal.
package till
