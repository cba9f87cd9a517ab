package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/couponkit/couponkit/store"
)

// Multi-row changes.
//
// A bulk issue batch is one change of thousands of coupons, as many events
// and twice as many bumps. One statement per row costs a round through
// database/sql and the driver each and, on SQLite, a statement journal
// opened and truncated each, inside a savepoint whose sub-journal grows
// with the change: the cost per statement grows with the change and with
// the database. So plan(c, true) writes the rows of a change with
// multi-row statements:
//
//   - new coupons, redemptions and events: multi-row INSERTs of up to
//     changeRowsPerInsert rows, in the change's order. A constraint
//     error (a duplicate, a missing series) fails the statement, not a
//     row: the change is undone and run again a row at a time (redoRows),
//     whose statements name the row as they always did.
//   - bumps: the bumps of one counter are consecutive in lock order (a
//     chain). A chain of +1 bumps with one guard and one time is one row
//     of a guarded upsert, and the rows of consecutive such chains with the
//     same bounds are one statement (opBumps, planBumps). Other bumps are a
//     statement each, as before.

// bumpRowsPerStmt bounds the rows of one multi-row counter upsert (seven
// parameters each).
const bumpRowsPerStmt = 512

// pieces splits n rows into statements of at most max rows each (max a
// power of two), every one a power of two, largest first: 1000 rows of at
// most 128 are 7 of 128, one of 64, one of 32 and one of 8. The statement
// text depends on its number of rows, and SQLite prepares and keeps each
// text (stmtCache): powers of two keep the texts a store meets few.
func pieces(n, max int) []int {
	var out []int
	for ; n >= max; n -= max {
		out = append(out, max)
	}
	for p := max / 2; p > 0; p /= 2 {
		if n&p != 0 {
			out = append(out, p)
		}
	}
	return out
}

// redoRows reports that a multi-row insert of a change broke a constraint:
// the change is undone, to be run again a row at a time. It never leaves
// Apply.
type redoRows struct{ err error }

func (r *redoRows) Error() string { return "sqlstore: a multi-row insert failed: " + r.err.Error() }

// redoOnConstraint maps the error of a multi-row insert: a constraint
// error asks for the change to be run again row by row; anything else is
// left to dbErr.
func redoOnConstraint(err error) error {
	if kind, _ := constraint(err); kind != noViolation {
		return &redoRows{err: err}
	}
	return nil
}

// changeRowsPerInsert bounds the rows of one multi-row INSERT of a change
// (19 columns at most: 2,432 parameters, well below both databases'
// limits).
const changeRowsPerInsert = 128

// planRows appends the multi-row INSERTs of args, rows of n columns one
// after the other, in pieces of at most changeRowsPerInsert rows.
func (s *Store) planRows(p *planned, table, cols string, n int, args []any) {
	from := 0
	for _, rows := range pieces(len(args)/n, changeRowsPerInsert) {
		to := from + rows
		q, qargs := s.multiRow(table, cols, n, args[from*n:to*n:to*n], rows)
		p.ops = append(p.ops, op{kind: opExec, sql: q, args: qargs, errf: redoOnConstraint})
		from = to
	}
}

// bumpClass is what one multi-row counter upsert checks beside each row's
// count: the limit (limitBound) and the latest last bump (gapBound).
type bumpClass struct {
	limit, gap int64
}

// chainClass reports whether the chain of bumps of one counter can be one
// row of a multi-row upsert, and its class. It can when every bump adds 1
// under the same guard at the same time, and either the chain is a single
// bump or its guard has no gap (the second bump would see the first's
// time, less than a gap ago), and the limit lets k bumps pass from zero.
//
// Such a chain of k bumps passes, bump after bump, exactly when the
// counter stands at n <= limit - k and was last bumped (if ever) no later
// than gapBound(gap, at): the first bump sees n, the last n + k - 1, which
// must stay below the limit, and only the first sees the stored last bump.
// A counter never bumped (no row; n = 0) always passes then, so the
// upsert's insert needs no check.
func chainClass(c *store.Change, chain []int) (bumpClass, bool) {
	first := &c.Bumps[chain[0]]
	for _, i := range chain {
		b := &c.Bumps[i]
		if b.Delta != 1 || b.Guard.Limit != first.Guard.Limit || b.Guard.MinGap != first.Guard.MinGap || !b.At.Equal(first.At) {
			return bumpClass{}, false
		}
	}
	k := int64(len(chain))
	if k > 1 && first.Guard.MinGap > 0 {
		return bumpClass{}, false
	}
	limit := limitBound(first.Guard.Limit)
	if limit < k {
		return bumpClass{}, false
	}
	return bumpClass{limit: limit, gap: gapBound(first.Guard.MinGap, first.At)}, true
}

