package till

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// PutSeries keeps a series' configuration as the till last synced it from
// the central (tillhttp.Client.Series, or a page of [Journal.ApplyFeed]),
// replacing the one it had. Offline uses of the series are decided under
// it ([Decide]).
func (j *Journal) PutSeries(ctx context.Context, s series.Series) error {
	return putSeries(ctx, j.db, s)
}

// querier is a *sql.DB or a *sql.Tx, for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// seriesIn reads the series' configuration the till last synced; a
// series it has none of is an errcode.Unavailable error.
func seriesIn(ctx context.Context, tx querier, id string) (series.Series, error) {
	var s series.Series
	var config string
	err := tx.QueryRowContext(ctx, `SELECT config FROM till_series WHERE id = ?`, id).Scan(&config)
	if errors.Is(err, sql.ErrNoRows) {
		return s, errcode.New(errcode.Unavailable, "SeriesID", "the till has no configuration of series "+id+"; sync it first")
	}
	if err != nil {
		return s, fmt.Errorf("till: reading series %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(config), &s); err != nil {
		return s, fmt.Errorf("till: decoding series %s: %w", id, err)
	}
	return s, nil
}

// journalCounts counts the uses an offline decision of u reads: of u's
// code (the central's uses the feed told of, k.Uses, and the till's own),
// of u's code by u's customer, of the series (the uses the till took of
// its leases of the series: read from the leases, not counted over the
// journal, so that a decision costs the same on a journal of a year), and
// the customer's last use in the series, the till's own from its journal
// less the uses given back. For a common code, whose coupon is the customer's own, and for
// the coupon's holder, the central's uses count as the customer's too
// (the feed does not tell who made each use).
func journalCounts(ctx context.Context, tx *sql.Tx, u *Use, k *Known) (limits.RedemptionCounts, error) {
	var c limits.RedemptionCounts
	var last sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT
	(SELECT COUNT(*) FROM till_journal WHERE series_id = ?1 AND code = ?2 AND reverses = '' AND reversed = 0),
	(SELECT COUNT(*) FROM till_journal WHERE series_id = ?1 AND code = ?2 AND customer = ?3 AND reverses = '' AND reversed = 0),
	(SELECT COALESCE(SUM(used), 0) FROM till_lease WHERE series_id = ?1),
	(SELECT MAX(sale_ns) FROM till_journal WHERE series_id = ?1 AND customer = ?3 AND reverses = '' AND reversed = 0)`,
		u.SeriesID, u.Code, u.Customer).Scan(&c.Code, &c.CustomerCode, &c.Series, &last)
	if err != nil {
		return c, fmt.Errorf("till: counting the journal's uses: %w", err)
	}
	c.Code += k.Uses
	if k.Owner != "" || k.Holder == u.Customer {
		c.CustomerCode += k.Uses
	}
	if last.Valid {
		c.CustomerLast = time.Unix(0, last.Int64).UTC()
	}
	return c, nil
}

// Known is what the till learned of a code from the central's feed
// ([Journal.ApplyFeed]). The zero Known is a code the feed told nothing
// of.
type Known struct {
	// State is the coupon's state as the feed last told it (0: unknown);
	// Changed when it last changed, ExpiresAt when it expires by the
	// series' expiry rule (zero: never, or unknown).
	State     coupon.State
	Changed   time.Time
	ExpiresAt time.Time
	// Holder is the customer the coupon is issued to ("" once reissued
	// away); Owner is set for a common code's coupon, which is the
	// customer's own.
	Holder string
	Owner  string
	// Uses is how many uses of the coupon the central counted beside the
	// till's own (redeemed or hold confirmed, less reversed).
	Uses int64
}

// Verified reports whether a use of the code is verified: the feed told
// of it as issued. Whether it is still usable at the sale time is
// [Decide]'s.
func (k *Known) Verified() bool { return k != nil && k.State == coupon.Issued }

// Decide decides an offline use u of series s, given the counts c of
// earlier uses (the till's own journal and the central's uses of the code
// the feed told of) and what the feed told of the code (k; nil or the
// zero Known when nothing), by the rules the till can judge alone: the
// series open at the sale time, the coupon's state when the feed told it
// (revoked, expired, used up: the central's refusal of that state), its
// holder (a code held by another customer is refused unless anyone may
// redeem), the redemption windows (start, weekdays, days of the month,
// hours), the minimum and maximum bill, the code and customer levels,
// "once per customer", the gap between one customer's uses and the series
// level, the levels counted over what c holds (so that one till never
// lets a code pass its levels by its own uses; the lease bounds what it
// takes of the series). Rules that need what the till does not hold
// offline (the place, the customer's registration and purchases) are left
// to the central. It reads nothing and writes nothing: it returns nil when
// the use is allowed, a *refusal.Error, with the codes, rules and messages
// the central gives, when the rules refuse it, and an *errcode.Error for a
// bill the series cannot take.
func Decide(s *series.Series, c *limits.RedemptionCounts, u *Use, k *Known) error {
	loc, err := s.Location()
	if err != nil {
		return err
	}
	at := u.At.In(loc)
	if r, closed := refusal.Closed(s, at); closed {
		return &refusal.Error{Refusals: []refusal.Refusal{r}}
	}
	bill, inSeries, err := billOf(s, u)
	if err != nil {
		return err
	}
	cp, capacity := couponOf(s, c, u, k)
	rules := s.Redemption
	rules.Places = limits.PlaceSet{}
	rules.NewCustomers = limits.NewCustomerRule{}
	q := limits.RedemptionRequest{At: at, Bill: inSeries, Holder: cp.Holder == u.Customer, Issued: cp.State != coupon.Available}
	d := limits.EvaluateRedemption(&rules, c, &q)
	if d.Allowed() && coupon.CanUse(cp, at, capacity) == nil {
		return nil
	}
	return &refusal.Error{Refusals: refusal.ForUse(&refusal.Use{
		Coupon: cp, Capacity: capacity,
		Decision: &d, Rules: &rules, Counts: c, Request: &q,
		Bill: bill, Currency: s.Discount.Currency,
	})}
}

// couponOf is the coupon u uses as the till sees it, and its capacity of
// uses: what the feed told of it (k), or an issued coupon of u's customer,
// with the uses c counts.
func couponOf(s *series.Series, c *limits.RedemptionCounts, u *Use, k *Known) (coupon.Coupon, int) {
	cp := coupon.Coupon{SeriesID: s.ID, Code: u.Code, State: coupon.Issued, Holder: u.Customer, Redemptions: int(c.Code)}
	if s.Source.SharedCode() {
		cp.Redemptions = int(c.CustomerCode)
	}
	if k != nil && k.State != 0 {
		cp.State, cp.Holder, cp.LastStatusChange, cp.ExpiresAt = k.State, k.Holder, k.Changed, k.ExpiresAt
	}
	return cp, s.UseCapacity()
}

// billOf reads u's bill (an empty currency is the series' own) and its
// amount in the series' currency; the till converts no other currency.
func billOf(s *series.Series, u *Use) (series.Money, decimal.Decimal, error) {
	amount, err := decimal.NewFromString(u.Bill)
	if err != nil {
		return series.Money{}, decimal.Decimal{}, errcode.New(errcode.InvalidArgument, "Bill", "is not a decimal amount")
	}
	bill := series.Money{Amount: amount, Currency: u.Currency}
	if bill.Currency == "" {
		bill.Currency = s.Discount.Currency
	}
	inSeries, err := s.Discount.ConvertBill(bill, nil)
	if err != nil {
		return series.Money{}, decimal.Decimal{}, err
	}
	return bill, inSeries, nil
}
