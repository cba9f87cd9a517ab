package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Series implements store.Store.
func (s *Store) Series(ctx context.Context, id string) (series.Series, error) {
	var version int64
	var doc []byte
	err := s.reader().row(ctx, seriesGet, id).Scan(&version, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return series.Series{}, store.NotFound("series", id)
	}
	if err != nil {
		return series.Series{}, s.dbErr(ctx, err)
	}
	return decodeSeries(doc, version)
}

// SeriesVersion implements store.SeriesVersioner: the stored version of a
// series, read without its document, so that the engine can reuse a
// series it has decoded while the version is unchanged. The engine caches
// series; the store reads and decodes the document on every Series and
// ListSeries call.
func (s *Store) SeriesVersion(ctx context.Context, id string) (int64, error) {
	var version int64
	err := s.reader().row(ctx, seriesVersion, id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.NotFound("series", id)
	}
	if err != nil {
		return 0, s.dbErr(ctx, err)
	}
	return version, nil
}

// ListSeries implements store.Store.
func (s *Store) ListSeries(ctx context.Context, q store.SeriesQuery) ([]series.Series, error) {
	var rows *sql.Rows
	var err error
	c := s.reader()
	switch {
	case q.Place != nil && q.Status != 0:
		rows, err = c.query(ctx, seriesListPlaceStatus, int64(q.Place.Kind), q.Place.ID, int64(q.Status))
	case q.Place != nil:
		rows, err = c.query(ctx, seriesListPlace, int64(q.Place.Kind), q.Place.ID)
	case q.Status != 0:
		rows, err = c.query(ctx, seriesListStatus, int64(q.Status))
	default:
		rows, err = c.query(ctx, seriesList)
	}
	if err != nil {
		return nil, s.dbErr(ctx, err)
	}
	defer rows.Close()
	var out []series.Series
	for rows.Next() {
		var id string
		var version int64
		var doc []byte
		if err := rows.Scan(&id, &version, &doc); err != nil {
			return nil, s.dbErr(ctx, err)
		}
		v, err := decodeSeries(doc, version)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, s.dbErr(ctx, rows.Err())
}

// Coupon implements store.Store.
func (s *Store) Coupon(ctx context.Context, id string) (coupon.Coupon, error) {
	c, err := scanCoupon(s.reader().row(ctx, couponGet, id))
	if errors.Is(err, sql.ErrNoRows) {
		return coupon.Coupon{}, store.NotFound("coupon", id)
	}
	if err != nil {
		return coupon.Coupon{}, s.dbErr(ctx, err)
	}
	return c, nil
}

// CouponsByCode implements store.Store.
func (s *Store) CouponsByCode(ctx context.Context, seriesID, code string) ([]coupon.Coupon, error) {
	if seriesID == "" {
		return s.coupons(ctx, s.reader(), couponsByCode, code)
	}
	return s.coupons(ctx, s.reader(), couponsByCodeSeries, code, seriesID)
}

func (s *Store) coupons(ctx context.Context, c conn, query string, args ...any) ([]coupon.Coupon, error) {
	return queryAll(ctx, s, c, scanCoupon, query, args...)
}

// queryAll runs query on c and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, c conn, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, s.dbErr(ctx, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.dbErr(ctx, err)
		}
		out = append(out, v)
	}
	return out, s.dbErr(ctx, rows.Err())
}

// ListCoupons implements store.Store.
func (s *Store) ListCoupons(ctx context.Context, q store.CouponQuery) ([]coupon.Coupon, error) {
	var w where
	s.couponFilter(&w, &q.CouponFilter)
	if q.AfterID != "" {
		w.add("id > " + w.arg(q.AfterID))
	}
	query := "SELECT " + CouponCols + " FROM ck_coupons" + w.sql() + " ORDER BY id"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return s.coupons(ctx, s.reader(), query, w.args...)
}

// where builds a WHERE clause with numbered parameters ($N on both
// databases).
type where struct {
	terms []string
	args  []any
}

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + itoa(int64(len(w.args)))
}

func (w *where) add(term string) { w.terms = append(w.terms, term) }

func (w *where) sql() string {
	if len(w.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.terms, " AND ")
}