// planBumps appends the statements of c's bumps, in lock order (bumpOrder).
// With multi, consecutive chains of one class (chainClass) are written by
// multi-row upserts, so that lock order is kept; a lone bump, and every
// bump without multi, is a statement of its own.
func (s *Store) planBumps(p *planned, e *encoder, multi bool) {
	c := p.c
	order := bumpOrder(c.Bumps)
	var run [][]int // chains of one class, to be written together
	var cls bumpClass
	flush := func() {
		for _, n := range pieces(len(run), bumpRowsPerStmt) {
			if n == 1 && len(run[0]) == 1 {
				s.planBump(p, e, run[0][0])
			} else {
				s.planBumpRows(p, e, run[:n:n], cls)
			}
			run = run[n:]
		}
		run = nil
	}
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && c.Bumps[order[j]].Key == c.Bumps[order[i]].Key {
			j++
		}
		chain := order[i:j:j]
		i = j
		k, ok := chainClass(c, chain)
		if !multi || !ok {
			flush()
			for _, b := range chain {
				s.planBump(p, e, b)
			}
			continue
		}
		if len(run) > 0 && k != cls {
			flush()
		}
		cls = k
		run = append(run, chain)
	}
	flush()
}

// planBump appends the statement of the i-th bump of the change alone.
func (s *Store) planBump(p *planned, e *encoder, i int) {
	b := &p.c.Bumps[i]
	k := &b.Key
	key := counterKeyArgs(k)
	switch {
	case b.Delta > 0:
		at := e.time("At", b.At)
		p.ops = append(p.ops, op{kind: opBump, sql: s.q.counterBump, bump: i,
			args: append(key, b.Delta, at, limitBound(b.Guard.Limit), gapBound(b.Guard.MinGap, b.At))})
	case b.Delta < 0 && b.Rewind != nil:
		r := b.Rewind
		p.ops = append(p.ops, op{kind: opUndo, sql: s.q.counterRewind, bump: i,
			args: append(key, b.Delta, r.Expect.N, e.time("Rewind.Expect.Last", r.Expect.Last), e.time("Rewind.Last", r.Last)),
			fail: func() error { return &store.ConflictError{Kind: "counter", ID: k.String()} }})
	case b.Delta < 0:
		p.ops = append(p.ops, op{kind: opUndo, sql: s.q.counterUndo, bump: i, args: append(key, b.Delta),
			fail: func() error { return &store.ConflictError{Kind: "counter", ID: k.String()} }})
	default:
		p.ops = append(p.ops, op{kind: opRead, sql: s.q.counterGet, bump: i, args: key})
	}
}

// counterCols are the columns of a counter row, and nCounterCols their
// number.
const (
	counterCols  = "counter, series_id, code, holder, customer, n, last"
	nCounterCols = 7
)

