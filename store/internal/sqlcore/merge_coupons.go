package sqlcore

import (
	"slices"
	"strings"

	"github.com/couponkit/couponkit/store"
)

// mergedCouponCasts are the casts of the columns of a row of
// planCouponRows, in the order of couponArgs, then the expected version.
func (s *Store) mergedCouponCasts() []string {
	q := s.d.SQL
	return []string{q.Text, q.Text, q.Text, q.Text, q.Boolean, q.Small, q.Text, q.Big, q.Big, q.Big,
		q.Big, q.Big, q.Boolean, q.Big, q.Text, q.Text, q.Big, q.Text, q.Text, q.Big}
}

// planCouponRows inserts into p, after its coupon inserts, one statement
// updating all of coupons, each only at its expected version, which must
// update exactly as many rows: the updates of a merged group (merge.go)
// on a database whose update names every column (no
// Statements.CouponUpdateUsual). It returns false when a value cannot be
// encoded.
//
//	WITH v (<CouponCols>, expect) AS (VALUES (...), ...)
//	UPDATE ck_coupons c SET <col> = v.<col>, ... FROM v
//	WHERE c.id = v.id AND c.version = v.expect
func (s *Store) planCouponRows(p *Planned, coupons []store.CouponUpdate) bool {
	var e encoder
	args := make([]any, 0, len(coupons)*(nCouponCols+1))
	for i := range coupons {
		args = append(e.couponArgs(args, &coupons[i].Coupon), coupons[i].ExpectVersion)
	}
	if e.err != nil {
		return false
	}
	rows := len(coupons)
	var q string
	if arrays, casts, ok := unnestRows(args, nCouponCols+1, rows); ok && s.d.UnnestRows {
		q = s.sqlText("couponrows/unnest/"+strings.Join(casts, ""), func() string {
			return "WITH v (" + CouponCols + ", expect) AS (" + s.unnestSelect(casts, 1) + couponRowsSet()
		})
		args = arrays
	} else {
		q = s.sqlText("couponrows/"+itoa(int64(rows)), func() string { return s.couponValues(rows) })
	}
	s.insertCouponRows(p, q, args, coupons)
	return true
}

// insertCouponRows inserts into p, after its coupon inserts, the statement
// q updating every coupon of coupons, which must update exactly as many
// rows.
func (s *Store) insertCouponRows(p *Planned, q string, args []any, coupons []store.CouponUpdate) {
	at := len(p.c.NewCoupons)
	if at > 1 {
		at = len(s.rowPieces(at, changeRowsPerInsert))
	}
	p.Ops = slices.Insert(p.Ops, at, Op{Kind: OpExpectN, SQL: q, Args: args, want: int64(len(coupons)),
		fail: func() error { return &store.ConflictError{Kind: "coupon", ID: coupons[0].Coupon.ID} }})
}

// planCouponRowsUsual inserts into p, after its coupon inserts, one
// statement making the usual narrow update (updateCouponNarrow) of every
// coupon of coupons, which must update exactly as many rows: the updates
// of a merged group (merge.go) on a database with
// Statements.CouponUpdateUsual (SQLite). A coupon whose usual update
// matches nothing (a stale version, or an indexed column that changes)
// fails the merged change, whose group is then written change by change,
// each coupon the narrow way. It returns false when a value cannot be
// encoded.
//
//	WITH v (<usualUpdateCols>, expect, <usualUpdateIndexed>) AS (VALUES (...), ...)
//	UPDATE ck_coupons SET code = v.code, ..., state = v.state FROM v
//	WHERE ck_coupons.id = v.id AND ck_coupons.version = v.expect
//	AND ck_coupons.series_id = v.series_id AND ... AND ck_coupons.issue_key IS v.issue_key
func (s *Store) planCouponRowsUsual(p *Planned, coupons []store.CouponUpdate) bool {
	var e encoder
	args := make([]any, 0, len(coupons)*nUsualUpdateArgs)
	for i := range coupons {
		args = e.usualUpdateArgs(args, &coupons[i])
	}
	if e.err != nil {
		return false
	}
	rows := len(coupons)
	q := s.sqlText("couponrowsusual/"+itoa(int64(rows)), func() string {
		var b strings.Builder
		b.WriteString("WITH v (" + usualUpdateCols + ", expect, " + usualUpdateIndexed + ") AS (VALUES ")
		b.WriteString(s.placeholders(rows, nUsualUpdateArgs))
		cols := strings.Split(usualUpdateCols, ", ")
		set := make([]string, 0, len(cols)-1)
		for _, c := range cols[1:] {
			set = append(set, c+" = v."+c)
		}
		b.WriteString(") UPDATE ck_coupons SET " + strings.Join(set, ", ") +
			" FROM v WHERE ck_coupons.id = v.id AND ck_coupons.version = v.expect")
		for _, c := range strings.Split(usualUpdateIndexed, ", ") {
			// IS: expires_at and issue_key may be NULL, and match NULL.
			b.WriteString(" AND ck_coupons." + c + " IS v." + c)
		}
		return b.String()
	})
	s.insertCouponRows(p, q, args, coupons)
	return true
}

// couponValues is planCouponRows' statement of rows rows as a VALUES list.
func (s *Store) couponValues(rows int) string {
	casts := s.mergedCouponCasts()
	var b strings.Builder
	b.WriteString("WITH v (" + CouponCols + ", expect) AS (VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i, cast := range casts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.Param(1+r*len(casts)+i) + cast)
		}
		b.WriteByte(')')
	}
	b.WriteString(couponRowsSet())
	return b.String()
}

// couponRowsSet ends planCouponRows' statement after its rows v.
func couponRowsSet() string {
	cols := strings.Split(CouponCols, ", ")
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		set = append(set, c+" = v."+c)
	}
	return ") UPDATE ck_coupons c SET " + strings.Join(set, ", ") + " FROM v WHERE c.id = v.id AND c.version = v.expect"
}
