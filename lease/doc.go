// Package lease is the pure model of a lease: a slice of a series' limits
// that the central couponkit grants to one till, so that the till can keep
// redeeming while the network is down without any limit being passed.
//
// It holds the records ([Lease], [Op], [Entry]) and the rules of their
// transitions ([New], [Lease.Renew], [Lease.TopUp], [Lease.Return],
// [Lease.Reclaim], [Lease.Use], [Lease.Conflict]); it reads and writes
// nothing. The engine reads a lease from
// its store, decides with this package and writes the result in one
// store.Change together with the series' counter bump.
//
// # Invariants
//
// A lease is escrow. The central counts every granted use as used the
// moment it grants it, by a guarded bump of the series' use counter in
// the same atomic change that records the grant, so the series' limit
// holds whatever tills do while they are offline:
//
//	series uses counted = uses made centrally + Σ over leases (Granted - Returned - Reclaimed)
//
// A use a till makes within its lease and later reports to the central is
// counted against the lease (Used grows), never again against the series.
// For every lease, at every moment:
//
//	Used + Returned + Reclaimed + Left = Granted, with every part >= 0
//
// and once the lease is Closed, Left is zero: used + returned + reclaimed
// equals what was granted. [Lease.Check] states these rules; every
// transition keeps them.
//
// A till's use may be given back (a reversal in its journal, or an
// operator's reversal of its redemption). The use goes back to the series
// and to its code and customer levels, never to the lease: Used counts the
// uses the till reported, reversed or not. So, with reversals and the uses
// a till reported after its lease could no longer take them (counted on
// the series, [OnSeries]), the series' use counter is, at every moment:
//
//	series uses counted = unreversed uses counted on the series
//	                    + Σ over leases (Granted - Returned - Reclaimed)
//	                    - reversed uses counted on leases
//
// where a use is a redemption or a till's conflicted use (which has none),
// and a use of a till counts "on a lease" when its [Entry] says [OnLease].
//
// # Exposure
//
// A till offline cannot verify a coupon's state (used at another till,
// revoked meanwhile); the central records such uses as conflicts. Each
// lease carries an Allowance of such unverified uses, set by the
// operator's policy when uses are granted ([Lease.Allow];
// [DefaultAllowance] without one), and counts the conflicted uses recorded
// on it ([Lease.Conflict], [Lease.UseConflicted]). A use past the
// allowance is recorded all the same, since the till gave the discount,
// and flagged errcode.AllowanceExceeded.
//
// # Sizing a lease
//
// A till chooses how many uses to ask for with a [SizePolicy];
// [DefaultSize] asks for its expected uses over the lease with headroom,
// within a fair share of what the series has left.
//
// # Time and clock skew
//
// A lease runs from Start to End, on the central's clock. Tills' clocks
// drift, so both sides keep a margin, the clock-skew allowance: a till
// stops using a lease that long before End by its own clock
// ([Lease.UsableAt]), and the central reclaims what is left only that long
// after End by its clock ([Lease.LapsedAt]). A till whose clock is off by
// less than the allowance therefore never uses a lease the central has
// reclaimed. Uses reported after a reclaim (a till that stayed offline
// past the reclaim) are no longer covered by the escrow: the central
// counts them against the series again and flags those it cannot fit,
// so operators size the allowance to cover their longest expected outage.
//
// # Exactly once
//
// Every call a till makes about its leases (grant, renew, top up, return)
// carries an idempotency key, unique per till. The central stores the
// call as an [Op] with the lease as the call left it; a retry with the
// same key and the same parameters is answered with that first result and
// changes nothing, and the same key with other parameters is refused with
// an error matching errcode.ErrKeyMismatch ([Op.Same]). Reclaiming is the
// central's own act: it is guarded by the lease's version and status, so
// it happens at most once.
//
// Every use of a till is recorded once per (till, key) as an [Entry],
// whether the central decided it online or the till uploaded it from its
// journal, whichever comes first: the other is answered with that record
// when it is the same sale ([Entry.SameUse]; for a use decided online,
// [Entry.SameSale], since the till may have journaled it on another lease
// at another time).
//
// # Money
//
// A lease of a series with a budget (series.Budget.Total) holds a slice of
// the budget beside its uses: [Slice.Money], in minor units of the
// series' currency (the lease's Currency). It is escrow like the uses:
// the central counts the money granted against the series' budget counter
// (limits.SeriesBudget) at once, under the same guard as a redemption's
// (counted + granted <= cap), so
//
//	series budget counted = money of the series' uses counted on the series
//	                      + Σ over leases (Granted - Returned - Reclaimed).Money
//	                      - money of reversed uses counted on leases
//
// never passes the cap whatever the tills do offline. A till's offline use
// spends its discount from the lease's money left (Use of one use and the
// discount's money), refusing the use, or reducing its discount when the
// series says so (series.BudgetReduce), when the money left cannot cover
// it. Returning, reclaiming and the invariants apply to the money as to
// the uses; a reversal gives its money back to the series' budget, never
// to the lease.
//
// A budget per customer (series.Budget.PerCustomer) cannot be kept
// offline: a customer may buy at several tills. A till therefore refuses
// offline uses of a series with one, and the central counts such a use,
// if one reaches it, against the customer's budget under its cap, and
// records it as a conflict when the cap cannot take it.
package lease
