package sqlcore

import (
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Times are stored as Unix nanoseconds, NULL for the zero time, and read
// back in UTC. That covers the years 1678 to 2261; a time outside them is
// refused with InvalidArgument rather than stored wrong.
var (
	minTime = time.Unix(0, -1<<63).Add(time.Second)
	maxTime = time.Unix(0, 1<<63-1).Add(-time.Second)
)

// encoder turns values into statement arguments and remembers the first
// value it could not store.
type encoder struct{ err error }

func (e *encoder) time(field string, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		if e.err == nil {
			e.err = invalid(field, "time "+t.String()+" is outside the years 1678 to 2261 that the store keeps")
		}
		return nil
	}
	return t.UnixNano()
}

// nanos is time for a time that is known to be in range or zero.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos is a stored time: Unix nanoseconds in UTC, NULL the zero time.
func FromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// decimalText keeps a decimal's exponent, so that 12.50 reads back as
// 12.50.
func decimalText(d decimal.Decimal) string {
	if e := d.Exponent(); e < 0 {
		return d.StringFixed(-e)
	}
	return d.String()
}

func parseDecimal(field, s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, &errcode.Error{Code: errcode.Unavailable, Field: field, Message: "stored decimal " + strconv.Quote(s) + " is malformed", Err: err}
	}
	return d, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ---- coupons ----

// couponArgs appends c's column values (CouponCols), slot included; an
// empty IssueKey is NULL, so that only set keys are unique.
func (e *encoder) couponArgs(dst []any, c *coupon.Coupon) []any {
	return append(dst, c.ID, c.SeriesID, c.Code, c.Canonical, c.Shared, int64(c.State), c.Holder,
		e.time("CreatedAt", c.CreatedAt), e.time("IssuedAt", c.IssuedAt), e.time("ExpiresAt", c.ExpiresAt),
		int64(c.Redemptions), int64(c.Holds), c.Reversed, e.time("LastStatusChange", c.LastStatusChange),
		c.ReissuedFrom, c.ReissuedTo, c.Version, store.Slot(c), nullString(c.IssueKey))
}

func scanCoupon(r scanner) (coupon.Coupon, error) {
	var c coupon.Coupon
	var state, reds, holds int64
	var created, issued, expires, changed sql.NullInt64
	var slot string
	var issueKey sql.NullString
	err := r.Scan(&c.ID, &c.SeriesID, &c.Code, &c.Canonical, &c.Shared, &state, &c.Holder,
		&created, &issued, &expires, &reds, &holds, &c.Reversed, &changed,
		&c.ReissuedFrom, &c.ReissuedTo, &c.Version, &slot, &issueKey)
	c.State, c.Redemptions, c.Holds, c.IssueKey = coupon.State(state), int(reds), int(holds), issueKey.String
	c.CreatedAt, c.IssuedAt, c.ExpiresAt, c.LastStatusChange = FromNanos(created), FromNanos(issued), FromNanos(expires), FromNanos(changed)
	return c, err
}

// ---- redemptions ----

// redemptionArgs appends r's column values (redemptionCols).
func (e *encoder) redemptionArgs(dst []any, r *coupon.Redemption) []any {
	return append(dst, r.ID, r.CouponID, r.SeriesID, r.Customer, nullString(r.IdempotencyKey), int64(r.Status),
		e.time("At", r.At), e.time("HoldExpiresAt", r.HoldExpiresAt), e.time("ConfirmedAt", r.ConfirmedAt),
		e.time("ReleasedAt", r.ReleasedAt), e.time("ReversedAt", r.ReversedAt),
		r.Location.Till, r.Location.Store, r.Location.Zone, r.Location.Concept,
		decimalText(r.Bill), decimalText(r.Discount), r.Currency, e.checkout(r))
}

// checkoutDoc is the JSON document of what a redemption made on a
// basket's lines or under a budget records (column checkout; NULL when
// there is nothing).
type checkoutDoc struct {
	Lines   string          `json:"lines,omitempty"`
	Parts   []coupon.Part   `json:"parts,omitempty"`
	Reduced bool            `json:"reduced,omitempty"`
	Budget  int64           `json:"budget,omitempty"`
	Returns []coupon.Return `json:"returns,omitempty"`
}

func (e *encoder) checkout(r *coupon.Redemption) any {
	if r.Lines == "" && len(r.Parts) == 0 && !r.Reduced && r.Budget == 0 && len(r.Returns) == 0 {
		return nil
	}
	b, err := json.Marshal(checkoutDoc{Lines: r.Lines, Parts: r.Parts, Reduced: r.Reduced, Budget: r.Budget, Returns: r.Returns})
	if err != nil && e.err == nil {
		e.err = &errcode.Error{Code: errcode.InvalidArgument, Field: "Parts", Message: "cannot be encoded as JSON", Err: err}
	}
	return string(b)
}

func decodeCheckout(r *coupon.Redemption, doc sql.NullString) error {
	if !doc.Valid {
		return nil
	}
	var d checkoutDoc
	if err := json.Unmarshal([]byte(doc.String), &d); err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Field: "Parts", Message: "stored checkout document is malformed", Err: err}
	}
	r.Lines, r.Parts, r.Reduced, r.Budget, r.Returns = d.Lines, d.Parts, d.Reduced, d.Budget, d.Returns
	return nil
}

