package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/coupon"
)

// rowsPerInsert is how many rows one multi-row INSERT carries; 19 columns
// each keeps it well below the parameter limits of both databases.
const rowsPerInsert = 100

// InsertCoupons implements store.Store. A batch is one transaction: a
// crash leaves it whole or absent, and running the batch again inserts
// what is missing and skips the rest, so a bulk job resumes without
// duplicates. It is written with multi-row statements (a dialect may write
// it its own way, as PostgreSQL does with COPY).
func (s *Store) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	if err := CheckCouponIDs(coupons); err != nil {
		return 0, err
	}
	if len(coupons) == 0 && len(events) == 0 {
		return 0, ctx.Err()
	}
	unique := UniqueIDs(coupons)
	var n int
	err := s.write(ctx, func(x conn) error {
		var err error
		if unique {
			n, err = s.insertRows(ctx, x, coupons, events)
		} else {
			n, err = s.insertOneByOne(ctx, x, coupons, events)
		}
		return err
	})
	return n, err
}

// CheckCouponIDs refuses a batch with a coupon without an id.
func CheckCouponIDs(coupons []coupon.Coupon) error {
	for i := range coupons {
		if coupons[i].ID == "" {
			return invalid("ID", "is empty")
		}
	}
	return nil
}

// UniqueIDs reports whether no two coupons of the batch share an id.
func UniqueIDs(coupons []coupon.Coupon) bool {
	ids := make(map[string]struct{}, len(coupons))
	for i := range coupons {
		if _, dup := ids[coupons[i].ID]; dup {
			return false
		}
		ids[coupons[i].ID] = struct{}{}
	}
	return true
}

