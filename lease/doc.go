// Package lease is the pure model of a lease: a slice of a series' limits
// that the central couponkit grants to one till, so that the till can keep
// redeeming while the network is down without any limit being passed.
//
// It holds the records ([Lease], [Op]) and the rules of their transitions
// ([New], [Lease.Renew], [Lease.TopUp], [Lease.Return], [Lease.Reclaim],
// [Lease.Use]); it reads and writes nothing. The engine reads a lease from
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
// # Money
//
// A lease counts its parts as [Slice] values. Today a slice is a number of
// uses; when series get money budgets, a slice gains an amount beside its
// uses, and every rule here (granting, topping up, returning, reclaiming,
// the invariants) applies to both parts alike.
package lease
