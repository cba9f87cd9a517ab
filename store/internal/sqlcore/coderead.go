package sqlcore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/store"
)

var _ store.CodeReader = (*Store)(nil)

// ReadCode implements store.CodeReader with one statement: the coupons of
// the code, each with its series' version and, for each counter, the
// counter's n and last, read by their primary keys, the key's code and
// holder the coupon's canonical code and slot (store.CouponCounter). Counter keys are
// stored through KeyText; a coupon whose series, canonical code or slot
// KeyText changes (a NUL or a backslash in it) has its counters read
// again by their keys.
func (s *Store) ReadCode(ctx context.Context, seriesID, code string, counters []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	if len(counters) > store.MaxCodeCounters {
		return dst, invalid("counters", "at most "+strconv.Itoa(store.MaxCodeCounters)+" counters")
	}
	if s.d.CombineReads && s.tx == nil {
		reads, err := s.readCodeCombined(ctx, readShapeKey(seriesID, counters),
			&codeReadCall{seriesID: seriesID, code: code, counters: counters})
		return append(dst, reads...), err
	}
	q, args := s.readCodeSQL(seriesID, code, counters)
	rows, err := s.reader().query(ctx, q, args...)
	if err != nil {
		return dst, s.dbErr(ctx, err)
	}
	from := len(dst)
	var n [store.MaxCodeCounters]sql.NullInt64
	var last [store.MaxCodeCounters]sql.NullInt64
	extra := make([]any, 0, 1+2*len(counters))
	var r store.CodeRead
	extra = append(extra, &r.SeriesVersion)
	for i := range counters {
		extra = append(extra, &n[i], &last[i])
	}
	for rows.Next() {
		if r.Coupon, err = scanCoupon(withExtra{rows, extra}); err != nil {
			rows.Close()
			return dst, s.dbErr(ctx, err)
		}
		r.Counts = [store.MaxCodeCounters]store.Count{}
		for i := range counters {
			r.Counts[i] = store.Count{N: n[i].Int64, Last: FromNanos(last[i])}
		}
		dst = append(dst, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return dst, s.dbErr(ctx, err)
	}
	return dst, s.rereadEscaped(ctx, dst[from:], counters)
}

// readCodeSQL is ReadCode's statement and its arguments: each counter's
// kind and customer, the code, then the series if named.
func (s *Store) readCodeSQL(seriesID, code string, counters []store.CouponCounter) (string, []any) {
	args := make([]any, 0, 2+4*len(counters))
	for _, cc := range counters {
		args = append(args, int64(cc.Counter), KeyText(cc.Customer))
	}
	args = append(args, code)
	if seriesID != "" {
		args = append(args, seriesID)
	}
	q := s.sqlText("readcode/"+readShapeKey(seriesID, counters), func() string {
		return s.readCodeText(seriesID != "", counters)
	})
	return q, args
}

// readCodeText is the text of readCodeSQL's statement. Each counter's n
// and last are read with one lookup of its primary key: with
// Dialect.JoinCounters by a LEFT JOIN (SQLite, whose planner always takes
// the key for an equality on all of it); else by a lateral subquery
// (counterLateral), a lookup whatever the planner knows of the tables.
func (s *Store) readCodeText(bySeries bool, counters []store.CouponCounter) string {
	n := 0
	param := func() string { n++; return s.d.Param(n) }
	var sel, from strings.Builder
	sel.WriteString("SELECT " + prefixed("c.", CouponCols) + ", (SELECT s.version FROM ck_series s WHERE s.id = c.series_id)")
	from.WriteString(" FROM ck_coupons c")
	for j, cc := range counters {
		if s.d.JoinCounters {
			k := "k" + itoa(int64(j))
			sel.WriteString(", " + k + ".n, " + k + ".last")
			from.WriteString(" LEFT JOIN ck_counters " + k + s.counterOn(cc, k, param()+s.d.SQL.Small, param()+s.d.SQL.Text))
			continue
		}
		k := "k" + itoa(int64(j))
		sel.WriteString(", " + k + ".n, " + k + ".last")
		from.WriteString(s.counterLateral(cc, k, param()+s.d.SQL.Small, param()+s.d.SQL.Text))
	}
	where := " WHERE c.canonical = " + param() + s.d.SQL.Text
	if bySeries {
		where += " AND c.series_id = " + param() + s.d.SQL.Text
	}
	return sel.String() + from.String() + where + " ORDER BY c.id"
}

// rereadEscaped reads again, by their keys, the counters of the coupons of
// reads whose key texts KeyText changes, which the join cannot match.
func (s *Store) rereadEscaped(ctx context.Context, reads []store.CodeRead, counters []store.CouponCounter) error {
	for i := range reads {
		c := &reads[i].Coupon
		if KeyText(c.SeriesID) == c.SeriesID && KeyText(c.Canonical) == c.Canonical && KeyText(store.Slot(c)) == store.Slot(c) {
			continue
		}
		keys := make([]store.CounterKey, len(counters))
		for j := range counters {
			keys[j] = counters[j].Key(c)
		}
		if err := s.Counters(ctx, keys, reads[i].Counts[:len(keys)]); err != nil {
			return err
		}
	}
	return nil
}

// withExtra scans a row into the destinations a scan names, then extra.
type withExtra struct {
	r     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// counterLateral is " LEFT JOIN LATERAL (...) k ON true": the row of the
// counter cc of the coupon c as the table alias k, its kind and customer
// the SQL expressions kind and customer. OFFSET 0 keeps the subquery from
// being pulled up into a join, whose plan (a generic plan made while the
// tables were small, say) could scan the counters; as it is, each coupon
// row looks its counter up by the whole primary key, n and last at once.
func (s *Store) counterLateral(cc store.CouponCounter, k, kind, customer string) string {
	return " LEFT JOIN LATERAL (SELECT k.n, k.last FROM ck_counters k WHERE " + counterKey(cc, "k", kind, customer) +
		" OFFSET 0) " + k + " ON true"
}

// counterOn is " ON ...": the join condition of the counter cc of the
// coupon c as the table alias k, its kind and customer the SQL
// expressions kind and customer: the whole primary key.
func (s *Store) counterOn(cc store.CouponCounter, k, kind, customer string) string {
	return " ON " + counterKey(cc, k, kind, customer)
}

// counterKey is the condition that the row k of ck_counters is the
// counter cc of the coupon c, its kind and customer the SQL expressions
// kind and customer: an equality on each column of the primary key.
func counterKey(cc store.CouponCounter, k, kind, customer string) string {
	code, holder := "''", "''"
	if cc.ByCode {
		code, holder = "c.canonical", "c.slot"
	}
	return k + ".counter = " + kind + " AND " + k + ".series_id = c.series_id AND " + k + ".code = " +
		code + " AND " + k + ".holder = " + holder + " AND " + k + ".customer = " + customer
}
