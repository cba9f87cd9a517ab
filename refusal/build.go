package refusal

import (
	"strconv"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// Use is what a redemption (or hold) was decided on: the coupon, the
// decision of limits.EvaluateRedemption and the facts it read.
type Use struct {
	// Coupon is the coupon to be used, and Capacity its uses in all (its
	// code level, or for a common code the customer level; 0: no limit).
	Coupon   coupon.Coupon
	Capacity int
	// HeldUntil is when the last live hold on the coupon lapses; the caller
	// reads it only when holds take the coupon's last uses.
	HeldUntil time.Time

	Decision *limits.Decision
	Rules    *limits.RedemptionRules
	Counts   *limits.RedemptionCounts
	Request  *limits.RedemptionRequest
	// Bill is the bill as given; Currency the series' currency, in which
	// Request.Bill is.
	Bill     series.Money
	Currency string
}

// ForUse returns the refusals of a use, or nil when it is allowed. The
// coupon's own state comes first and, when it alone settles the matter
// (revoked, expired, never issued, used up), stands alone; uses held by other
// checkouts come next, then every rule the decision broke, by code, less
// those the coupon's state already says (code and customer levels, and
// "once per customer", when the coupon is used up or held).
func ForUse(u *Use) []Refusal {
	at := u.Request.At
	switch u.Coupon.StateAt(at) {
	case coupon.Revoked:
		return []Refusal{RevokedAt(u.Coupon.LastStatusChange.In(at.Location()))}
	case coupon.Expired:
		return []Refusal{ExpiredAt(u.Coupon.ExpiresAt.In(at.Location()))}
	case coupon.Available:
		return []Refusal{NeverIssued()}
	case coupon.Redeemed:
		return []Refusal{UsedUpAfter(int64(u.Capacity), int64(u.Coupon.Redemptions))}
	}
	if u.Decision.Violates(limits.NeverIssued) {
		return []Refusal{NeverIssued()}
	}
	var out []Refusal
	full := false
	if u.Coupon.UsedUp(u.Capacity) {
		return []Refusal{UsedUpAfter(int64(u.Capacity), int64(u.Coupon.Redemptions))}
	} else if u.Coupon.UsesLeft(u.Capacity) == 0 {
		out = append(out, HeldUntil(u.HeldUntil.In(at.Location())))
		full = true
	}
	for r := range u.Decision.Reasons() {
		switch r {
		case limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed:
			if full {
				continue
			}
		}
		out = append(out, u.rule(r))
	}
	return out
}

// rule explains one broken redemption rule.
func (u *Use) rule(r limits.Reason) Refusal {
	rs, c, q := u.Rules, u.Counts, u.Request
	switch r {
	case limits.CodeLimit:
		l := int64(rs.CodeLimit())
		return mk(r, CodeLimit, Params{Limit: l, Used: c.Code},
			"This coupon has been used the most times allowed ("+itoa(l)+").")
	case limits.CustomerLimit:
		l := int64(rs.CustomerLimit())
		return mk(r, CustomerLimit, Params{Limit: l, Used: c.CustomerCode},
			"You have used this coupon the most times allowed ("+itoa(l)+").")
	case limits.SeriesLimit:
		return OfferUsedUp(int64(rs.MaxPerSeries), c.Series)
	case limits.RepeatNotAllowed:
		return mk(r, RepeatNotAllowed, Params{Limit: 1, Used: c.CustomerCode},
			"You have already used this coupon; it can be used once per customer.")
	case limits.NotStarted:
		t := rs.Start.In(q.At.Location())
		return mk(r, NotStarted, Params{StartsAt: t}, "This coupon can be used from "+when(t)+".")
	case limits.WrongWeekday, limits.WrongMonthDay, limits.WrongHour:
		return u.calendar(r)
	case limits.RedemptionGap:
		next := c.CustomerLast.In(q.At.Location()).Add(rs.MinGap)
		return mk(r, RedemptionGap, Params{NextAllowedAt: next},
			"Too soon after your last use of this offer: it can be used again from "+when(next)+".")
	case limits.PlaceNotAllowed:
		return mk(r, PlaceNotAllowed, Params{}, "This coupon cannot be used here.")
	case limits.BillBelowMin:
		p := u.billParams()
		p.MinBill = &series.Money{Amount: rs.MinBill.Decimal, Currency: u.Currency}
		return mk(r, BillBelowMin, p, "The bill must be at least "+money(*p.MinBill)+" (it is "+u.billText()+").")
	case limits.BillAboveMax:
		p := u.billParams()
		p.MaxBill = &series.Money{Amount: rs.MaxBill.Decimal, Currency: u.Currency}
		return mk(r, BillAboveMax, p, "The bill must be at most "+money(*p.MaxBill)+" (it is "+u.billText()+").")
	case limits.NotNewCustomer:
		n := &rs.NewCustomers
		p := Params{RegisteredFrom: n.RegisteredFrom, RegisteredTo: n.RegisteredTo, Registered: q.Customer.Registered}
		return mk(r, NotNewCustomer, p, "This offer is for customers who registered "+window(n.RegisteredFrom, n.RegisteredTo, q.At.Location())+".")
	case limits.TooManyPurchases:
		m := rs.NewCustomers.MaxTransactions
		return mk(r, TooManyPurchases, Params{MaxTransactions: m, Transactions: q.Customer.Transactions},
			"This offer is for new customers with at most "+itoa(m)+" earlier purchases (there are "+itoa(q.Customer.Transactions)+").")
	case limits.NotHolder:
		return mk(r, NotHolder, Params{}, "Only the customer this coupon was given to can use it.")
	}
	return mk(r, Rule("reason_"+itoa(int64(r))), Params{}, r.String())
}

// calendar explains a refusal by the weekday, day-of-month or hour windows,
// with the next instant they allow.
func (u *Use) calendar(r limits.Reason) Refusal {
	next := u.Rules.NextOpen(u.Request.At)
	tail := "."
	if !next.IsZero() {
		tail = "; it can be used from " + when(next) + "."
	}
	p := Params{NextAllowedAt: next}
	at := u.Request.At
	switch r {
	case limits.WrongWeekday:
		return mk(r, WrongWeekday, p, "This coupon cannot be used on a "+at.Weekday().String()+tail)
	case limits.WrongMonthDay:
		return mk(r, WrongMonthDay, p, "This coupon cannot be used on day "+strconv.Itoa(at.Day())+" of the month"+tail)
	}
	return mk(r, WrongHour, p, "This coupon cannot be used at this hour"+tail)
}

func (u *Use) billParams() Params {
	b := u.Bill
	p := Params{Bill: &b}
	if b.Currency != u.Currency {
		p.ConvertedBill = &series.Money{Amount: u.Request.Bill, Currency: u.Currency}
	}
	return p
}

func (u *Use) billText() string {
	if u.Bill.Currency == u.Currency {
		return money(u.Bill)
	}
	return money(u.Bill) + ", " + money(series.Money{Amount: u.Request.Bill, Currency: u.Currency}) + " after conversion"
}

// Issue is what an issue was decided on: the decision of
// limits.EvaluateIssuance and the facts it read.
type Issue struct {
	Decision *limits.Decision
	Rules    *limits.IssuanceRules
	Counts   *limits.IssuanceCounts
	// At is the time of the request, in the series' time zone.
	At time.Time
	// ExcludedUntil is when the customer's exclusion by another series
	// ends, when the decision excludes them; zero if unknown.
	ExcludedUntil time.Time
}

// ForIssue returns the refusals of an issue, one per broken rule, by code,
// or nil when it is allowed.
func ForIssue(in *Issue) []Refusal {
	var out []Refusal
	for r := range in.Decision.Reasons() {
		out = append(out, in.rule(r))
	}
	return out
}

func (in *Issue) rule(r limits.Reason) Refusal {
	rs, c := in.Rules, in.Counts
	switch r {
	case limits.CustomerIssueLimit:
		l := int64(rs.CustomerLimit())
		return mk(r, CustomerIssues, Params{Limit: l, Used: c.Customer},
			"This customer has received the most coupons of this offer allowed ("+itoa(l)+").")
	case limits.IssueGap:
		next := c.CustomerLast.In(in.At.Location()).Add(rs.MinGap)
		return mk(r, IssueGap, Params{NextAllowedAt: next},
			"Too soon after this customer's last coupon of this offer: another can be issued from "+when(next)+".")
	case limits.SeriesIssueLimit:
		l := int64(rs.MaxTotal)
		return mk(r, SeriesIssues, Params{Limit: l, Used: c.Series}, "All "+itoa(l)+" coupons of this offer have been given out.")
	case limits.CommonCodeIssued:
		return mk(r, CommonCodeIssued, Params{Limit: 1, Used: c.Customer}, "This customer already has this offer's code.")
	case limits.NotInAudience:
		return mk(r, NotInAudience, Params{}, "This offer is only for selected customers.")
	case limits.ExcludedByHistory:
		p, tail := Params{NextAllowedAt: in.ExcludedUntil}, "."
		if !in.ExcludedUntil.IsZero() {
			tail = "; it can be issued from " + when(in.ExcludedUntil) + "."
		}
		return mk(r, Excluded, p, "This customer recently received a coupon of an offer that excludes this one"+tail)
	}
	return mk(r, Rule("reason_"+itoa(int64(r))), Params{}, r.String())
}

// mk makes the refusal of a rule of package limits.
func mk(r limits.Reason, rule Rule, p Params, msg string) Refusal {
	return Refusal{Code: r.Code(), Rule: rule, Message: msg, Params: p}
}

// RevokedAt is the refusal of a coupon revoked at t.
func RevokedAt(t time.Time) Refusal {
	return Refusal{Code: errcode.Revoked, Rule: Revoked, Params: Params{RevokedAt: t},
		Message: "This coupon has been withdrawn and can no longer be used."}
}

// ExpiredAt is the refusal of a coupon that expired at t.
func ExpiredAt(t time.Time) Refusal {
	return Refusal{Code: errcode.Expired, Rule: Expired, Params: Params{ExpiresAt: t},
		Message: "This coupon expired at " + when(t) + "."}
}

// NeverIssued is the refusal of a coupon not issued to anyone yet.
func NeverIssued() Refusal {
	return Refusal{Code: errcode.NotIssued, Rule: NotIssued,
		Message: "This coupon has not been given to anyone yet, so it cannot be used."}
}

// UsedUpAfter is the refusal of a coupon whose limit of uses is used.
func UsedUpAfter(limit, used int64) Refusal {
	msg := "This coupon has already been used."
	if limit > 1 {
		msg = "This coupon has already been used the most times allowed (" + itoa(used) + " of " + itoa(limit) + ")."
	}
	return Refusal{Code: errcode.Redeemed, Rule: UsedUp, Params: Params{Limit: limit, Used: used}, Message: msg}
}

// OfferUsedUp is the refusal of a use of a series whose use limit is
// reached: limit uses allowed, used counted.
func OfferUsedUp(limit, used int64) Refusal {
	return mk(limits.SeriesLimit, SeriesLimit, Params{Limit: limit, Used: used},
		"This offer has been used the most times allowed ("+itoa(limit)+").")
}

// HeldUntil is the refusal of a coupon whose remaining uses are held by
// other checkouts, the last hold lapsing at t (zero: unknown).
func HeldUntil(t time.Time) Refusal {
	msg := "This coupon is being used at another checkout."
	if !t.IsZero() {
		msg = "This coupon is being used at another checkout until " + when(t) + "."
	}
	return Refusal{Code: errcode.HeldElsewhere, Rule: HeldElsewhere, Params: Params{HeldUntil: t}, Message: msg}
}

// Closed is the refusal of work in a series that is not open at at (in the
// series' time zone), by series.Series.ClosedAt: ended by its status or its
// end, paused, or not started. It reports false when the series is open.
func Closed(s *series.Series, at time.Time) (Refusal, bool) {
	loc := at.Location()
	switch s.ClosedAt(at) {
	case series.ClosedEnded:
		return Refusal{Code: errcode.SeriesExpired, Rule: SeriesEnded, Message: "This offer has ended."}, true
	case series.ClosedPastEnd:
		t := s.End.In(loc)
		return Refusal{Code: errcode.SeriesExpired, Rule: SeriesEnded, Params: Params{EndedAt: t},
			Message: "This offer ended at " + when(t) + "."}, true
	case series.ClosedPaused:
		return Refusal{Code: errcode.SeriesPaused, Rule: SeriesPaused, Message: "This offer is paused."}, true
	case series.ClosedNotStarted:
		t := s.Start.In(loc)
		return Refusal{Code: errcode.SeriesPaused, Rule: SeriesNotStarted, Params: Params{StartsAt: t},
			Message: "This offer starts at " + when(t) + "."}, true
	}
	return Refusal{}, false
}

// when formats an instant for a person, in its own time zone.
func when(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

// money formats an amount with its currency's decimal places, or more when
// the amount has more.
func money(m series.Money) string {
	places := int32(series.MinorUnits(m.Currency))
	if e := -m.Amount.Exponent(); e > places {
		places = e
	}
	return m.Amount.StringFixed(places) + " " + m.Currency
}

// window describes a registration window.
func window(from, to time.Time, loc *time.Location) string {
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	switch {
	case from.IsZero():
		return "on or before " + day(to)
	case to.IsZero():
		return "on or after " + day(from)
	}
	return "between " + day(from) + " and " + day(to)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
