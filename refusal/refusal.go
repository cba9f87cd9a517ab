// Package refusal is couponkit's one model of a refused request: an ordered
// list of refusals, each naming once one fact that stops the request, with
// its stable code, the rule, a message a cashier or shopper can read, and the
// parameters that explain it (the minimum bill and the bill given, the
// expiry instant, the next instant a gap or calendar window allows, the uses
// counted against a limit, the time another checkout's hold ends).
//
// Redeem, Hold, Validate, Issue and the bulk reports all refuse with an
// *Error holding such a list; get it with errors.As:
//
//	var refused *refusal.Error
//	if errors.As(err, &refused) {
//		for _, r := range refused.Refusals {
//			fmt.Println(r.Code, r.Message)
//		}
//	}
//
// The list is ordered (the coupon's own state first, then the offer's, then
// the rules by code) and says each fact once: a coupon that is used up is
// refused as used up, not also as "code limit reached" and "already
// redeemed by you". Building a list is pure: it reads the decision of
// package limits, the coupon and the facts the decision was made on.
package refusal

import (
	"errors"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Refusal is one fact that stops a request.
type Refusal struct {
	// Code is the stable numeric code (see package errcode).
	Code errcode.Code `json:"code"`
	// Rule names the rule, a stable snake_case word such as "min_bill".
	Rule Rule `json:"rule"`
	// Message says what happened in plain language, for a cashier or a
	// shopper, with the figures that explain it.
	Message string `json:"message"`
	// Params are the figures of the message, typed.
	Params Params `json:"params,omitzero"`
}

// Params are the figures that explain a refusal. Only those that the rule
// concerns are set; times are in the series' time zone.
type Params struct {
	// Limit is the limit that was reached (uses, issues, coupons).
	Limit int64 `json:"limit,omitempty"`
	// Used is how much of Limit is taken, so Limit-Used is what is left.
	Used int64 `json:"used,omitempty"`
	// Bill is the bill as given; ConvertedBill the same bill in the series'
	// currency, when that differs.
	Bill          *series.Money `json:"bill,omitempty"`
	ConvertedBill *series.Money `json:"converted_bill,omitempty"`
	// MinBill and MaxBill are the bounds of the bill, in the series'
	// currency.
	MinBill *series.Money `json:"min_bill,omitempty"`
	MaxBill *series.Money `json:"max_bill,omitempty"`
	// ExpiresAt is when the coupon expired (the exclusive end of its last
	// day).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the coupon was revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// StartsAt is when the offer or its redemption starts.
	StartsAt time.Time `json:"starts_at,omitzero"`
	// EndedAt is when the offer ended, when it ended at a set time.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// NextAllowedAt is the next instant the gap, the calendar or the
	// exclusion window allows; zero when none comes.
	NextAllowedAt time.Time `json:"next_allowed_at,omitzero"`
	// HeldUntil is when the hold of another checkout lapses at the latest.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// RegisteredFrom and RegisteredTo are the new-customer window, and
	// Registered the customer's registration (zero: unknown).
	RegisteredFrom time.Time `json:"registered_from,omitzero"`
	RegisteredTo   time.Time `json:"registered_to,omitzero"`
	Registered     time.Time `json:"registered,omitzero"`
	// MaxTransactions and Transactions are the most earlier purchases a new
	// customer may have and the customer's count.
	MaxTransactions int64 `json:"max_transactions,omitempty"`
	Transactions    int64 `json:"transactions,omitempty"`
	// MinQuantity and Quantity are the fewest eligible units the series
	// asks and the basket's eligible units.
	MinQuantity int64 `json:"min_quantity,omitempty"`
	Quantity    int64 `json:"quantity,omitempty"`
	// MinSubtotal and Subtotal are the least the eligible lines must come
	// to and what they come to, in the series' currency.
	MinSubtotal *series.Money `json:"min_subtotal,omitempty"`
	Subtotal    *series.Money `json:"subtotal,omitempty"`
	// With is the code of the coupon on the same bill that a coupon does
	// not combine with (both were given by the caller).
	With string `json:"with,omitempty"`
	// Discount is the discount a budget refused, and BudgetLeft what is
	// left of that budget, in the basket's currency.
	Discount   *series.Money `json:"discount,omitempty"`
	BudgetLeft *series.Money `json:"budget_left,omitempty"`
}

// Rule names a rule.
type Rule string

// The rules. Each has one code; a code has one rule, but for 1115, which
// covers a paused offer and one not started yet.
const (
	Revoked          Rule = "revoked"            // 1102
	Expired          Rule = "expired"            // 1103
	NotIssued        Rule = "not_issued"         // 1104
	UsedUp           Rule = "used_up"            // 405
	HeldElsewhere    Rule = "held_elsewhere"     // 1117
	SeriesEnded      Rule = "offer_ended"        // 712
	SeriesPaused     Rule = "offer_paused"       // 1115
	SeriesNotStarted Rule = "offer_not_started"  // 1115
	CodeLimit        Rule = "code_limit"         // 1201
	CustomerLimit    Rule = "customer_limit"     // 1202
	SeriesLimit      Rule = "offer_limit"        // 1203
	RepeatNotAllowed Rule = "once_per_customer"  // 1204
	NotStarted       Rule = "not_started"        // 1205
	WrongWeekday     Rule = "weekday"            // 1206
	WrongMonthDay    Rule = "day_of_month"       // 1207
	WrongHour        Rule = "hour"               // 1208
	RedemptionGap    Rule = "redemption_gap"     // 1209
	PlaceNotAllowed  Rule = "place"              // 1210
	BillBelowMin     Rule = "min_bill"           // 1211
	BillAboveMax     Rule = "max_bill"           // 1212
	NotNewCustomer   Rule = "new_customer"       // 1213
	TooManyPurchases Rule = "earlier_purchases"  // 1214
	NotHolder        Rule = "holder_only"        // 1215
	CustomerIssues   Rule = "customer_issues"    // 1221
	IssueGap         Rule = "issue_gap"          // 1222
	SeriesIssues     Rule = "offer_issues"       // 1223
	CommonCodeIssued Rule = "common_code_issued" // 1224
	NotInAudience    Rule = "audience"           // 1225
	Excluded         Rule = "excluded"           // 1226
	// LeaseAllowance is not a reason to refuse a use but a fact the
	// central records on a till's conflicted offline use: it took the
	// till's lease past its allowance of unverified uses.
	LeaseAllowance Rule = "lease_allowance" // 1120
)

// Error is a refused request: the refusals, in order, each once. It matches
// under errors.Is the errcode sentinel of every refusal's code (and
// errcode.ErrLimitReached when a rule of package limits refused), and
// errors.As finds the *errcode.Error of the first refusal.
type Error struct {
	Refusals []Refusal
}

// Error joins the refusals as "couponkit: refused: <code> <rule>: <message>; ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("couponkit: refused")
	for i, r := range e.Refusals {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(r.Code.String())
		b.WriteString(" (")
		b.WriteString(itoa(int64(r.Code)))
		b.WriteString(") ")
		b.WriteString(string(r.Rule))
		b.WriteString(": ")
		b.WriteString(r.Message)
	}
	return b.String()
}

// Unwrap returns one *errcode.Error per refusal, with the refusal's code,
// its rule as Field and its message.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Refusals))
	for i, r := range e.Refusals {
		out[i] = errcode.New(r.Code, string(r.Rule), r.Message)
	}
	return out
}

// Is reports whether target is errcode.ErrLimitReached and a rule of
// package limits (codes 1201 to 1299) refused. The codes of the refusals
// themselves match through Unwrap.
func (e *Error) Is(target error) bool {
	if !errors.Is(target, errcode.ErrLimitReached) {
		return false
	}
	for _, r := range e.Refusals {
		if r.Code > errcode.LimitReached && r.Code < errcode.LimitReached+100 {
			return true
		}
	}
	return false
}

// Has reports whether the list holds a refusal with the given code.
func (e *Error) Has(code errcode.Code) bool {
	for _, r := range e.Refusals {
		if r.Code == code {
			return true
		}
	}
	return false
}

// Codes returns the refusals' codes, in order.
func (e *Error) Codes() []errcode.Code {
	out := make([]errcode.Code, len(e.Refusals))
	for i, r := range e.Refusals {
		out[i] = r.Code
	}
	return out
}