// couponFilter adds f's terms. The terms are written so that the partial
// indexes apply: holder <> ”, expires_at IS NOT NULL and issue_key IS NOT
// NULL appear literally.
func (s *Store) couponFilter(w *where, f *store.CouponFilter) {
	if f.SeriesID != "" {
		w.add("series_id = " + w.arg(f.SeriesID))
	}
	if f.Holder != "" {
		w.add("holder = " + w.arg(f.Holder) + " AND holder <> ''")
	}
	if len(f.States) > 0 {
		states := slices.Clone(f.States)
		slices.Sort(states)
		states = slices.Compact(states)
		ph := make([]string, len(states))
		for i, st := range states {
			ph[i] = w.arg(int64(st))
		}
		if len(ph) == 1 {
			w.add("state = " + ph[0])
		} else {
			w.add("state IN (" + strings.Join(ph, ", ") + ")")
		}
	}
	if f.Unused {
		w.add("redemptions = 0 AND holds = 0")
	}
	if !f.ExpiresBefore.IsZero() {
		w.add("expires_at IS NOT NULL AND expires_at <= " + w.arg(clampNanos(f.ExpiresBefore)) + s.d.SQL.Big)
	}
	if !f.ExpiresAfter.IsZero() {
		w.add("expires_at IS NOT NULL AND expires_at > " + w.arg(clampNanos(f.ExpiresAfter)) + s.d.SQL.Big)
	}
	if len(f.IDs) > 0 {
		w.add(fmt.Sprintf(s.d.SQL.InText, "id", w.arg(s.d.TextList(f.IDs))))
	}
	if len(f.IssueKeys) > 0 {
		w.add("issue_key IS NOT NULL AND " + fmt.Sprintf(s.d.SQL.InText, "issue_key", w.arg(s.d.TextList(f.IssueKeys))))
	}
}

// clampNanos is t in Unix nanoseconds, clamped to the range the store
// keeps, for comparisons.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minTime.UnixNano()
	case t.After(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

// jsonStrings encodes ss as a JSON array of strings.
func jsonStrings(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, s)
	}
	b.WriteByte(']')
	return b.String()
}

func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// Redemption implements store.Store.
func (s *Store) Redemption(ctx context.Context, id string) (coupon.Redemption, error) {
	r, err := scanRedemption(s.reader().row(ctx, redemptionGet, id))
	if errors.Is(err, sql.ErrNoRows) {
		return coupon.Redemption{}, store.NotFound("redemption", id)
	}
	if err != nil {
		return coupon.Redemption{}, s.dbErr(ctx, err)
	}
	return r, nil
}

// RedemptionByKey implements store.Store. The empty key names no
// redemption.
func (s *Store) RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error) {
	if key == "" {
		return coupon.Redemption{}, store.NotFound("redemption", key)
	}
	r, err := scanRedemption(s.reader().row(ctx, redemptionByKey, couponID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return coupon.Redemption{}, store.NotFound("redemption", key)
	}
	if err != nil {
		return coupon.Redemption{}, s.dbErr(ctx, err)
	}
	return r, nil
}

// ListRedemptions implements store.Store.
func (s *Store) ListRedemptions(ctx context.Context, q store.RedemptionQuery) ([]coupon.Redemption, error) {
	var w where
	if q.CouponID != "" {
		w.add("coupon_id = " + w.arg(q.CouponID))
	}
	if q.SeriesID != "" {
		w.add("series_id = " + w.arg(q.SeriesID))
	}
	if q.Customer != "" {
		w.add("customer = " + w.arg(q.Customer))
	}
	if q.Status != 0 {
		// A literal, so that the partial index of live holds applies.
		w.add("status = " + itoa(int64(q.Status)))
	}
	if !q.HoldExpiresBefore.IsZero() {
		w.add("hold_expires_at IS NOT NULL AND hold_expires_at <= " + w.arg(clampNanos(q.HoldExpiresBefore)) + s.d.SQL.Big)
	}
	query := "SELECT " + redemptionCols + " FROM ck_redemptions" + w.sql() + " ORDER BY id"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanRedemption, query, w.args...)
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]coupon.Event, error) {
	var w where
	if q.CouponID != "" {
		w.add("coupon_id = " + w.arg(q.CouponID))
	}
	if q.Customer != "" {
		w.add("customer = " + w.arg(q.Customer) + " AND customer <> ''")
	}
	if q.SeriesID != "" {
		w.add("series_id = " + w.arg(q.SeriesID))
	}
	query := "SELECT " + EventCols + " FROM ck_events" + w.sql() + " ORDER BY seq"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanEvent, query, w.args...)
}

// InAudience implements store.Store.
func (s *Store) InAudience(ctx context.Context, seriesID, customer string) (bool, error) {
	var one int64
	err := s.reader().row(ctx, inAudience, seriesID, customer).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, s.dbErr(ctx, err)
	}
	return true, nil
}
