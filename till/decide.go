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
// the central (tillhttp.Client.Series), replacing the one it had. Offline
// uses of the series are decided under it ([Decide]).
func (j *Journal) PutSeries(ctx context.Context, s series.Series) error {
	if s.ID == "" {
		return errcode.New(errcode.InvalidArgument, "ID", "a series needs an id")
	}
	if _, err := s.Location(); err != nil {
		return err
	}
	config, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("till: encoding series %s: %w", s.ID, err)
	}
	_, err = j.db.ExecContext(ctx, `INSERT INTO till_series (id, config) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET config = excluded.config`, s.ID, string(config))
	if err != nil {
		return fmt.Errorf("till: keeping series %s: %w", s.ID, err)
	}
	return nil
}

// decide reads what an offline use is decided on, the series' synced
// configuration and the till's own counts of uses from its journal, and
// decides the use with Decide.
func (j *Journal) decide(ctx context.Context, tx *sql.Tx, u *Use) error {
	var config string
	err := tx.QueryRowContext(ctx, `SELECT config FROM till_series WHERE id = ?`, u.SeriesID).Scan(&config)
	if errors.Is(err, sql.ErrNoRows) {
		return errcode.New(errcode.Unavailable, "SeriesID", "the till has no configuration of series "+u.SeriesID+"; sync it first")
	}
	if err != nil {
		return fmt.Errorf("till: reading series %s: %w", u.SeriesID, err)
	}
	var s series.Series
	if err := json.Unmarshal([]byte(config), &s); err != nil {
		return fmt.Errorf("till: decoding series %s: %w", u.SeriesID, err)
	}
	c, err := journalCounts(ctx, tx, u)
	if err != nil {
		return err
	}
	return Decide(&s, &c, u)
}

// journalCounts counts, from the till's own journal, the uses an offline
// decision of u reads: of u's code, of u's code by u's customer, of the
// series, and the customer's last use in the series.
func journalCounts(ctx context.Context, tx *sql.Tx, u *Use) (limits.RedemptionCounts, error) {
	var c limits.RedemptionCounts
	var last sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT
	(SELECT COUNT(*) FROM till_journal WHERE series_id = ?1 AND code = ?2),
	(SELECT COUNT(*) FROM till_journal WHERE series_id = ?1 AND code = ?2 AND customer = ?3),
	(SELECT COUNT(*) FROM till_journal WHERE series_id = ?1),
	(SELECT MAX(sale_ns) FROM till_journal WHERE series_id = ?1 AND customer = ?3)`,
		u.SeriesID, u.Code, u.Customer).Scan(&c.Code, &c.CustomerCode, &c.Series, &last)
	if err != nil {
		return c, fmt.Errorf("till: counting the journal's uses: %w", err)
	}
	if last.Valid {
		c.CustomerLast = time.Unix(0, last.Int64).UTC()
	}
	return c, nil
}

// Decide decides an offline use u of series s, given the till's own
// counts c of earlier uses (its journal), by the rules the till can judge
// alone: the series open at the sale time, the redemption windows (start,
// weekdays, days of the month, hours), the minimum and maximum bill, the
// code and customer levels, "once per customer", the gap between one
// customer's uses and the series level, each counted over the till's own
// uses only (so that one till never lets a code pass its levels by its
// own uses; the lease bounds what it takes of the series). Rules that need
// what the till does not hold offline (the place, the customer's
// registration and purchases, the coupon's holder and state) are left to
// the central. It reads nothing and writes nothing: it returns nil when
// the use is allowed, a *refusal.Error, with the codes, rules and messages
// the central gives, when the rules refuse it, and an *errcode.Error for a
// bill the series cannot take.
func Decide(s *series.Series, c *limits.RedemptionCounts, u *Use) error {
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
	rules := s.Redemption
	rules.Places = limits.PlaceSet{}
	rules.NewCustomers = limits.NewCustomerRule{}
	q := limits.RedemptionRequest{At: at, Bill: inSeries, Holder: true, Issued: true}
	d := limits.EvaluateRedemption(&rules, c, &q)
	if d.Allowed() {
		return nil
	}
	return &refusal.Error{Refusals: refusal.ForUse(&refusal.Use{
		Coupon:   coupon.Coupon{SeriesID: s.ID, Code: u.Code, State: coupon.Issued, Holder: u.Customer},
		Decision: &d, Rules: &rules, Counts: c, Request: &q,
		Bill: bill, Currency: s.Discount.Currency,
	})}
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
