package limits

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Reason is one rule a request breaks. Its stable numeric code is 1200 plus
// its value (see Code).
type Reason uint8

// The reasons. Values are stable: new reasons are added at the end of their
// group and none is renumbered.
const (
	// Redemption.
	CodeLimit        Reason = 1  // 1201: the code's redemptions reached the code level
	CustomerLimit    Reason = 2  // 1202: this customer's redemptions of the code reached the customer level
	SeriesLimit      Reason = 3  // 1203: the series' redemptions reached the series level
	RepeatNotAllowed Reason = 4  // 1204: the customer already redeemed this code and may not repeat
	NotStarted       Reason = 5  // 1205: before the redemption start time
	WrongWeekday     Reason = 6  // 1206: not on an allowed day of the week
	WrongMonthDay    Reason = 7  // 1207: not on an allowed day of the month
	WrongHour        Reason = 8  // 1208: not in an allowed hour of the day
	RedemptionGap    Reason = 9  // 1209: too soon after this customer's last redemption in the series
	PlaceNotAllowed  Reason = 10 // 1210: not at an allowed till, store, zone or concept
	BillBelowMin     Reason = 11 // 1211: the bill is below the minimum
	BillAboveMax     Reason = 12 // 1212: the bill is above the maximum
	NotNewCustomer   Reason = 13 // 1213: registered outside the new-customer window
	TooManyPurchases Reason = 14 // 1214: more earlier transactions than a new customer may have
	NotHolder        Reason = 15 // 1215: the redeemer does not hold the coupon and only the holder may redeem
	NeverIssued      Reason = 16 // 1216: the coupon was never issued to anyone

	// Issuance.
	CustomerIssueLimit Reason = 21 // 1221: the customer holds the most coupons of the series allowed
	IssueGap           Reason = 22 // 1222: too soon after the last issue to this customer
	SeriesIssueLimit   Reason = 23 // 1223: the series issued the most coupons allowed
	CommonCodeIssued   Reason = 24 // 1224: the common code was already issued to this customer
	NotInAudience      Reason = 25 // 1225: the series issues to listed customers only
	ExcludedByHistory  Reason = 26 // 1226: the customer had a coupon of an excluding series recently
)

var reasonText = [...]string{
	CodeLimit:          "code redemption limit reached",
	CustomerLimit:      "customer redemption limit reached",
	SeriesLimit:        "series redemption limit reached",
	RepeatNotAllowed:   "customer already redeemed this code",
	NotStarted:         "redemption has not started",
	WrongWeekday:       "not redeemable on this day of the week",
	WrongMonthDay:      "not redeemable on this day of the month",
	WrongHour:          "not redeemable at this hour",
	RedemptionGap:      "too soon after the customer's last redemption",
	PlaceNotAllowed:    "not redeemable at this place",
	BillBelowMin:       "bill below the minimum",
	BillAboveMax:       "bill above the maximum",
	NotNewCustomer:     "customer registered outside the new-customer window",
	TooManyPurchases:   "customer has too many earlier transactions",
	NotHolder:          "only the holder may redeem",
	NeverIssued:        "coupon was never issued",
	CustomerIssueLimit: "customer issue limit reached",
	IssueGap:           "too soon after the customer's last issue",
	SeriesIssueLimit:   "series issue limit reached",
	CommonCodeIssued:   "common code already issued to this customer",
	NotInAudience:      "customer is not in the series audience",
	ExcludedByHistory:  "customer recently had a coupon of an excluding series",
}

// Code is the reason's stable numeric code, 1200 plus its value.
func (r Reason) Code() errcode.Code { return errcode.LimitReached + errcode.Code(r) }

// String describes the reason for a person.
func (r Reason) String() string {
	if int(r) < len(reasonText) && reasonText[r] != "" {
		return reasonText[r]
	}
	return fmt.Sprintf("reason %d", uint8(r))
}

// Counter names a counter that an operation bumps. Stores keep one value of
// each counter per scope: per coupon, per coupon and customer, per series, or
// per series and customer.
type Counter uint8

