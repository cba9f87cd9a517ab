package limits

import (
	"time"

	"github.com/shopspring/decimal"
)

// RedemptionCounts is the snapshot of counters a redemption decision reads.
// Uses count unreversed redemptions plus live holds.
type RedemptionCounts struct {
	Code         int64     `json:"code"`                   // uses of this coupon by every customer
	CustomerCode int64     `json:"customer_code"`          // uses of this coupon by the redeeming customer
	Series       int64     `json:"series"`                 // uses across the series
	CustomerLast time.Time `json:"customer_last,omitzero"` // the redeeming customer's last use in the series; zero if none
}

// CustomerFacts are what the new-customer rule reads about the redeemer.
type CustomerFacts struct {
	Registered   time.Time `json:"registered,omitzero"` // zero when unknown; an unknown date fails a registration window
	Transactions int64     `json:"transactions"`        // transactions before this one
}

// RedemptionRequest is one attempt to redeem a coupon.
type RedemptionRequest struct {
	// At is the time of the request, in the series' time zone.
	At time.Time `json:"at"`
	// Place is where it is made.
	Place Place `json:"place"`
	// Bill is the bill amount in the series' currency.
	Bill decimal.Decimal `json:"bill"`
	// Customer describes the redeemer.
	Customer CustomerFacts `json:"customer"`
	// Holder reports whether the redeemer holds the coupon.
	Holder bool `json:"holder"`
	// Issued reports whether the coupon was ever issued to a customer.
	Issued bool `json:"issued"`
}

// EvaluateRedemption decides whether q may redeem under r given the counters
// c. The decision lists every broken rule and carries the guards for
// CodeUses, CustomerCodeUses, SeriesUses and CustomerSeriesUses. It does not
// allocate.
func EvaluateRedemption(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) Decision {
	var d Decision
	if !q.Issued {
		d.Deny(NeverIssued)
	}
	if !q.Holder && !r.AnyoneMayRedeem {
		d.Deny(NotHolder)
	}

	customer := r.CustomerLimit()
	code := r.CodeLimit()
	if !code.Allows(c.Code) {
		d.Deny(CodeLimit)
	}
	if !r.Repeat && c.CustomerCode > 0 {
		d.Deny(RepeatNotAllowed)
	} else if !customer.Allows(c.CustomerCode) {
		d.Deny(CustomerLimit)
	}
	if !r.MaxPerSeries.Allows(c.Series) {
		d.Deny(SeriesLimit)
	}
	gap := r.MinGap
	if gap > 0 && !c.CustomerLast.IsZero() && q.At.Sub(c.CustomerLast) < gap {
		d.Deny(RedemptionGap)
	}
	d.guard(CodeUses, code, 0)
	d.guard(CustomerCodeUses, customer, 0)
	d.guard(SeriesUses, r.MaxPerSeries, 0)
	d.guard(CustomerSeriesUses, NoLimit, gap)

	at := q.At
	if !r.Start.IsZero() && at.Before(r.Start) {
		d.Deny(NotStarted)
	}
	if r.Weekdays != 0 || r.MonthDays != 0 || len(r.Hours) > 0 {
		_, _, day := at.Date()
		if !r.Weekdays.Has(at.Weekday()) {
			d.Deny(WrongWeekday)
		}
		if !r.MonthDays.Has(day) {
			d.Deny(WrongMonthDay)
		}
		if len(r.Hours) > 0 && !inHours(r.Hours, at.Hour()) {
			d.Deny(WrongHour)
		}
	}
	if !r.Places.Allows(&q.Place) {
		d.Deny(PlaceNotAllowed)
	}
	if r.MinBill.Valid && cmpMoney(q.Bill, r.MinBill.Decimal) < 0 {
		d.Deny(BillBelowMin)
	}
	if r.MaxBill.Valid && cmpMoney(q.Bill, r.MaxBill.Decimal) > 0 {
		d.Deny(BillAboveMax)
	}
	n := &r.NewCustomers
	reg := q.Customer.Registered
	if !n.RegisteredFrom.IsZero() && (reg.IsZero() || reg.Before(n.RegisteredFrom)) {
		d.Deny(NotNewCustomer)
	}
	if !n.RegisteredTo.IsZero() && (reg.IsZero() || reg.After(n.RegisteredTo)) {
		d.Deny(NotNewCustomer)
	}
	if n.LimitTransactions && q.Customer.Transactions > n.MaxTransactions {
		d.Deny(TooManyPurchases)
	}
	return d
}

func inHours(hs []HourRange, h int) bool {
	for _, w := range hs {
		if h >= w.From && h < w.To {
			return true
		}
	}
	return false
}

// IssuanceCounts is the snapshot of counters an issuance decision reads.
type IssuanceCounts struct {
	Series       int64     `json:"series"`                 // coupons issued from the series
	Customer     int64     `json:"customer"`               // coupons of the series issued to this customer
	CustomerLast time.Time `json:"customer_last,omitzero"` // the last issue to this customer; zero if none
}

// IssuanceRequest is one attempt to issue a coupon of the series to a
// customer.
type IssuanceRequest struct {
	At time.Time `json:"at"`
	// InAudience reports whether the customer is on the series' audience
	// list; it matters only with AudienceOnly.
	InAudience bool `json:"in_audience"`
	// Excluded reports whether the customer had a coupon of an excluding
	// series within the exclusion window (the caller looks this up).
	Excluded bool `json:"excluded"`
}

// EvaluateIssuance decides whether q may be issued a coupon under r given
// the counters c. The decision lists every broken rule and carries the
// guards for SeriesIssued and CustomerIssued. It does not allocate.
func EvaluateIssuance(r *IssuanceRules, c *IssuanceCounts, q *IssuanceRequest) Decision {
	var d Decision
	customer := r.CustomerLimit()
	if !customer.Allows(c.Customer) {
		if r.OncePerCustomer {
			d.Deny(CommonCodeIssued)
		} else {
			d.Deny(CustomerIssueLimit)
		}
	}
	if r.MinGap > 0 && !c.CustomerLast.IsZero() && q.At.Sub(c.CustomerLast) < r.MinGap {
		d.Deny(IssueGap)
	}
	if !r.MaxTotal.Allows(c.Series) {
		d.Deny(SeriesIssueLimit)
	}
	if r.AudienceOnly && !q.InAudience {
		d.Deny(NotInAudience)
	}
	if q.Excluded {
		d.Deny(ExcludedByHistory)
	}
	d.guard(SeriesIssued, r.MaxTotal, 0)
	d.guard(CustomerIssued, customer, r.MinGap)
	return d
}