// planBumpRows appends the multi-row upsert of chains of class cls: one row
// per chain, its key, n the chain's length and last its time, with the
// guard of the single-bump upsert (queries.go) turned into the chain's
// condition (chainClass):
//
//	INSERT INTO ck_counters AS c (...) VALUES (<key>, k, at), ...
//	ON CONFLICT (<key>) DO UPDATE SET n = c.n + excluded.n, last = excluded.last
//	WHERE c.n <= $limit - excluded.n AND (c.last IS NULL OR c.last <= $gap)
//	RETURNING <key>, n, last
//
// A row the guard refuses is not returned.
func (s *Store) planBumpRows(p *planned, e *encoder, chains [][]int, cls bumpClass) {
	c := p.c
	args := make([]any, 0, len(chains)*nCounterCols+2)
	for _, ch := range chains {
		b := &c.Bumps[ch[0]]
		args = append(append(args, counterKeyArgs(&b.Key)...), int64(len(ch)), e.time("At", b.At))
	}
	q, qargs := s.multiRow("ck_counters AS c", counterCols, nCounterCols, args, len(chains))
	q = s.sqlText(q+"\x00bump", func() string {
		limit, gap := "?", "?" // the parameters after the rows'
		if s.d == Postgres {
			limit, gap = "$"+itoa(int64(len(qargs)+1)), "$"+itoa(int64(len(qargs)+2))
		}
		b := s.q.big
		return q + " ON CONFLICT (counter, series_id, code, holder, customer) DO UPDATE SET n = c.n + excluded.n, last = excluded.last " +
			"WHERE c.n <= " + limit + b + " - excluded.n AND (c.last IS NULL OR c.last <= " + gap + b + ") " +
			"RETURNING counter, series_id, code, holder, customer, n, last"
	})
	p.ops = append(p.ops, op{kind: opBumps, sql: q, args: append(qargs, cls.limit, cls.gap), chains: chains})
}

// bumped is a row an opBumps returned.
type bumped struct {
	counter                        int64
	series, code, holder, customer string
	n                              int64
	last                           sql.NullInt64
}

// is reports whether the row is the counter k's.
func (r *bumped) is(k *store.CounterKey) bool {
	return r.counter == int64(k.Counter) && r.series == keyText(k.Series) && r.code == keyText(k.Code) && r.holder == keyText(k.Holder) && r.customer == keyText(k.Customer)
}

// runBumps runs an opBumps on x and settles its rows.
func (s *Store) runBumps(ctx context.Context, x conn, p *planned, o *op) error {
	rows, err := x.query(ctx, o.sql, o.args...)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	got := make([]bumped, 0, len(o.chains))
	for rows.Next() {
		var r bumped
		if err := rows.Scan(&r.counter, &r.series, &r.code, &r.holder, &r.customer, &r.n, &r.last); err != nil {
			rows.Close()
			return s.dbErr(ctx, err)
		}
		got = append(got, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return s.dbErr(ctx, err)
	}
	if refused := settleBumps(p, o, got); refused != nil {
		return s.guardErr(ctx, x, p.c, refused)
	}
	return nil
}

// settleBumps sets the After of the bumps of an opBumps from the rows it
// returned, and returns the first chain (in lock order) whose row is
// missing, that is whose guard refused; nil when none is.
func settleBumps(p *planned, o *op, got []bumped) []int {
	next := 0 // rows come back in their order in practice; any order is handled
	for _, ch := range o.chains {
		k := &p.c.Bumps[ch[0]].Key
		var r *bumped
		if next < len(got) && got[next].is(k) {
			r = &got[next]
			next++
		} else {
			for i := range got {
				if got[i].is(k) {
					r = &got[i]
					break
				}
			}
		}
		if r == nil {
			return ch
		}
		n0 := r.n - int64(len(ch))
		last := fromNanos(r.last)
		for j, i := range ch {
			p.after[i] = store.Count{N: n0 + int64(j) + 1, Last: last}
		}
	}
	return nil
}

// chainGuardErr is the *store.GuardError of a refused chain of bumps of
// one counter (a single bump is a chain of one) when the counter stood at
// cur before it: the first bump of the chain whose guard refuses, with the
// value it saw, the earlier bumps of the chain included, as when each bump
// is a statement of its own. When no guard refuses on cur (the counter
// moved), the first bump's, with cur.
func chainGuardErr(c *store.Change, chain []int, cur store.Count) error {
	seen := cur
	for _, i := range chain {
		b := &c.Bumps[i]
		if b.Delta > 0 && !b.Guard.Check(seen.N, seen.Last, b.At) {
			return &store.GuardError{Key: b.Key, Guard: b.Guard, Count: seen}
		}
		seen.N += b.Delta
		if b.Delta > 0 {
			seen.Last = storedTime(b.At)
		}
	}
	b := &c.Bumps[chain[0]]
	return &store.GuardError{Key: b.Key, Guard: b.Guard, Count: cur}
}

// storedTime is t as the store reads it back: in UTC, to the nanosecond.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(0, t.UnixNano()).UTC()
}