// The counters.
const (
	// CodeUses counts a coupon's unreversed redemptions and live holds, by
	// every customer. Scope: coupon.
	CodeUses Counter = iota + 1
	// CustomerCodeUses counts them for one customer. Scope: coupon and customer.
	CustomerCodeUses
	// SeriesUses counts them across the series. Scope: series.
	SeriesUses
	// CustomerSeriesUses counts one customer's across the series and keeps
	// the time of the last. Scope: series and customer.
	CustomerSeriesUses
	// SeriesIssued counts the coupons issued from the series. Scope: series.
	SeriesIssued
	// CustomerIssued counts the coupons of the series issued to one customer
	// and keeps the time of the last. Scope: series and customer.
	CustomerIssued
	// ReminderSent counts the times one expiry reminder of the series came
	// due for one coupon and was recorded on the event feed: at most once.
	// Scope: series, and in the key's Code the coupon id, a NUL byte and
	// the reminder's key.
	ReminderSent
	// SeriesBudget counts the money the series' unreversed redemptions
	// and live holds gave away, in minor units of the series' currency
	// (series.MinorUnits), against its budget. Scope: series.
	SeriesBudget
	// CustomerBudget counts it for one customer. Scope: series and
	// customer.
	CustomerBudget
)

var counterNames = [...]string{
	CodeUses: "code uses", CustomerCodeUses: "customer code uses", SeriesUses: "series uses",
	CustomerSeriesUses: "customer series uses", SeriesIssued: "series issued", CustomerIssued: "customer issued",
	ReminderSent: "reminder sent", SeriesBudget: "series budget", CustomerBudget: "customer budget",
}

// String names the counter.
func (c Counter) String() string {
	if int(c) < len(counterNames) && counterNames[c] != "" {
		return counterNames[c]
	}
	return fmt.Sprintf("Counter(%d)", uint8(c))
}

// Guard is what a store must check, atomically with the change, before it
// bumps Counter by one: the counter is below Limit (unless Limit is
// NoLimit), and at least MinGap has passed since the counter's last bump
// (unless MinGap is zero or the counter was never bumped).
type Guard struct {
	Counter Counter       `json:"counter"`
	Limit   Limit         `json:"limit"`
	MinGap  time.Duration `json:"min_gap"`
}

// Check reports whether a counter standing at n, last bumped at last (zero:
// never), may be bumped at now.
func (g Guard) Check(n int64, last, now time.Time) bool {
	return g.Limit.Allows(n) && (g.MinGap <= 0 || last.IsZero() || now.Sub(last) >= g.MinGap)
}

const maxGuards = 4

// Decision is the outcome of an evaluation: the rules broken, if any, and
// the guards the change must carry. The zero Decision allows and guards
// nothing.
type Decision struct {
	violated uint64
	guards   [maxGuards]Guard
	nGuards  uint8
}

// Allowed reports whether no rule was broken.
func (d *Decision) Allowed() bool { return d.violated == 0 }

// Violates reports whether the decision lists r.
func (d *Decision) Violates(r Reason) bool { return r < 64 && d.violated&(1<<r) != 0 }

// Deny adds r to the decision's reasons.
func (d *Decision) Deny(r Reason) { d.violated |= 1 << (r & 63) }

// Reasons yields every broken rule, in ascending order of code.
func (d *Decision) Reasons() iter.Seq[Reason] {
	v := d.violated
	return func(yield func(Reason) bool) {
		for w := v; w != 0; w &= w - 1 {
			if !yield(Reason(bits.TrailingZeros64(w))) {
				return
			}
		}
	}
}

// Count is the number of broken rules.
func (d *Decision) Count() int { return bits.OnesCount64(d.violated) }

// Guards returns the guards, one for each counter the operation bumps. The
// slice aliases d.
func (d *Decision) Guards() []Guard { return d.guards[:d.nGuards] }

func (d *Decision) guard(c Counter, l Limit, gap time.Duration) {
	d.guards[d.nGuards] = Guard{Counter: c, Limit: l, MinGap: gap}
	d.nGuards++
}

// Err returns nil when the decision allows, and otherwise an error that
// matches errcode.ErrLimitReached and, under errors.Is, an *errcode.Error
// for each reason's code.
func (d *Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	var msgs []string
	var errs []error
	for r := range d.Reasons() {
		msgs = append(msgs, r.String())
		errs = append(errs, errcode.New(r.Code(), "", r.String()))
	}
	return &errcode.Error{Code: errcode.LimitReached, Message: strings.Join(msgs, "; "), Err: errors.Join(errs...)}
}

// String lists the reasons, or "allowed".
func (d Decision) String() string {
	if d.Allowed() {
		return "allowed"
	}
	var b strings.Builder
	for r := range d.Reasons() {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d %s", r.Code(), r)
	}
	return b.String()
}
