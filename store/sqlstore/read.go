package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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
	err := s.reader().row(ctx, s.q.seriesGet, id).Scan(&version, &doc)
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
	err := s.reader().row(ctx, s.q.seriesVersion, id).Scan(&version)
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
		rows, err = c.query(ctx, s.q.seriesListPlaceStatus, int64(q.Place.Kind), q.Place.ID, int64(q.Status))
	case q.Place != nil:
		rows, err = c.query(ctx, s.q.seriesListPlace, int64(q.Place.Kind), q.Place.ID)
	case q.Status != 0:
		rows, err = c.query(ctx, s.q.seriesListStatus, int64(q.Status))
	default:
		rows, err = c.query(ctx, s.q.seriesList)
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
	c, err := scanCoupon(s.reader().row(ctx, s.q.couponGet, id))
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
		return s.coupons(ctx, s.reader(), s.q.couponsByCode, code)
	}
	return s.coupons(ctx, s.reader(), s.q.couponsByCodeSeries, code, seriesID)
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
	query := "SELECT " + couponCols + " FROM ck_coupons" + w.sql() + " ORDER BY id"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return s.coupons(ctx, s.reader(), query, w.args...)
}

// where builds a WHERE clause with numbered parameters.
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
		w.add("expires_at IS NOT NULL AND expires_at <= " + w.arg(clampNanos(f.ExpiresBefore)) + s.q.big)
	}
	if !f.ExpiresAfter.IsZero() {
		w.add("expires_at IS NOT NULL AND expires_at > " + w.arg(clampNanos(f.ExpiresAfter)) + s.q.big)
	}
	if len(f.IDs) > 0 {
		if s.d == Postgres {
			w.add("id = ANY(" + w.arg(f.IDs) + "::text[])")
		} else {
			w.add("id IN (SELECT value FROM json_each(" + w.arg(jsonStrings(f.IDs)) + "))")
		}
	}
	if len(f.IssueKeys) > 0 {
		if s.d == Postgres {
			w.add("issue_key IS NOT NULL AND issue_key = ANY(" + w.arg(f.IssueKeys) + "::text[])")
		} else {
			w.add("issue_key IS NOT NULL AND issue_key IN (SELECT value FROM json_each(" + w.arg(jsonStrings(f.IssueKeys)) + "))")
		}
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
	r, err := scanRedemption(s.reader().row(ctx, s.q.redemptionGet, id))
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
	r, err := scanRedemption(s.reader().row(ctx, s.q.redemptionByKey, couponID, key))
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
		w.add("hold_expires_at IS NOT NULL AND hold_expires_at <= " + w.arg(clampNanos(q.HoldExpiresBefore)) + s.q.big)
	}
	query := "SELECT " + redemptionCols + " FROM ck_redemptions" + w.sql() + " ORDER BY id"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanRedemption, query, w.args...)
}

// Counters implements store.Store. It reads every key in one statement.
func (s *Store) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	if len(keys) != len(out) {
		return invalid("out", "must have the length of keys")
	}
	for i := range out {
		out[i] = store.Count{}
	}
	if len(keys) == 0 {
		return ctx.Err()
	}
	return s.readCounters(ctx, s.reader(), keys, out)
}

