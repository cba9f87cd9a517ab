package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Apply implements store.Store. It writes c in one transaction, in the
// order series, coupon inserts, coupon updates, redemption inserts,
// redemption updates, audience updates, events and, last, the counter bumps, so that the
// row locks of hot counters are held only from their guarded statement to
// the commit. The bumps run in a stable order of their keys (series-wide
// counters last), the same in every transaction, so that two changes never
// wait for each other's counters in a cycle.
//
// Concurrent calls are committed in groups (see the package
// documentation): each change runs under a savepoint of a shared
// transaction and is undone alone when it fails; Apply returns once the
// group's transaction is committed.
//
// The rows of a large change are written with multi-row statements (see
// rows.go), with the outcome of one statement per row.
//
// On PostgreSQL, a large change that only inserts coupons and events (and
// may advance a code sequence), as Generate's batches do, is written with
// COPY instead (see applyCopy).
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if c == nil {
		return invalid("Change", "is nil")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if s.copyShaped(c) {
		return s.applyCopy(ctx, c)
	}
	return s.apply(ctx, c, true)
}

// apply is Apply, with multi-row statements or (multi false) one statement
// per row and per bump.
func (s *Store) apply(ctx context.Context, c *store.Change, multi bool) error {
	if err := checkIDs(c); err != nil {
		return err
	}
	p, err := s.plan(c, multi)
	if err != nil {
		return err
	}
	err = s.run(ctx, p)
	var redo *redoRows
	if errors.As(err, &redo) {
		// A multi-row insert broke a constraint and the change was undone:
		// run it again a row at a time, so that the error names the row
		// exactly as it would have without multi-row statements.
		if p, err = s.plan(c, false); err != nil {
			return err
		}
		err = s.run(ctx, p)
	}
	if err != nil {
		var ge *store.GuardError
		if errors.As(err, &ge) && len(c.Bumps) > 1 {
			return s.firstGuardFailure(ctx, c, ge)
		}
		return err
	}
	for i := range c.Bumps {
		c.Bumps[i].After = p.after[i]
	}
	return nil
}

