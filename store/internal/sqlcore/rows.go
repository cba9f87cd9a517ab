package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/couponkit/couponkit/limits"

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
// the change is undone, to be run again a row at a time (ApplyRowByRow).
// It never leaves Apply.
type redoRows struct{ err error }

func (r *redoRows) Error() string { return "a multi-row insert failed: " + r.err.Error() }

// IsRedo reports whether err asks for the change to be run again a row at
// a time (RedoOnConstraint).
func IsRedo(err error) bool {
	var r *redoRows
	return errors.As(err, &r)
}

// RedoOnConstraint maps the error of a multi-row insert: a constraint
// error asks for the change to be run again row by row (IsRedo); anything
// else gives nil, for dbErr.
func RedoOnConstraint(s *Store, err error) error {
	if kind, _ := s.constraint(err); kind != NoViolation {
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
func (s *Store) planRows(p *Planned, table, cols string, n int, args []any) {
	from := 0
	for _, rows := range s.rowPieces(len(args)/n, changeRowsPerInsert) {
		to := from + rows
		q, qargs := s.changeRows(table, cols, n, args[from*n:to*n:to*n], rows)
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: q, Args: qargs, errf: func(err error) error { return RedoOnConstraint(s, err) }})
		from = to
	}
}

// rowPieces splits n rows into the statements of a multi-row plan: in
// pieces of at most max (see pieces); where rows are sent as arrays
// (Dialect.UnnestRows), in one; where they are padded (Dialect.PadRows),
// in statements of max rows and one of the rest (chunks).
func (s *Store) rowPieces(n, max int) []int {
	switch {
	case s.d.UnnestRows && n > 0:
		return []int{n}
	case s.d.PadRows:
		return chunks(n, max)
	}
	return pieces(n, max)
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
func (s *Store) planBumps(p *Planned, e *encoder, multi bool) {
	c := p.c
	var run []int // bumps of one class, to be written together
	var cls bumpClass
	flush := func() {
		for _, n := range s.rowPieces(len(run), bumpRowsPerStmt) {
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
func (s *Store) planBump(p *Planned, e *encoder, i int) {
	b := &p.c.Bumps[i]
	k := &b.Key
	key := CounterKeyArgs(k)
	_, never := b.Next(store.Count{})
	switch {
	case b.Delta > 0 && never != nil:
		p.Ops = append(p.Ops, Op{Kind: OpRefuse, SQL: CounterGet, Bump: i, Args: key})
	case b.Delta > 0:
		// k increments pass when the counter stays below the limit after
		// k-1 of them: n < limit - (k-1). (A guard with a gap lets no k > 1
		// pass from zero, so only a single increment meets the gap bound.)
		at := e.time("At", b.At)
		p.Ops = append(p.Ops, Op{Kind: OpBump, SQL: s.d.SQL.CounterBump, Bump: i,
			Args: append(key, b.Delta, at, limitBound(b.Guard.Limit)-(b.Delta-1), gapBound(b.Guard.MinGap, b.At))})
	case b.Delta < 0 && b.Rewind != nil:
		r := b.Rewind
		p.Ops = append(p.Ops, Op{Kind: OpUndo, SQL: s.d.SQL.CounterRewind, Bump: i,
			Args: append(key, b.Delta, r.Expect.N, e.time("Rewind.Expect.Last", r.Expect.Last), e.time("Rewind.Last", r.Last)),
			fail: func() error { return &store.ConflictError{Kind: "counter", ID: k.String()} }})
	case b.Delta < 0:
		p.Ops = append(p.Ops, Op{Kind: OpUndo, SQL: s.d.SQL.CounterUndo, Bump: i, Args: append(key, b.Delta),
			fail: func() error { return &store.ConflictError{Kind: "counter", ID: k.String()} }})
	default:
		p.Ops = append(p.Ops, Op{Kind: OpRead, SQL: CounterGet, Bump: i, Args: key})
	}
}

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
func (s *Store) planBumpRows(p *Planned, e *encoder, bumps []int, cls bumpClass) {
	c := p.c
	args := make([]any, 0, len(bumps)*nCounterCols+2)
	for _, i := range bumps {
		b := &c.Bumps[i]
		args = append(append(args, CounterKeyArgs(&b.Key)...), b.Delta, e.time("At", b.At))
	}
	q, qargs := s.changeRows("ck_counters AS c", counterCols, nCounterCols, args, len(bumps))
	q = s.sqlText(q+"\x00bump", func() string {
		// The limit and the gap are the parameters after the rows'.
		return q + fmt.Sprintf(bumpRowsUpsert, s.d.Param(len(qargs)+1), s.d.Param(len(qargs)+2), s.d.SQL.Big)
	})
	p.Ops = append(p.Ops, Op{Kind: OpBumps, SQL: q, Args: append(qargs, cls.limit, cls.gap), Bumps: bumps})
}

// bumpRowsUpsert ends the multi-row counter upsert of planBumpRows after
// its rows: the guard of a bump of k (excluded.n) for each row, with %[1]s
// the parameter of the limit, %[2]s that of the latest allowed last bump,
// and %[3]s the dialect's cast to a big integer.
const bumpRowsUpsert = " ON CONFLICT (counter, series_id, code, holder, customer) DO UPDATE SET " +
	"n = c.n + excluded.n, last = excluded.last " +
	"WHERE c.n <= %[1]s%[3]s - excluded.n AND (c.last IS NULL OR c.last <= %[2]s%[3]s) " +
	"RETURNING counter, series_id, code, holder, customer, n, last"

// Bumped is a row an OpBumps returned: Scan reads it.
type Bumped struct {
	counter                        int64
	series, code, holder, customer string
	n                              int64
	last                           sql.NullInt64
}

// Scan reads the row from sc (*sql.Rows, pgx.Rows).
func (r *Bumped) Scan(sc interface{ Scan(...any) error }) error {
	return sc.Scan(&r.counter, &r.series, &r.code, &r.holder, &r.customer, &r.n, &r.last)
}

// is reports whether the row is the counter k's.
func (r *Bumped) is(k *store.CounterKey) bool {
	return r.counter == int64(k.Counter) && r.series == KeyText(k.Series) && r.code == KeyText(k.Code) &&
		r.holder == KeyText(k.Holder) && r.customer == KeyText(k.Customer)
}

// runBumps runs an OpBumps on x and settles its rows.
func (s *Store) runBumps(ctx context.Context, x conn, p *Planned, o *Op) error {
	rows, err := x.query(ctx, o.SQL, o.Args...)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	got := make([]Bumped, 0, len(o.Bumps))
	for rows.Next() {
		var r Bumped
		if err := r.Scan(rows); err != nil {
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
	if refused := SettleBumps(p, o, got); refused >= 0 {
		return s.guardErr(ctx, x, p.c, refused)
	}
	return nil
}

// SettleBumps sets the After of the bumps of an OpBumps from the rows it
// returned, and returns the first bump (in lock order) whose row is
// missing, that is whose guard refused; -1 when none is.
func SettleBumps(p *Planned, o *Op, got []Bumped) int {
	next := 0 // rows come back in their order in practice; any order is handled
	for _, i := range o.Bumps {
		k := &p.c.Bumps[i].Key
		var r *Bumped
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
		p.after[i] = store.Count{N: r.n, Last: FromNanos(r.last)}
	}
	return -1
}

// limitBound is the value a counter must stay below for a bump under l.
func limitBound(l limits.Limit) int64 {
	if l <= limits.NoLimit {
		return math.MaxInt64
	}
	return int64(l)
}

// gapBound is the latest last-bump time (Unix nanoseconds) that lets a bump
// at at pass a minimum gap of gap: at - gap, saturating; no bound without a
// gap.
func gapBound(gap time.Duration, at time.Time) int64 {
	if gap <= 0 {
		return math.MaxInt64
	}
	t := nanos(at)
	if t < math.MinInt64+int64(gap) {
		return math.MinInt64
	}
	return t - int64(gap)
}

// placeholders returns rows groups of n parameters, numbered from 1 in
// order: "($1, $2), ($3, $4)", or on a database whose parameters are not
// numbered "(?, ?), (?, ?)".
func (s *Store) placeholders(rows, n int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.Param(1 + r*n + i))
		}
		b.WriteByte(')')
	}
	return b.String()
}
