package sqlstore

import (
	"context"
	"database/sql"

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
//   - bumps: a change bumps each counter once (store.Change.Validate). A
//     bump of +k that a counter never bumped would pass is one row of a
//     guarded upsert, and the rows of bumps consecutive in lock order with
//     the same bounds are one statement (opBumps, planBumps). Other bumps
//     are a statement each, as before.

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

// classOf reports whether bump b can be one row of a multi-row upsert, and
// its class. It can when it adds k > 0 that a counter never bumped (no
// row; n = 0) would pass (store.Bump.Next): then the upsert's insert needs
// no check, and a stored counter passes exactly when it stands at
// n <= limit - k and was last bumped (if ever) no later than
// gapBound(gap, at), which is what store.Bump.Next asks of the k
// increments (only the first sees the stored last bump; a guard with a gap
// lets no k > 1 pass from zero).
func classOf(b *store.Bump) (bumpClass, bool) {
	if b.Delta <= 0 {
		return bumpClass{}, false
	}
	if _, err := b.Next(store.Count{}); err != nil {
		return bumpClass{}, false
	}
	return bumpClass{limit: limitBound(b.Guard.Limit), gap: gapBound(b.Guard.MinGap, b.At)}, true
}

// planBumps appends the statements of c's bumps, in lock order (bumpOrder).
// With multi, consecutive bumps of one class (classOf) are written by
// multi-row upserts, so that lock order is kept; a lone bump, and every
// bump without multi, is a statement of its own.
func (s *Store) planBumps(p *planned, e *encoder, multi bool) {
	c := p.c
	var run []int // bumps of one class, to be written together
	var cls bumpClass
	flush := func() {
		for _, n := range pieces(len(run), bumpRowsPerStmt) {
			if n == 1 {
				s.planBump(p, e, run[0])
			} else {
				s.planBumpRows(p, e, run[:n:n], cls)
			}
			run = run[n:]
		}
		run = nil
	}
	for _, i := range bumpOrder(c.Bumps) {
		k, ok := classOf(&c.Bumps[i])
		if !multi || !ok {
			flush()
			s.planBump(p, e, i)
			continue
		}
		if len(run) > 0 && k != cls {
			flush()
		}
		cls = k
		run = append(run, i)
	}
	flush()
}

// planBump appends the statement of the i-th bump of the change alone. An
// increment that no stored value passes (store.Bump.Next refuses it from
// zero) only reads the counter, for its *store.GuardError.
func (s *Store) planBump(p *planned, e *encoder, i int) {
	b := &p.c.Bumps[i]
	k := &b.Key
	key := counterKeyArgs(k)
	_, never := b.Next(store.Count{})
	switch {
	case b.Delta > 0 && never != nil:
		p.ops = append(p.ops, op{kind: opRefuse, sql: s.q.counterGet, bump: i, args: key})
	case b.Delta > 0:
		// k increments pass when the counter stays below the limit after
		// k-1 of them: n < limit - (k-1). (A guard with a gap lets no k > 1
		// pass from zero, so only a single increment meets the gap bound.)
		at := e.time("At", b.At)
		p.ops = append(p.ops, op{kind: opBump, sql: s.q.counterBump, bump: i,
			args: append(key, b.Delta, at, limitBound(b.Guard.Limit)-(b.Delta-1), gapBound(b.Guard.MinGap, b.At))})
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

// planBumpRows appends the multi-row upsert of bumps of class cls: one row
// per bump, its key, n its Delta and last its time, with the guard of the
// single-bump upsert (queries.go) written for k increments (classOf):
//
//	INSERT INTO ck_counters AS c (...) VALUES (<key>, k, at), ...
//	ON CONFLICT (<key>) DO UPDATE SET n = c.n + excluded.n, last = excluded.last
//	WHERE c.n <= $limit - excluded.n AND (c.last IS NULL OR c.last <= $gap)
//	RETURNING <key>, n, last
//
// A row the guard refuses is not returned.
func (s *Store) planBumpRows(p *planned, e *encoder, bumps []int, cls bumpClass) {
	c := p.c
	args := make([]any, 0, len(bumps)*nCounterCols+2)
	for _, i := range bumps {
		b := &c.Bumps[i]
		args = append(append(args, counterKeyArgs(&b.Key)...), b.Delta, e.time("At", b.At))
	}
	q, qargs := s.multiRow("ck_counters AS c", counterCols, nCounterCols, args, len(bumps))
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
	p.ops = append(p.ops, op{kind: opBumps, sql: q, args: append(qargs, cls.limit, cls.gap), bumps: bumps})
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
	got := make([]bumped, 0, len(o.bumps))
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
	if refused := settleBumps(p, o, got); refused >= 0 {
		return s.guardErr(ctx, x, p.c, refused)
	}
	return nil
}

// settleBumps sets the After of the bumps of an opBumps from the rows it
// returned, and returns the first bump (in lock order) whose row is
// missing, that is whose guard refused; -1 when none is.
func settleBumps(p *planned, o *op, got []bumped) int {
	next := 0 // rows come back in their order in practice; any order is handled
	for _, i := range o.bumps {
		k := &p.c.Bumps[i].Key
		var r *bumped
		if next < len(got) && got[next].is(k) {
			r = &got[next]
			next++
		} else {
			for j := range got {
				if got[j].is(k) {
					r = &got[j]
					break
				}
			}
		}
		if r == nil {
			return i
		}
		p.after[i] = store.Count{N: r.n, Last: fromNanos(r.last)}
	}
	return -1
}
