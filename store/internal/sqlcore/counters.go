package sqlcore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/couponkit/couponkit/store"
)

// CounterKeyMatch joins a list of keys k to the counters c on their
// primary key: a dialect's Statements.CountersByKeys uses it.
const CounterKeyMatch = "c.counter = k.counter AND c.series_id = k.series_id AND c.code = k.code AND " +
	"c.holder = k.holder AND c.customer = k.customer"

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
			args = append(args, CounterKeyArgs(k)...)
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
			out[from+int(i)] = store.Count{N: n, Last: FromNanos(last)}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}

// counterReadChunk bounds the keys of one readManyCounters statement of
// VALUES (six parameters each).
const counterReadChunk = 512

// readManyCounters reads keys into out (already zeroed) with one statement
// that joins the keys to the counters' primary key: the keys as arrays
// (Statements.CountersByKeys), or as a VALUES list of a power-of-two
// number of rows (the last key repeated to fill it, which reads it twice)
// so that a few statement texts serve every batch.
func (s *Store) readManyCounters(ctx context.Context, c conn, keys []store.CounterKey, out []store.Count) error {
	if q := s.d.SQL.CountersByKeys; q != "" {
		is := make([]int64, len(keys))
		counters := make([]int64, len(keys))
		parts := make([][]string, 4)
		for p := range parts {
			parts[p] = make([]string, len(keys))
		}
		for i := range keys {
			k := &keys[i]
			is[i], counters[i] = int64(i), int64(k.Counter)
			parts[0][i], parts[1][i], parts[2][i], parts[3][i] = KeyText(k.Series), KeyText(k.Code), KeyText(k.Holder), KeyText(k.Customer)
		}
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
			args = append(args, int64(min(i, to-from-1)), int64(k.Counter), KeyText(k.Series), KeyText(k.Code), KeyText(k.Holder), KeyText(k.Customer))
		}
		q := s.sqlText("counters/"+itoa(int64(rows)), func() string {
			// CROSS JOIN keeps the keys the outer loop: one primary-key
			// lookup per key.
			return "WITH k (i, counter, series_id, code, holder, customer) AS (VALUES " + s.placeholders(rows, 6) + ") " +
				"SELECT k.i, c.n, c.last FROM k CROSS JOIN ck_counters c WHERE " + CounterKeyMatch
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
		out[from+int(i)] = store.Count{N: n, Last: FromNanos(last)}
	}
	return s.dbErr(ctx, rows.Err())
}