// readCounters reads keys into out (already zeroed): up to 16 keys (a
// redemption reads four) with one UNION ALL of primary-key lookups, more
// (a bulk batch reads one per customer) with readManyCounters.
func (s *Store) readCounters(ctx context.Context, c conn, keys []store.CounterKey, out []store.Count) error {
	const chunk = 16
	if len(keys) > chunk {
		return s.readManyCounters(ctx, c, keys, out)
	}
	for from := 0; from < len(keys); from += chunk {
		to := min(from+chunk, len(keys))
		var b strings.Builder
		args := make([]any, 0, 5*(to-from))
		for i := from; i < to; i++ {
			if i > from {
				b.WriteString(" UNION ALL ")
			}
			k := &keys[i]
			n := len(args)
			b.WriteString("SELECT " + itoa(int64(i-from)) + " AS i, n, last FROM ck_counters WHERE counter = $" +
				itoa(int64(n+1)) + " AND series_id = $" + itoa(int64(n+2)) + " AND code = $" + itoa(int64(n+3)) +
				" AND holder = $" + itoa(int64(n+4)) + " AND customer = $" + itoa(int64(n+5)))
			args = append(args, counterKeyArgs(k)...)
		}
		rows, err := c.query(ctx, b.String(), args...)
		if err != nil {
			return s.dbErr(ctx, err)
		}
		for rows.Next() {
			var i, n int64
			var last sql.NullInt64
			if err := rows.Scan(&i, &n, &last); err != nil {
				rows.Close()
				return s.dbErr(ctx, err)
			}
			out[from+int(i)] = store.Count{N: n, Last: fromNanos(last)}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}

// counterReadChunk bounds the keys of one readManyCounters statement on
// SQLite (six parameters each).
const counterReadChunk = 512

// readManyCounters reads keys into out (already zeroed) with one statement
// that joins the keys to the counters' primary key: on PostgreSQL the keys
// as arrays, on SQLite as a VALUES list of a power-of-two number of rows
// (the last key repeated to fill it, which reads it twice) so that a few
// statement texts serve every batch.
func (s *Store) readManyCounters(ctx context.Context, c conn, keys []store.CounterKey, out []store.Count) error {
	const match = "c.counter = k.counter AND c.series_id = k.series_id AND c.code = k.code AND c.holder = k.holder AND c.customer = k.customer"
	if s.d == Postgres {
		is := make([]int64, len(keys))
		counters := make([]int64, len(keys))
		parts := make([][]string, 4)
		for p := range parts {
			parts[p] = make([]string, len(keys))
		}
		for i := range keys {
			k := &keys[i]
			is[i], counters[i] = int64(i), int64(k.Counter)
			parts[0][i], parts[1][i], parts[2][i], parts[3][i] = keyText(k.Series), keyText(k.Code), keyText(k.Holder), keyText(k.Customer)
		}
		q := "SELECT k.i, c.n, c.last FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[]) " +
			"AS k (i, counter, series_id, code, holder, customer) JOIN ck_counters c ON " + match
		return s.scanCounters(ctx, c, out, 0, q, is, counters, parts[0], parts[1], parts[2], parts[3])
	}
	for from := 0; from < len(keys); from += counterReadChunk {
		to := min(from+counterReadChunk, len(keys))
		rows := 16
		for rows < to-from {
			rows *= 2
		}
		args := make([]any, 0, 6*rows)
		for i := range rows {
			k := &keys[min(from+i, to-1)]
			args = append(args, int64(min(i, to-from-1)), int64(k.Counter), keyText(k.Series), keyText(k.Code), keyText(k.Holder), keyText(k.Customer))
		}
		q := s.sqlText("counters/"+itoa(int64(rows)), func() string {
			// CROSS JOIN keeps the keys the outer loop: one primary-key
			// lookup per key.
			return "WITH k (i, counter, series_id, code, holder, customer) AS (VALUES " + rowsPlaceholders(SQLite, rows, 6) + ") " +
				"SELECT k.i, c.n, c.last FROM k CROSS JOIN ck_counters c WHERE " + match
		})
		if err := s.scanCounters(ctx, c, out, from, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// scanCounters runs a query of rows (i, n, last) and sets out[from+i].
func (s *Store) scanCounters(ctx context.Context, c conn, out []store.Count, from int, q string, args ...any) error {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		var last sql.NullInt64
		if err := rows.Scan(&i, &n, &last); err != nil {
			return s.dbErr(ctx, err)
		}
		out[from+int(i)] = store.Count{N: n, Last: fromNanos(last)}
	}
	return s.dbErr(ctx, rows.Err())
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
	query := "SELECT " + eventCols + " FROM ck_events" + w.sql() + " ORDER BY seq"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanEvent, query, w.args...)
}

// InAudience implements store.Store.
func (s *Store) InAudience(ctx context.Context, seriesID, customer string) (bool, error) {
	var one int64
	err := s.reader().row(ctx, s.q.inAudience, seriesID, customer).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, s.dbErr(ctx, err)
	}
	return true, nil
}