// run writes a planned change: in the caller's transaction (WithTx), or
// queued for group commit.
func (s *Store) run(ctx context.Context, p *planned) error {
	if s.tx != nil {
		return s.write(ctx, func(x conn) error { return s.runSeq(ctx, x, p) })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.applyGrouped(ctx, p)
}

func checkIDs(c *store.Change) error {
	if c.Series != nil && c.Series.Series.ID == "" {
		return invalid("Series.ID", "is empty")
	}
	for i := range c.NewCoupons {
		if c.NewCoupons[i].ID == "" {
			return invalid("NewCoupons.ID", "is empty")
		}
	}
	for i := range c.NewRedemptions {
		if c.NewRedemptions[i].ID == "" {
			return invalid("NewRedemptions.ID", "is empty")
		}
	}
	return checkAudienceIDs(c)
}

// bumpOrder returns the indexes of bumps in lock order: by series, then
// with the series-wide counters (the hottest rows) last, then by counter,
// code, holder and customer. A change bumps each counter once, so the
// order is total.
func bumpOrder(bumps []store.Bump) []int {
	order := make([]int, len(bumps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &bumps[i].Key, &bumps[j].Key
		return cmp.Or(
			strings.Compare(a.Series, b.Series),
			cmp.Compare(seriesWide(a), seriesWide(b)),
			cmp.Compare(a.Counter, b.Counter),
			strings.Compare(a.Code, b.Code),
			strings.Compare(a.Holder, b.Holder),
			strings.Compare(a.Customer, b.Customer),
		)
	})
	return order
}

func seriesWide(k *store.CounterKey) int {
	if k.Code == "" && k.Holder == "" && k.Customer == "" {
		return 1
	}
	return 0
}

// opKind says how a statement's outcome is checked.
type opKind uint8

const (
	opExec         opKind = iota // any outcome but an error
	opExpectOne                  // exactly one row affected, else fail()
	opExpectN                    // exactly want rows affected, else fail()
	opBump                       // RETURNING n, last; no row: the guard refused
	opUndo                       // RETURNING n, last; no row: fail()
	opRead                       // n, last of a counter; no row: zero
	opCouponSQLite               // a coupon update, SQLite's way (updateCouponSQLite)
	opBumps                      // a multi-row guarded upsert of counters (planBumps); a row missing from its RETURNING: the guard refused
	opRefuse                     // n, last of a counter (no row: zero) whose bump no value passes: the guard refused
)

// op is one statement of a planned change.
type op struct {
	kind opKind
	sql  string
	args []any
	// errf maps a driver error of the statement; nil: dbErr.
	errf func(err error) error
	// fail is the error when the statement's check fails.
	fail func() error
	// bump is the index in Change.Bumps of a counter statement.
	bump int
	// want is the rows an opExpectN must affect.
	want int64
	// cu is the update of an opCouponSQLite.
	cu *store.CouponUpdate
	// bumps are the rows of an opBumps: the indexes in Change.Bumps of
	// their bumps, in order.
	bumps []int
}

// planned is a change as the statements that write it.
type planned struct {
	c     *store.Change
	ops   []op
	after []store.Count // Bumps' After, filled by the run
	shard uint32        // which group queue the change joins
}

// plan turns c into statements, encoding every value first: a value the
// store cannot keep fails the change before anything is written. With
// multi, the inserts of several coupons, redemptions or events are
// multi-row statements and the bumps of several counters are batched
// (planBumps), which makes a change of a thousand coupons a few dozen
// statements instead of thousands; without it, every row and every bump is
// a statement of its own, whose errors name their row.
func (s *Store) plan(c *store.Change, multi bool) (*planned, error) {
	var e encoder
	p := &planned{c: c, after: make([]store.Count, len(c.Bumps))}
	n := len(c.Coupons) + len(c.Redemptions)
	if multi {
		n += 32 + (len(c.NewCoupons)+len(c.NewRedemptions)+len(c.Events)+len(c.Bumps))/changeRowsPerInsert
	} else {
		n += len(c.NewCoupons) + len(c.NewRedemptions) + len(c.Events) + len(c.Bumps)
	}
	p.ops = make([]op, 0, n+3)
	if w := c.Series; w != nil {
		if err := s.planSeries(p, w); err != nil {
			return nil, err
		}
	}
	planInserts(s, p, multi, c.NewCoupons, "ck_coupons", couponCols, nCouponCols, e.couponArgs, func(nc *coupon.Coupon) op {
		return op{kind: opExec, sql: s.q.couponInsert, args: e.couponArgs(make([]any, 0, nCouponCols), nc),
			errf: func(err error) error { return s.couponErr(err, nc) }}
	})
	for i := range c.Coupons {
		u := &c.Coupons[i]
		if s.d == SQLite {
			e.couponArgs(nil, &u.Coupon) // range checks only
			p.ops = append(p.ops, op{kind: opCouponSQLite, cu: u})
			continue
		}
		p.ops = append(p.ops, op{kind: opExpectOne, sql: s.q.couponUpdate,
			args: append(e.couponArgs(make([]any, 0, nCouponCols+1), &u.Coupon), u.ExpectVersion),
			errf: func(err error) error { return s.couponErr(err, &u.Coupon) },
			fail: func() error { return &store.ConflictError{Kind: "coupon", ID: u.Coupon.ID} }})
	}
	planInserts(s, p, multi, c.NewRedemptions, "ck_redemptions", redemptionCols, nRedemptionCols, e.redemptionArgs, func(r *coupon.Redemption) op {
		return op{kind: opExec, sql: s.q.redemptionInsert, args: e.redemptionArgs(make([]any, 0, nRedemptionCols), r),
			errf: func(err error) error { return s.redemptionErr(err, r) }}
	})
	for i := range c.Redemptions {
		u := &c.Redemptions[i]
		p.ops = append(p.ops, op{kind: opExpectOne, sql: s.q.redemptionUpdate,
			args: append(e.redemptionArgs(make([]any, 0, nRedemptionCols+1), &u.Redemption), int64(u.ExpectStatus)),
			errf: func(err error) error { return s.redemptionErr(err, &u.Redemption) },
			fail: func() error { return &store.ConflictError{Kind: "redemption", ID: u.Redemption.ID} }})
	}
	s.planAudience(p, &e, multi)
	planInserts(s, p, multi, c.Events, "ck_events", eventCols, nEventCols, e.eventArgs, func(ev *coupon.Event) op {
		return op{kind: opExec, sql: s.q.eventInsert, args: e.eventArgs(make([]any, 0, nEventCols), ev)}
	})
	s.planBumps(p, &e, multi)
	if e.err != nil {
		return nil, e.err
	}
	if a := c.Sequence; a != nil {
		if err := s.planSequence(p, a); err != nil {
			return nil, err
		}
	}
	p.shard = shardOf(c)
	return p, nil
}

// planInserts appends the inserts of rows: with multi and more than one
// row, multi-row INSERTs of the arguments argsOf appends (ncols per row);
// otherwise single(row) for each row.
func planInserts[T any](s *Store, p *planned, multi bool, rows []T, table, cols string, ncols int,
	argsOf func([]any, *T) []any, single func(*T) op) {
	if multi && len(rows) > 1 {
		args := make([]any, 0, len(rows)*ncols)
		for i := range rows {
			args = argsOf(args, &rows[i])
		}
		s.planRows(p, table, cols, ncols, args)
		return
	}
	for i := range rows {
		p.ops = append(p.ops, single(&rows[i]))
	}
}

// planSequence appends the guarded statement of a sequence advance; it
// comes last, after the bumps, so that the sequence's row is locked from
// it to the commit only.
func (s *Store) planSequence(p *planned, a *store.SequenceAdvance) error {
	if err := a.Validate(); err != nil {
		return err
	}
	q := s.q.seqAdvance
	if a.From == 0 {
		q = s.q.seqStart
	}
	id := a.SeriesID
	p.ops = append(p.ops, op{kind: opExpectOne, sql: q, args: []any{id, a.From, a.To},
		fail: func() error { return &store.ConflictError{Kind: "sequence", ID: id} }})
	return nil
}

func (s *Store) planSeries(p *planned, w *store.SeriesWrite) error {
	v := w.Series
	v.Version = w.ExpectVersion + 1
	doc, err := seriesDoc(&v)
	if err != nil {
		return err
	}
	id := v.ID
	if w.ExpectVersion == 0 {
		p.ops = append(p.ops, op{kind: opExec, sql: s.q.seriesInsert, args: []any{id, int64(v.Status), v.Version, string(doc)},
			errf: func(err error) error {
				if kind, _ := constraint(err); kind == uniqueViolation {
					return &store.ExistsError{Kind: "series", Key: id}
				}
				return nil
			}})
	} else {
		p.ops = append(p.ops,
			op{kind: opExpectOne, sql: s.q.seriesUpdate, args: []any{id, int64(v.Status), v.Version, string(doc), w.ExpectVersion},
				fail: func() error { return &store.ConflictError{Kind: "series", ID: id} }},
			op{kind: opExec, sql: s.q.placesDelete, args: []any{id}})
	}
	for _, r := range v.Redemption.Places.Refs() {
		p.ops = append(p.ops, op{kind: opExec, sql: s.q.placeInsert, args: []any{int64(r.Kind), r.ID, id}})
	}
	return nil
}

// shardOf picks a change's group queue by the series it mostly touches,
// so that the changes of one hot series are committed together and those
// of other series in parallel.
func shardOf(c *store.Change) uint32 {
	sid := ""
	for i := range c.Bumps {
		if k := &c.Bumps[i].Key; seriesWide(k) == 1 || sid == "" {
			sid = k.Series
		}
	}
	switch {
	case sid != "":
	case len(c.Coupons) > 0:
		sid = c.Coupons[0].Coupon.SeriesID
	case len(c.NewCoupons) > 0:
		sid = c.NewCoupons[0].SeriesID
	case c.Series != nil:
		sid = c.Series.Series.ID
	case c.Sequence != nil:
		sid = c.Sequence.SeriesID
	case len(c.Redemptions) > 0:
		sid = c.Redemptions[0].Redemption.SeriesID
	case len(c.Audience) > 0:
		sid = c.Audience[0].SeriesID
	}
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(sid); i++ {
		h = (h ^ uint32(sid[i])) * 16777619
	}
	return h
}

// runSeq runs a planned change statement by statement on x.
func (s *Store) runSeq(ctx context.Context, x conn, p *planned) error {
	for i := range p.ops {
		o := &p.ops[i]
		switch o.kind {
		case opExec, opExpectOne, opExpectN:
			res, err := x.exec(ctx, o.sql, o.args...)
			if err != nil {
				return s.opErr(ctx, o, err)
			}
			if o.kind != opExec {
				if n, err := res.RowsAffected(); err != nil || n != o.rows() {
					return cmp.Or(s.dbErr(ctx, err), o.fail())
				}
			}
		case opBump, opUndo, opRead, opRefuse:
			var n int64
			var last sql.NullInt64
			err := x.row(ctx, o.sql, o.args...).Scan(&n, &last)
			switch {
			case errors.Is(err, sql.ErrNoRows) && (o.kind == opRead || o.kind == opRefuse):
			case errors.Is(err, sql.ErrNoRows) && o.kind == opUndo:
				return o.fail()
			case errors.Is(err, sql.ErrNoRows):
				return s.guardErr(ctx, x, p.c, o.bump)
			case err != nil:
				return s.dbErr(ctx, err)
			}
			cur := store.Count{N: n, Last: fromNanos(last)}
			if o.kind == opRefuse {
				return refusedErr(&p.c.Bumps[o.bump], cur)
			}
			p.after[o.bump] = cur
		case opCouponSQLite:
			if err := s.updateCouponSQLite(ctx, x, o.cu); err != nil {
				return err
			}
		case opBumps:
			if err := s.runBumps(ctx, x, p, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// rows is how many rows an opExpectOne or opExpectN must affect.
func (o *op) rows() int64 {
	if o.kind == opExpectN {
		return o.want
	}
	return 1
}

func (s *Store) opErr(ctx context.Context, o *op, err error) error {
	if o.errf != nil {
		if mapped := o.errf(err); mapped != nil {
			return mapped
		}
	}
	return s.dbErr(ctx, err)
}

// guardErr is the *store.GuardError of the i-th bump of c, which its
// guarded statement refused, with the value the counter has now.
func (s *Store) guardErr(ctx context.Context, x conn, c *store.Change, i int) error {
	b := &c.Bumps[i]
	cur, err := s.counter(ctx, x, b.Key)
	if err != nil {
		return err
	}
	return refusedErr(b, cur)
}

// refusedErr is the error of bump b, which its guard refused, when the
// counter stands at cur: the one store.Bump.Next gives or, when the
// counter has moved since so that b would pass now, a *store.GuardError
// with cur.
func refusedErr(b *store.Bump, cur store.Count) error {
	if _, err := b.Next(cur); err != nil {
		return err
	}
	return &store.GuardError{Key: b.Key, Guard: b.Guard, Count: cur}
}

func (s *Store) counter(ctx context.Context, x conn, k store.CounterKey) (store.Count, error) {
	var n int64
	var last sql.NullInt64
	err := x.row(ctx, s.q.counterGet, counterKeyArgs(&k)...).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Count{}, nil
	}
	if err != nil {
		return store.Count{}, s.dbErr(ctx, err)
	}
	return store.Count{N: n, Last: fromNanos(last)}, nil
}

// updateCouponSQLite updates a coupon naming only the indexed columns
// that change: SQLite rewrites the entries of every index whose columns an
// UPDATE names, changed or not. The usual update (a redemption, a hold)
// changes the state at most: it is tried first, with the other indexed
// columns required unchanged in its WHERE. When it matches nothing, the
// stored indexed columns are read (the write lock is held, so they cannot
// change meanwhile) to tell a stale version from a change of those
// columns, which is then written naming them.
func (s *Store) updateCouponSQLite(ctx context.Context, x conn, u *store.CouponUpdate) error {
	c := &u.Coupon
	var e encoder
	newSlot := store.Slot(c)
	expires := e.time("ExpiresAt", c.ExpiresAt)
	base := []any{c.ID, c.Code, c.Shared, e.time("CreatedAt", c.CreatedAt), e.time("IssuedAt", c.IssuedAt),
		int64(c.Redemptions), int64(c.Holds), c.Reversed, e.time("LastStatusChange", c.LastStatusChange),
		c.ReissuedFrom, c.ReissuedTo, c.Version, int64(c.State), u.ExpectVersion}
	if e.err != nil {
		return e.err
	}
	issueKey := nullString(c.IssueKey)
	res, err := x.exec(ctx, s.q.couponUpdateUsual, append(base, c.SeriesID, c.Canonical, newSlot, c.Holder, expires, issueKey)...)
	if err != nil {
		if m := s.couponErr(err, c); m != nil {
			return m
		}
		return s.dbErr(ctx, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return s.dbErr(ctx, err)
	}

	var version int64
	var seriesID, canonical, slot, holder string
	var stored sql.NullInt64
	var storedKey sql.NullString
	err = x.row(ctx, s.q.couponIndexed, c.ID).Scan(&version, &seriesID, &canonical, &slot, &holder, &stored, &storedKey)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && version != u.ExpectVersion) {
		return &store.ConflictError{Kind: "coupon", ID: c.ID}
	}
	if err != nil {
		return s.dbErr(ctx, err)
	}
	set := []string{s.q.couponUpdateUsualSet}
	args := base
	add := func(col string, v any) {
		args = append(args, v)
		set = append(set, col+" = $"+itoa(int64(len(args))))
	}
	if seriesID != c.SeriesID {
		add("series_id", c.SeriesID)
	}
	if canonical != c.Canonical {
		add("canonical", c.Canonical)
	}
	if slot != newSlot {
		add("slot", newSlot)
	}
	if holder != c.Holder {
		add("holder", c.Holder)
	}
	if exp := nanos(c.ExpiresAt); stored.Valid != !c.ExpiresAt.IsZero() || (stored.Valid && stored.Int64 != exp) {
		add("expires_at", expires)
	}
	if storedKey.String != c.IssueKey {
		add("issue_key", issueKey)
	}
	q := "UPDATE ck_coupons SET " + strings.Join(set, ", ") + " WHERE id = $1 AND version = $14"
	if res, err = x.exec(ctx, q, args...); err != nil {
		if m := s.couponErr(err, c); m != nil {
			return m
		}
		return s.dbErr(ctx, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return cmp.Or(s.dbErr(ctx, err), error(&store.ConflictError{Kind: "coupon", ID: c.ID}))
	}
	return nil
}

// isIDConstraint reports whether a unique constraint, as constraint names
// it, is a table's primary key.
func isIDConstraint(name string) bool {
	return strings.HasSuffix(name, "_pkey") || strings.HasSuffix(name, ".id")
}

// couponKey names a coupon's unique key (series, canonical code and slot,
// store.Slot) in an error.
func couponKey(c *coupon.Coupon) string {
	k := c.SeriesID + "/" + c.Canonical
	if slot := store.Slot(c); slot != "" {
		k += "/" + slot
	}
	return k
}

// couponErr maps a constraint error of a coupon write; nil when err is not
// one.
func (s *Store) couponErr(err error, c *coupon.Coupon) error {
	switch kind, name := constraint(err); {
	case kind == uniqueViolation && isIDConstraint(name):
		return &store.ExistsError{Kind: "coupon", Key: c.ID}
	case kind == uniqueViolation && strings.Contains(name, "issue_key"):
		return &store.ExistsError{Kind: "issue", Key: c.SeriesID + "/" + c.IssueKey}
	case kind == uniqueViolation:
		return &store.ExistsError{Kind: "coupon", Key: couponKey(c)}
	case kind == foreignKeyViolation:
		return store.NotFound("series", c.SeriesID)
	}
	return nil
}

// redemptionErr maps a constraint error of a redemption write; nil when
// err is not one.
func (s *Store) redemptionErr(err error, r *coupon.Redemption) error {
	switch kind, name := constraint(err); {
	case kind == uniqueViolation && isIDConstraint(name):
		return &store.ExistsError{Kind: "redemption", Key: r.ID}
	case kind == uniqueViolation:
		return &store.ExistsError{Kind: "redemption", Key: r.CouponID + "/" + r.IdempotencyKey}
	case kind == foreignKeyViolation:
		return store.NotFound("coupon", r.CouponID)
	}
	return nil
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

// firstGuardFailure reports, of the bumps of c that the stored counters
// refuse (store.Bump.Next), the first in c's order, as a store with no
// lock order would: the bumps ran sorted, so the one that failed may not
// be the first failing one. It falls back to seen when the counters moved
// meanwhile.
func (s *Store) firstGuardFailure(ctx context.Context, c *store.Change, seen *store.GuardError) error {
	keys := make([]store.CounterKey, len(c.Bumps))
	for i := range c.Bumps {
		keys[i] = c.Bumps[i].Key
	}
	counts := make([]store.Count, len(keys))
	if err := s.readCounters(ctx, s.reader(), keys, counts); err != nil {
		return seen
	}
	for i := range c.Bumps {
		var ge *store.GuardError
		if _, err := c.Bumps[i].Next(counts[i]); errors.As(err, &ge) {
			return ge
		}
	}
	return seen
}