// insertRows inserts a batch whose coupon ids are unique with multi-row
// statements: each chunk of coupons is one INSERT ... ON CONFLICT DO
// NOTHING. When a chunk skips some coupons, the ones it inserted are
// found (by RETURNING, or by the rowids above those the table had before
// the batch, cheaper than RETURNING on every chunk: Statements.MaxRowid),
// so that the events of the skipped ones can be left out.
func (s *Store) insertRows(ctx context.Context, x conn, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	var e encoder
	var before int64
	rowids := s.d.SQL.MaxRowid != ""
	if rowids && len(coupons) > 0 {
		if err := x.row(ctx, s.d.SQL.MaxRowid).Scan(&before); err != nil {
			return 0, s.dbErr(ctx, err)
		}
	}
	skipped := map[string]bool{}
	n := 0
	args := make([]any, 0, rowsPerInsert*nCouponCols)
	for from := 0; from < len(coupons); from += rowsPerInsert {
		chunk := coupons[from:min(from+rowsPerInsert, len(coupons))]
		args = args[:0]
		for i := range chunk {
			args = e.couponArgs(args, &chunk[i])
		}
		if e.err != nil {
			return 0, e.err
		}
		q, qargs := s.multiRow("ck_coupons", CouponCols, nCouponCols, args, len(chunk))
		var in map[string]bool // the chunk's coupons inserted, when some were skipped
		if !rowids {
			ids, err := s.ids(ctx, x, q+onConflictSkip+returningID, qargs...)
			if err != nil {
				return 0, err
			}
			n += len(ids)
			if len(ids) < len(chunk) {
				in = ids
			}
		} else {
			res, err := x.exec(ctx, q+onConflictSkip, qargs...)
			if err != nil {
				return 0, BulkErr(ctx, s, err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return 0, s.dbErr(ctx, err)
			}
			n += int(k)
			if int(k) < len(chunk) {
				ids := make([]string, len(chunk))
				for i := range chunk {
					ids[i] = chunk[i].ID
				}
				if in, err = s.ids(ctx, x, s.d.SQL.CouponsAfterRowid, before, s.d.TextList(ids)); err != nil {
					return 0, err
				}
			}
		}
		if in != nil {
			for i := range chunk {
				if !in[chunk[i].ID] {
					skipped[chunk[i].ID] = true
				}
			}
		}
	}
	if len(skipped) > 0 {
		keep := make([]coupon.Event, 0, len(events))
		for i := range events {
			if !skipped[events[i].CouponID] {
				keep = append(keep, events[i])
			}
		}
		events = keep
	}
	return n, s.insertEvents(ctx, x, events)
}

// ids runs a query returning coupon ids and returns them as a set.
func (s *Store) ids(ctx context.Context, x conn, q string, args ...any) (map[string]bool, error) {
	rows, err := x.query(ctx, q, args...)
	if err != nil {
		return nil, BulkErr(ctx, s, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.dbErr(ctx, err)
		}
		out[id] = true
	}
	return out, BulkErr(ctx, s, rows.Err())
}

// insertOneByOne inserts a batch in which some coupons share an id, one
// coupon at a time in batch order: the first of a shared id wins, and an
// event is left out when its coupon id was skipped and never inserted.
func (s *Store) insertOneByOne(ctx context.Context, x conn, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	var e encoder
	skipped, inserted := map[string]bool{}, map[string]bool{}
	for i := range coupons {
		c := &coupons[i]
		args := e.couponArgs(nil, c)
		if e.err != nil {
			return 0, e.err
		}
		res, err := x.exec(ctx, couponInsertOrSkip, args...)
		if err != nil {
			return 0, BulkErr(ctx, s, err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return 0, s.dbErr(ctx, err)
		} else if k == 1 {
			inserted[c.ID] = true
		} else {
			skipped[c.ID] = true
		}
	}
	keep := make([]coupon.Event, 0, len(events))
	for i := range events {
		if id := events[i].CouponID; !skipped[id] || inserted[id] {
			keep = append(keep, events[i])
		}
	}
	return len(inserted), s.insertEvents(ctx, x, keep)
}

// insertEvents inserts events with multi-row statements, in order.
func (s *Store) insertEvents(ctx context.Context, x conn, events []coupon.Event) error {
	var e encoder
	args := make([]any, 0, rowsPerInsert*nEventCols)
	for from := 0; from < len(events); from += rowsPerInsert {
		chunk := events[from:min(from+rowsPerInsert, len(events))]
		args = args[:0]
		for i := range chunk {
			args = e.eventArgs(args, &chunk[i])
		}
		if e.err != nil {
			return e.err
		}
		q, qargs := s.multiRow("ck_events", EventCols, nEventCols, args, len(chunk))
		if _, err := x.exec(ctx, q, qargs...); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}

// multiRow returns an INSERT of rows rows of n columns each (args holds
// them one row after the other). With Dialect.BindShared, when some
// columns have one value in all rows, as most have in a generated,
// uploaded or issued batch (the series, the state, the times, the actor),
// those values are bound once and only the columns that vary are bound per
// row:
//
//	INSERT INTO t (cols) SELECT column1, ?, column2, ... FROM (VALUES (?, ?), ...) WHERE true
//
// which binds a few parameters per row instead of all (SQLite inserts the
// rows of the VALUES in their order, and numbers their columns column1,
// column2, ...). Otherwise it is a plain multi-row VALUES.
func (s *Store) multiRow(table, cols string, n int, args []any, rows int) (string, []any) {
	plain := func() string {
		return s.sqlText(table+"/plain/"+itoa(int64(rows)), func() string {
			return "INSERT INTO " + table + " (" + cols + ") VALUES " + s.placeholders(rows, n)
		})
	}
	if s.d.UnnestRows && rows >= 2 {
		if arrays, casts, ok := unnestRows(args, n, rows); ok {
			return s.sqlText(table+"/unnest/"+strings.Join(casts, ""), func() string {
				return "INSERT INTO " + table + " (" + cols + ") " + s.unnestSelect(casts, 1)
			}), arrays
		}
	}
	if !s.d.BindShared || rows < 2 || n > 64 {
		return plain(), args
	}
	vary, nVary := varying(args, n, rows)
	if nVary == 0 || nVary == n {
		return plain(), args
	}
	out := bindShared(args, n, rows, vary, nVary, rows, false)
	q := s.sqlText(table+"/const/"+itoa(int64(rows))+"/"+strconv.FormatUint(vary, 16), func() string {
		return "INSERT INTO " + table + " (" + cols + ") SELECT " + sharedSelect(n, vary) + " FROM (VALUES " +
			s.placeholders(rows, nVary) + ") WHERE true"
	})
	return q, out
}

// varying returns the columns of args (rows rows of n columns, n at most
// 64) whose value differs between rows, as bits, and their number.
func varying(args []any, n, rows int) (vary uint64, nVary int) {
	for c := range n {
		for r := 1; r < rows; r++ {
			if args[r*n+c] != args[c] {
				vary |= 1 << c
				nVary++
				break
			}
		}
	}
	return vary, nVary
}

// bindShared returns the parameters of an INSERT ... SELECT of args
// (rows rows of n columns) whose columns vary (nVary of them) are the
// VALUES' and the others bound once: first those, from the first row,
// then the varying columns of each row, and of size - rows padding rows
// all NULL. With flag, each row's end with a flag: 1 for a row of args,
// NULL for padding (see changeRows).
func bindShared(args []any, n, rows int, vary uint64, nVary, size int, flag bool) []any {
	out := make([]any, 0, n-nVary+size*(nVary+1))
	for c := range n {
		if vary&(1<<c) == 0 {
			out = append(out, args[c])
		}
	}
	for r := range size {
		for c := range n {
			if vary&(1<<c) == 0 {
				continue
			}
			var v any
			if r < rows {
				v = args[r*n+c]
			}
			out = append(out, v)
		}
		switch {
		case flag && r < rows:
			out = append(out, int64(1))
		case flag:
			out = append(out, nil)
		}
	}
	return out
}

// sharedSelect is the select list of an INSERT ... SELECT of n columns
// from a VALUES of the columns vary names: column1, column2, ... for
// those, in order, a parameter for each of the others.
func sharedSelect(n int, vary uint64) string {
	var sel strings.Builder
	k := 0
	for c := range n {
		if c > 0 {
			sel.WriteString(", ")
		}
		if vary&(1<<c) != 0 {
			k++
			sel.WriteString("column" + itoa(int64(k)))
		} else {
			sel.WriteByte('?')
		}
	}
	return sel.String()
}

// sqlText returns the statement text built by build, kept by key so that
// the long texts of the bulk statements are built once.
func (s *Store) sqlText(key string, build func() string) string {
	if v, ok := s.texts.Load(key); ok {
		return v.(string)
	}
	q := build()
	s.texts.Store(key, q)
	return q
}

// audienceChunk bounds the customers one statement adds.
const audienceChunk = 10000

// AddAudience implements store.Store, with one statement per 10,000
// customers in one transaction.
func (s *Store) AddAudience(ctx context.Context, seriesID string, customers []string) error {
	if len(customers) == 0 {
		return ctx.Err()
	}
	return s.write(ctx, func(x conn) error {
		for from := 0; from < len(customers); from += audienceChunk {
			chunk := customers[from:min(from+audienceChunk, len(customers))]
			if _, err := x.exec(ctx, s.d.SQL.AddAudience, seriesID, s.d.TextList(chunk)); err != nil {
				return s.dbErr(ctx, err)
			}
		}
		return nil
	})
}

// NextIndex implements store.Store.
func (s *Store) NextIndex(ctx context.Context, seriesID string) (int64, error) {
	var next int64
	err := s.reader().row(ctx, seqGet, seriesID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // never advanced
	}
	if err != nil {
		return 0, s.dbErr(ctx, err)
	}
	return next, nil
}
