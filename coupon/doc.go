// Package coupon is couponkit's coupon state machine: the records of one
// coupon, of its redemptions and holds, and of its history, and the pure
// functions that move a coupon from one state to another.
//
// The package does no storage, no I/O and reads no clock: every time is a
// parameter. Every transition takes its inputs by value and returns the new
// values together with the events the change emits; the caller stores both in
// one atomic step. On error a transition returns an *errcode.Error and its
// inputs unchanged, so
//
//	c, ev, err = coupon.Issue(c, "cust-1", now, time.Time{}, "op")
//
// leaves c as it was when err is not nil. Every successful transition adds one
// to the Version of each coupon it returns, and sets LastStatusChange when the
// coupon's State changes (or, for Reverse, when a redemption is reversed).
//
// # States
//
//	Available --Issue--> Issued --Redeem/ConfirmHold (last use)--> Redeemed
//	    |                  ^  |                                       |
//	    |                  |  +------------- Reverse ----------------+
//	    |                  +-- Transfer (new holder)
//	    +--- time passes ExpiresAt (Available or Issued) ---> Expired
//	Available, Issued, Expired --Revoke--> Revoked (terminal)
//
// Expired is derived from the clock: [Coupon.StateAt] reports an Available or
// Issued coupon whose ExpiresAt has passed as Expired whatever State says;
// [Expire] only records what time already decided.
//
// Whether a customer may issue or redeem at all (holder checks, per-customer
// and per-series limits, redemption windows, stores, bill amounts) is decided
// elsewhere; this package enforces only the state machine and the coupon's
// own capacity (the maximum number of uses of its code).
//
// # Rules on the edges of the state machine
//
//   - Reversal and expiry. A Revoked coupon ("expired" by an operator, in
//     some platforms' words) cannot be redeemed or reversed: it never has a
//     redemption (Revoke refuses a coupon with one, error 405), so it has
//     nothing to reverse. A coupon that merely
//     passed its expiry date may have its redemptions reversed (the refund of
//     a past bill must be recordable); the reversal does not make it usable
//     again: it stays Expired.
//   - A coupon replaced by [Reissue] (ReissuedTo set) refuses Reverse with
//     AlreadyReissued (1109): the customer already has the replacement, and
//     reinstating the old code would hand out the reward twice.
//   - Revoked is terminal: every transition refuses a Revoked coupon except
//     [Reissue], which replaces it (a barred coupon may be reissued) and
//     leaves its State Revoked. Revoking a Revoked coupon reports
//     CouponNotFound (682), as the revoke API reports an already revoked code.
//   - A coupon becomes Redeemed when its confirmed redemptions reach its
//     capacity ("a Redeem that uses the coupon's last allowed redemption"). A
//     pending hold reserves a use (no redemption or hold is accepted while
//     Redemptions+Holds has reached capacity, error LimitReached) but does not
//     by itself make the coupon Redeemed.
//   - A hold does not outlive the coupon: confirming a hold on a coupon that
//     has expired meanwhile is refused (Expired); the hold must be released.
//   - [Issue] and [Reissue] never extend a coupon's life: the new ExpiresAt is
//     the earlier of the coupon's own (set at upload) and the one asked for.
//   - The history of a redemption (and of its reversal) belongs to the holder:
//     the redeem event is on the event history of the coupon's assignee;
//     when someone else redeemed, the event names them as Counterparty.
package coupon
