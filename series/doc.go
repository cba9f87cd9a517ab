// Package series defines a coupon series: the configuration an operator
// saves for an offer, and the pure computations that follow from it.
//
// A [Series] says where its codes come from ([Source]), who may be issued a
// coupon and how often ([Issuance], built on limits.IssuanceRules), who may
// redeem and when (limits.RedemptionRules), when an issued coupon expires
// ([Expiry]), what discount it gives ([Discount]) and which expiry reminders
// go out ([Reminder]).
//
// [Series.Validate] enforces every rule of the configuration, including which
// limits apply to which kind of series (a common code has no code level, for
// one), and reports every offending field at once, each as an
// *errcode.Error with code errcode.InvalidConfig and a dotted field path such
// as "Redemption.MaxPerCode". A store saves only a series that validates.
//
// A series whose codes couponkit makes (generated unique or randomized
// common) makes no more of them than its fill ratio, [Source.FillLimit],
// allows: by default 1 code in 10,000 of the code space
// ([DefaultMaxFill]) for generated unique codes, so a code guessed at random
// is a live one with odds of at most 1 in 10,000, and the whole space for
// randomized common codes. See [Source] for what the default allows of each
// code shape.
//
// [Series.ExpiresAt] computes a coupon's expiry at issue, in the series' time
// zone. The end of a day ("EOD") is the exclusive instant the next local day
// begins: a coupon whose expiry is T is expired when now >= T.
//
// [Reminder.DueAt] computes when an expiry reminder goes out: a number of
// days before the coupon's last valid day, at a local time of day, in the
// series' time zone, whatever clock change lies between.
//
// [Discount.Apply] computes a discount on a bill, converting between the
// series' currency and the bill's with caller-supplied [Rates].
//
// The package is pure: it reads no clock and does no I/O apart from loading
// time zones with time.LoadLocation.
package series
