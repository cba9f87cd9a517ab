package sqlcore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// Apply implements store.Store. It refuses a change that writes a record
// twice (store.Change.Validate), then writes c in one transaction, in the
// order series, coupon inserts, coupon updates, redemption inserts,
// redemption updates, audience updates, events, the lease parts (leases,
// lease ops, till entries: see lease.go) and, last, the counter
// bumps, the notices (which read the bumped counters) and the sequence
// advance, so that the row locks of hot counters
// are held only from their guarded statement to the commit. The bumps run
// in a stable order of their keys (series-wide counters last), the same in
// every transaction, so that two changes never wait for each other's
// counters in a cycle.
//
// Concurrent calls are committed in groups (see group.go): the group is
// written merged into one change (merge.go) or, when that fails, each
// change under a savepoint of a shared transaction, undone alone when it
// fails; Apply returns once the group's transaction is committed.
//
// The rows of a large change are written with multi-row statements (see
// rows.go), with the outcome of one statement per row.
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if c == nil {
		return invalid("Change", "is nil")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return s.apply(ctx, c, true)
}

// ApplyRowByRow is Apply writing every row and every bump with a statement
// of its own: what a change that a multi-row statement refused is run
// again as, so that the error names the row, and the reference the tests
// check the multi-row statements against.
func ApplyRowByRow(ctx context.Context, s *Store, c *store.Change) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.apply(ctx, c, false)
}

