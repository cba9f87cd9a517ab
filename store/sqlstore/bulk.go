package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// rowsPerInsert is how many rows one multi-row INSERT carries; 19 columns
// each keeps it well below the parameter limits of both databases.
const rowsPerInsert = 100

// InsertCoupons implements store.Store. A batch is one transaction (on
// PostgreSQL, a large batch is two, one per half, written at once): a
// crash leaves it whole or absent, and running the batch again inserts
// what is missing and skips the rest, so a bulk job resumes without
// duplicates. See the package documentation for how each dialect writes
// it.
func (s *Store) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	for i := range coupons {
		if coupons[i].ID == "" {
			return 0, invalid("ID", "is empty")
		}
	}
	if len(coupons) == 0 && len(events) == 0 {
		return 0, ctx.Err()
	}
	unique := uniqueIDs(coupons)
	if s.d == Postgres && s.tx == nil {
		return s.copyCoupons(ctx, coupons, events, unique)
	}
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

// uniqueIDs reports whether no two coupons of the batch share an id.
func uniqueIDs(coupons []coupon.Coupon) bool {
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
// found (PostgreSQL: RETURNING; SQLite: the rowids above those the table
// had before the batch, cheaper than RETURNING on every chunk), so that
// the events of the skipped ones can be left out.
func (s *Store) insertRows(ctx context.Context, x conn, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	var e encoder
	var before int64
	if s.d == SQLite && len(coupons) > 0 {
		if err := x.row(ctx, "SELECT coalesce(max(rowid), 0) FROM ck_coupons").Scan(&before); err != nil {
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
		q, qargs := s.multiRow("ck_coupons", couponCols, nCouponCols, args, len(chunk))
		var in map[string]bool // the chunk's coupons inserted, when some were skipped
		if s.d == Postgres {
			ids, err := s.ids(ctx, x, q+" ON CONFLICT DO NOTHING RETURNING id", qargs...)
			if err != nil {
				return 0, err
			}
			n += len(ids)
			if len(ids) < len(chunk) {
				in = ids
			}
		} else {
			res, err := x.exec(ctx, q+" ON CONFLICT DO NOTHING", qargs...)
			if err != nil {
				return 0, s.bulkErr(ctx, err)
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
				if in, err = s.ids(ctx, x, "SELECT id FROM ck_coupons WHERE rowid > $1 AND id IN (SELECT value FROM json_each($2))",
					before, jsonStrings(ids)); err != nil {
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
		return nil, s.bulkErr(ctx, err)
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
	return out, s.bulkErr(ctx, rows.Err())
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
		res, err := x.exec(ctx, s.q.couponInsert+" ON CONFLICT DO NOTHING", args...)
		if err != nil {
			return 0, s.bulkErr(ctx, err)
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
		q, qargs := s.multiRow("ck_events", eventCols, nEventCols, args, len(chunk))
		if _, err := x.exec(ctx, q, qargs...); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}

// multiRow returns an INSERT of rows rows of n columns each (args holds
// them one row after the other). On SQLite, when some columns have one
// value in all rows, as most have in a generated, uploaded or issued batch
// (the series, the state, the times, the actor), those values are bound
// once and only the columns that vary are bound per row:
//
//	INSERT INTO t (cols) SELECT column1, ?, column2, ... FROM (VALUES (?, ?), ...) WHERE true
//
// which binds a few parameters per row instead of all. SQLite inserts the
// rows of the VALUES in their order. Otherwise, and on PostgreSQL, it is a
// plain multi-row VALUES.
func (s *Store) multiRow(table, cols string, n int, args []any, rows int) (string, []any) {
	plain := func() string {
		return s.sqlText(table+"/plain/"+itoa(int64(rows)), func() string {
			return "INSERT INTO " + table + " (" + cols + ") VALUES " + rowsPlaceholders(s.d, rows, n)
		})
	}
	if s.d != SQLite || rows < 2 || n > 64 {
		return plain(), args
	}
	var vary uint64 // bit c: column c differs between rows
	nVary := 0
	for c := range n {
		for r := 1; r < rows; r++ {
			if args[r*n+c] != args[c] {
				vary |= 1 << c
				nVary++
				break
			}
		}
	}
	if nVary == 0 || nVary == n {
		return plain(), args
	}
	out := make([]any, 0, n-nVary+rows*nVary)
	for c := range n {
		if vary&(1<<c) == 0 {
			out = append(out, args[c])
		}
	}
	for r := range rows {
		for c := range n {
			if vary&(1<<c) != 0 {
				out = append(out, args[r*n+c])
			}
		}
	}
	q := s.sqlText(table+"/const/"+itoa(int64(rows))+"/"+strconv.FormatUint(vary, 16), func() string {
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
		return "INSERT INTO " + table + " (" + cols + ") SELECT " + sel.String() + " FROM (VALUES " +
			rowsPlaceholders(SQLite, rows, nVary) + ") WHERE true"
	})
	return q, out
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

// bulkErr maps an error of a bulk coupon insert.
func (s *Store) bulkErr(ctx context.Context, err error) error {
	switch kind, name := constraint(err); kind {
	case foreignKeyViolation:
		return &errcode.Error{Code: errcode.NotFound, Field: "SeriesID", Message: "a coupon names a series that does not exist", Err: err}
	case uniqueViolation:
		if strings.Contains(name, "events") {
			return &store.ExistsError{Kind: "event", Key: name}
		}
	}
	return s.dbErr(ctx, err)
}

// UpdateWhere implements store.Store. It is one set-based statement (two
// on SQLite, whose UPDATE ... RETURNING cannot feed an INSERT) in one
// transaction: the coupons are picked by id, locked, updated and their
// events inserted together.
func (s *Store) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	if !u.To.Valid() {
		return nil, invalid("To", "invalid state "+u.To.String())
	}
	var e encoder
	at := e.time("At", u.At)
	evAt := e.time("Event.At", u.Event.At)
	if e.err != nil {
		return nil, e.err
	}
	var w where
	s.couponFilter(&w, &f)
	pick := "SELECT id FROM ck_coupons" + w.sql() + " ORDER BY id"
	if u.Limit > 0 {
		pick += " LIMIT " + w.arg(int64(u.Limit))
	}
	to := w.arg(int64(u.To))
	set := "state = " + to + ", version = version + 1, last_status_change = CASE WHEN state <> " + to +
		" THEN " + w.arg(at) + s.q.big + " ELSE last_status_change END"
	ev := u.Event
	// The event columns but id, coupon_id, series_id, code and customer,
	// which come from the coupon.
	t := s.q.text
	tmpl := w.arg(int64(ev.Kind)) + s.q.small + ", " + w.arg(ev.Actor) + t + ", " + w.arg(evAt) + s.q.big + ", " +
		w.arg(ev.Reason) + t + ", " + w.arg(ev.Counterparty) + t + ", " + w.arg(ev.RedemptionID) + t + ", " +
		w.arg(ev.OldCode) + t + ", " + w.arg(ev.NewCode) + t + ", " + w.arg(ev.NewCouponID) + t + ", " +
		w.arg(ev.Notify) + s.q.boolean
	prefix := w.arg(u.EventIDPrefix) + t
	const evCols = "id, coupon_id, series_id, code, customer, kind, actor, happened_at, reason, counterparty, " +
		"redemption_id, old_code, new_code, new_coupon_id, notify"
	var out []coupon.Coupon
	err := s.write(ctx, func(x conn) error {
		out = out[:0]
		var err error
		if s.d == Postgres {
			q := "WITH picked AS (" + pick + " FOR UPDATE), " +
				"upd AS (UPDATE ck_coupons c SET " + set + " FROM picked WHERE c.id = picked.id RETURNING " + prefixed("c.", couponCols) + "), " +
				"ev AS (INSERT INTO ck_events (" + evCols + ") SELECT " + prefix + " || id, id, series_id, code, holder, " + tmpl +
				" FROM upd ORDER BY id) SELECT " + couponCols + " FROM upd ORDER BY id"
			out, err = s.coupons(ctx, x, q, w.args...)
			return s.updateErr(ctx, err)
		}
		q := "UPDATE ck_coupons SET " + set + " WHERE id IN (" + pick + ") RETURNING " + couponCols
		if out, err = s.coupons(ctx, x, q, w.args...); err != nil || len(out) == 0 {
			return err
		}
		slices.SortFunc(out, func(a, b coupon.Coupon) int { return strings.Compare(a.ID, b.ID) })
		ids := make([]string, len(out))
		for i := range out {
			ids[i] = out[i].ID
		}
		// The template's placeholders are numbered after the filter's; the
		// ids take the next one.
		args := append(slices.Clone(w.args), jsonStrings(ids))
		q = "INSERT INTO ck_events (" + evCols + ") SELECT " + prefix + " || id, id, series_id, code, holder, " + tmpl +
			" FROM ck_coupons WHERE id IN (SELECT value FROM json_each($" + itoa(int64(len(args))) + ")) ORDER BY id"
		_, err = x.exec(ctx, q, args...)
		return s.updateErr(ctx, err)
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (s *Store) updateErr(ctx context.Context, err error) error {
	if kind, _ := constraint(err); kind == uniqueViolation {
		return &store.ExistsError{Kind: "event", Key: "an event id of the update"}
	}
	return s.dbErr(ctx, err)
}

// prefixed qualifies each column of a column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// audienceChunk bounds the customers one statement adds.
const audienceChunk = 10000

// AddAudience implements store.Store, with one statement per 10,000
// customers in one transaction.
func (s *Store) AddAudience(ctx context.Context, seriesID string, customers []string) error {
	if len(customers) == 0 {
		return ctx.Err()
	}
	q := "INSERT INTO ck_audience (series_id, customer) SELECT $1, value FROM json_each($2) WHERE true ON CONFLICT DO NOTHING"
	if s.d == Postgres {
		q = "INSERT INTO ck_audience (series_id, customer) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING"
	}
	return s.write(ctx, func(x conn) error {
		for from := 0; from < len(customers); from += audienceChunk {
			chunk := customers[from:min(from+audienceChunk, len(customers))]
			var arg any = chunk
			if s.d == SQLite {
				arg = jsonStrings(chunk)
			}
			if _, err := x.exec(ctx, q, seriesID, arg); err != nil {
				return s.dbErr(ctx, err)
			}
		}
		return nil
	})
}

// NextIndex implements store.Store.
func (s *Store) NextIndex(ctx context.Context, seriesID string) (int64, error) {
	var next int64
	err := s.reader().row(ctx, s.q.seqGet, seriesID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // never advanced
	}
	if err != nil {
		return 0, s.dbErr(ctx, err)
	}
	return next, nil
}