func scanRedemption(s scanner) (coupon.Redemption, error) {
	var r coupon.Redemption
	var key sql.NullString
	var status int64
	var at, holdExp, confirmed, released, reversed sql.NullInt64
	var bill, discount string
	var checkout sql.NullString
	err := s.Scan(&r.ID, &r.CouponID, &r.SeriesID, &r.Customer, &key, &status, &at, &holdExp,
		&confirmed, &released, &reversed, &r.Location.Till, &r.Location.Store, &r.Location.Zone,
		&r.Location.Concept, &bill, &discount, &r.Currency, &checkout)
	if err != nil {
		return r, err
	}
	if err := decodeCheckout(&r, checkout); err != nil {
		return r, err
	}
	r.IdempotencyKey, r.Status = key.String, coupon.RedemptionStatus(status)
	r.At, r.HoldExpiresAt, r.ConfirmedAt = FromNanos(at), FromNanos(holdExp), FromNanos(confirmed)
	r.ReleasedAt, r.ReversedAt = FromNanos(released), FromNanos(reversed)
	if r.Bill, err = parseDecimal("Bill", bill); err != nil {
		return r, err
	}
	r.Discount, err = parseDecimal("Discount", discount)
	return r, err
}

// ---- events ----

// eventArgs appends ev's column values (EventCols).
func (e *encoder) eventArgs(dst []any, ev *coupon.Event) []any {
	return append(dst, ev.ID, int64(ev.Kind), ev.CouponID, ev.SeriesID, ev.Code, ev.Customer, ev.Actor,
		e.time("At", ev.At), ev.Reason, ev.Counterparty, ev.RedemptionID, ev.OldCode, ev.NewCode,
		ev.NewCouponID, ev.Notify, ev.Remaining, ev.Channel, ev.Returned, ev.BudgetBack, ev.UseBack)
}

func scanEvent(s scanner) (coupon.Event, error) {
	var ev coupon.Event
	err := scanEventInto(s, &ev)
	return ev, err
}

// scanEventInto scans the EventCols of a row into ev, after the columns
// of the row before them (lead).
func scanEventInto(s scanner, ev *coupon.Event, lead ...any) error {
	var kind int64
	var at sql.NullInt64
	err := s.Scan(append(lead, &ev.ID, &kind, &ev.CouponID, &ev.SeriesID, &ev.Code, &ev.Customer, &ev.Actor, &at,
		&ev.Reason, &ev.Counterparty, &ev.RedemptionID, &ev.OldCode, &ev.NewCode, &ev.NewCouponID, &ev.Notify,
		&ev.Remaining, &ev.Channel, &ev.Returned, &ev.BudgetBack, &ev.UseBack)...)
	ev.Kind, ev.At = coupon.EventKind(kind), FromNanos(at)
	return err
}

// ---- series ----

// seriesDoc is the JSON document of a series as stored.
func seriesDoc(s *series.Series) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Field: "Series", Message: "cannot be encoded as JSON", Err: err}
	}
	return b, nil
}

func decodeSeries(doc []byte, version int64) (series.Series, error) {
	var s series.Series
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, &errcode.Error{Code: errcode.Unavailable, Field: "Series", Message: "stored series document is malformed", Err: err}
	}
	s.Version = version
	return s, nil
}

// CounterKeyArgs returns the key columns of a counter, $1 to $5 of the
// counter statements (CounterKeyWhere). Its strings may hold
// any byte, NUL included, which a PostgreSQL TEXT cannot hold: they are
// stored escaped (keyText), the same way on both dialects. Keys are never
// read back, so no decoding is needed.
func CounterKeyArgs(k *store.CounterKey) []any {
	return []any{int64(k.Counter), KeyText(k.Series), KeyText(k.Code), KeyText(k.Holder), KeyText(k.Customer)}
}

// KeyText escapes NUL as \0 and \ as \\, an injective encoding that
// leaves strings without either byte as they are: how counter keys are
// stored.
func KeyText(s string) string {
	if strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// EncodeCoupons returns the column values (CouponCols) of each coupon,
// after the values first(i) returns for the i-th; and EncodeEvents those
// of each event (EventCols). A value the store cannot keep (a time outside
// the years it keeps) is an InvalidArgument error.
func EncodeCoupons(cs []coupon.Coupon, first func(i int) []any) ([][]any, error) {
	var e encoder
	rows := make([][]any, len(cs))
	for i := range cs {
		var dst []any
		if first != nil {
			dst = first(i)
		}
		rows[i] = e.couponArgs(dst, &cs[i])
	}
	return rows, e.err
}

// EncodeEvents returns the column values (EventCols) of each event.
func EncodeEvents(evs []coupon.Event) ([][]any, error) {
	var e encoder
	rows := make([][]any, len(evs))
	for i := range evs {
		rows[i] = e.eventArgs(make([]any, 0, nEventCols), &evs[i])
	}
	return rows, e.err
}

// JSONStrings encodes ss as a JSON array of strings: a TextList for a
// database that reads lists from JSON.
func JSONStrings(ss []string) any { return jsonStrings(ss) }