// apply is Apply, with multi-row statements or (multi false) one statement
// per row and per bump.
func (s *Store) apply(ctx context.Context, c *store.Change, multi bool) error {
	if err := CheckIDs(c); err != nil {
		return err
	}
	p, err := s.planFor(c, multi)
	if err != nil {
		return err
	}
	err = s.run(ctx, p)
	if IsRedo(err) {
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

// planFor plans c for apply. A change that Apply queues for a group
// written statement by statement (no Dialect.RunGroup, no caller's
// transaction) is planned when the group runs it alone (runSeq): a group
// written merged plans only the merged change, and the plan of each of
// its changes would be thrown away. A value the store cannot keep then
// fails the change when its group runs it, before any of its statements.
func (s *Store) planFor(c *store.Change, multi bool) (*Planned, error) {
	if multi && s.tx == nil && s.d.RunGroup == nil {
		return &Planned{c: c, after: make([]store.Count, len(c.Bumps)), shard: shardOf(c), lazy: true}, nil
	}
	return s.plan(c, multi)
}

// planLazy plans a change planFor left unplanned, once.
func (s *Store) planLazy(p *Planned) error {
	if !p.lazy {
		return nil
	}
	q, err := s.plan(p.c, true)
	if err != nil {
		return err
	}
	p.Ops, p.lazy = q.Ops, false
	return nil
}

// run writes a planned change: in the caller's transaction (WithTx), or
// queued for group commit.
func (s *Store) run(ctx context.Context, p *Planned) error {
	if s.tx != nil {
		return s.write(ctx, func(x conn) error { return s.runSeq(ctx, x, p) })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.applyGrouped(ctx, p)
}

// CheckIDs refuses a change with a record without an id, as InvalidArgument.
func CheckIDs(c *store.Change) error {
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

// OpKind says how a statement's outcome is checked.
type OpKind uint8

// The kinds of statement of a planned change.
const (
	OpExec         OpKind = iota // any outcome but an error
	OpExpectOne                  // exactly one row affected, else Fail()
	OpExpectN                    // exactly Rows() rows affected, else Fail()
	OpBump                       // RETURNING n, last; no row: the guard refused
	OpUndo                       // RETURNING n, last; no row: Fail()
	OpRead                       // n, last of a counter; no row: zero
	OpRefuse                     // n, last of a counter (no row: zero) whose bump no value passes: the guard refused
	OpCouponNarrow               // a coupon update, the narrow way (updateCouponNarrow); never pipelined
	OpBumps                      // a multi-row guarded upsert of counters (planBumps); a row missing from its RETURNING: the guard refused
)

// Op is one statement of a planned change.
type Op struct {
	Kind OpKind
	SQL  string
	Args []any
	// Bump is the index in Change.Bumps of a counter statement.
	Bump int
	// Bumps are the rows of an OpBumps: the indexes in Change.Bumps of
	// their bumps, in order.
	Bumps []int

	// errf maps a driver error of the statement; nil: dbErr.
	errf func(err error) error
	// fail is the error when the statement's check fails.
	fail func() error
	// want is the rows an OpExpectN must affect.
	want int64
	// cu is the update of an OpCouponNarrow.
	cu *store.CouponUpdate
}

// Planned is a change as the statements that write it.
type Planned struct {
	c     *store.Change
	Ops   []Op
	after []store.Count // Bumps' After, filled by the run
	shard uint32        // which group queue the change joins
	lazy  bool          // Ops not planned yet (planFor)
}

// Change returns the change p writes.
func (p *Planned) Change() *store.Change { return p.c }

// SetAfter records the value of the i-th bump's counter after it.
func (p *Planned) SetAfter(i int, c store.Count) { p.after[i] = c }

// plan turns c into statements, encoding every value first: a value the
// store cannot keep fails the change before anything is written. With
// multi, the inserts of several coupons, redemptions or events are
// multi-row statements and the bumps of several counters are batched
// (planBumps), which makes a change of a thousand coupons a few dozen
// statements instead of thousands; without it, every row and every bump is
// a statement of its own, whose errors name their row.
func (s *Store) plan(c *store.Change, multi bool) (*Planned, error) {
	var e encoder
	p := &Planned{c: c, after: make([]store.Count, len(c.Bumps))}
	n := len(c.Coupons) + len(c.Redemptions)
	if multi {
		n += 32 + (len(c.NewCoupons)+len(c.NewRedemptions)+len(c.Events)+len(c.Bumps))/changeRowsPerInsert
	} else {
		n += len(c.NewCoupons) + len(c.NewRedemptions) + len(c.Events) + len(c.Bumps)
	}
	p.Ops = make([]Op, 0, n+3)
	if w := c.Series; w != nil {
		if err := s.planSeries(p, w); err != nil {
			return nil, err
		}
	}
	planInserts(s, p, multi, c.NewCoupons, "ck_coupons", CouponCols, nCouponCols, e.couponArgs, func(nc *coupon.Coupon) Op {
		return Op{Kind: OpExec, SQL: couponInsert, Args: e.couponArgs(make([]any, 0, nCouponCols), nc),
			errf: func(err error) error { return s.couponErr(err, nc) }}
	})
	for i := range c.Coupons {
		u := &c.Coupons[i]
		if s.d.SQL.CouponUpdateUsual != "" {
			e.couponArgs(nil, &u.Coupon) // range checks only
			p.Ops = append(p.Ops, Op{Kind: OpCouponNarrow, cu: u})
			continue
		}
		p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: couponUpdate,
			Args: append(e.couponArgs(make([]any, 0, nCouponCols+1), &u.Coupon), u.ExpectVersion),
			errf: func(err error) error { return s.couponErr(err, &u.Coupon) },
			fail: func() error { return &store.ConflictError{Kind: "coupon", ID: u.Coupon.ID} }})
	}
	planInserts(s, p, multi, c.NewRedemptions, "ck_redemptions", redemptionCols, nRedemptionCols, e.redemptionArgs, func(r *coupon.Redemption) Op {
		return Op{Kind: OpExec, SQL: redemptionInsert, Args: e.redemptionArgs(make([]any, 0, nRedemptionCols), r),
			errf: func(err error) error { return s.redemptionErr(err, r) }}
	})
	for i := range c.Redemptions {
		u := &c.Redemptions[i]
		p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: redemptionUpdate,
			Args: append(e.redemptionArgs(make([]any, 0, nRedemptionCols+1), &u.Redemption), int64(u.ExpectStatus)),
			errf: func(err error) error { return s.redemptionErr(err, &u.Redemption) },
			fail: func() error { return &store.ConflictError{Kind: "redemption", ID: u.Redemption.ID} }})
	}
	s.planAudience(p, &e, multi)
	planInserts(s, p, multi, c.Events, "ck_events", EventCols, nEventCols, e.eventArgs, func(ev *coupon.Event) Op {
		return Op{Kind: OpExec, SQL: eventInsert, Args: e.eventArgs(make([]any, 0, nEventCols), ev)}
	})
	if err := s.planLeases(p, &e); err != nil {
		return nil, err
	}
	s.planBumps(p, &e, multi)
	s.planNotices(p, &e)
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
func planInserts[T any](s *Store, p *Planned, multi bool, rows []T, table, cols string, ncols int,
	argsOf func([]any, *T) []any, single func(*T) Op) {
	if multi && len(rows) > 1 {
		args := make([]any, 0, len(rows)*ncols)
		for i := range rows {
			args = argsOf(args, &rows[i])
		}
		s.planRows(p, table, cols, ncols, args)
		return
	}
	for i := range rows {
		p.Ops = append(p.Ops, single(&rows[i]))
	}
}

// planSequence appends the guarded statement of a sequence advance; it
// comes last, after the bumps, so that the sequence's row is locked from
// it to the commit only.
func (s *Store) planSequence(p *Planned, a *store.SequenceAdvance) error {
	if err := a.Validate(); err != nil {
		return err
	}
	q := s.d.SQL.SeqAdvance
	if a.From == 0 {
		q = s.d.SQL.SeqStart
	}
	id := a.SeriesID
	p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: q, Args: []any{id, a.From, a.To},
		fail: func() error { return &store.ConflictError{Kind: "sequence", ID: id} }})
	return nil
}

func (s *Store) planSeries(p *Planned, w *store.SeriesWrite) error {
	v := w.Series
	v.Version = w.ExpectVersion + 1
	doc, err := seriesDoc(&v)
	if err != nil {
		return err
	}
	id := v.ID
	if w.ExpectVersion == 0 {
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: seriesInsert, Args: []any{id, int64(v.Status), v.Version, string(doc)},
			errf: func(err error) error {
				if kind, _ := s.constraint(err); kind == UniqueViolation {
					return &store.ExistsError{Kind: "series", Key: id}
				}
				return nil
			}})
	} else {
		p.Ops = append(p.Ops,
			Op{Kind: OpExpectOne, SQL: seriesUpdate, Args: []any{id, int64(v.Status), v.Version, string(doc), w.ExpectVersion},
				fail: func() error { return &store.ConflictError{Kind: "series", ID: id} }},
			Op{Kind: OpExec, SQL: placesDelete, Args: []any{id}})
	}
	for _, r := range v.Redemption.Places.Refs() {
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: placeInsert, Args: []any{int64(r.Kind), r.ID, id}})
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
	case len(c.Leases) > 0:
		sid = c.Leases[0].Lease.SeriesID
	}
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(sid); i++ {
		h = (h ^ uint32(sid[i])) * 16777619
	}
	return h
}
