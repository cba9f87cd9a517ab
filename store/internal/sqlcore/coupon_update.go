package sqlcore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/couponkit/couponkit/store"
)

// The arguments of the usual narrow update (Statements.CouponUpdateUsual),
// in its parameters' order: usualUpdateCols (the columns it names, $1 the
// id it matches), the expected version ($14), then usualUpdateIndexed
// ($15 to $20, required unchanged).
const (
	usualUpdateCols = "id, code, shared, created_at, issued_at, redemptions, holds, reversed, last_status_change, " +
		"reissued_from, reissued_to, version, state"
	usualUpdateIndexed = "series_id, canonical, slot, holder, expires_at, issue_key"
	nUsualUpdateBase   = 14
	nUsualUpdateArgs   = 20
)

// usualUpdateArgs appends the arguments of u's usual narrow update.
func (e *encoder) usualUpdateArgs(dst []any, u *store.CouponUpdate) []any {
	c := &u.Coupon
	return append(dst, c.ID, c.Code, c.Shared, e.time("CreatedAt", c.CreatedAt), e.time("IssuedAt", c.IssuedAt),
		int64(c.Redemptions), int64(c.Holds), c.Reversed, e.time("LastStatusChange", c.LastStatusChange),
		c.ReissuedFrom, c.ReissuedTo, c.Version, int64(c.State), u.ExpectVersion,
		c.SeriesID, c.Canonical, store.Slot(c), c.Holder, e.time("ExpiresAt", c.ExpiresAt), nullString(c.IssueKey))
}

// updateCouponNarrow updates a coupon naming only the indexed columns
// that change, for a database that rewrites the entries of every index
// whose columns an UPDATE names, changed or not (SQLite;
// Statements.CouponUpdateUsual). The usual update (a redemption, a hold)
// changes the state at most: it is tried first, with the other indexed
// columns required unchanged in its WHERE. When it matches nothing, the
// stored indexed columns are read (the write lock is held, so they cannot
// change meanwhile) to tell a stale version from a change of those
// columns, which is then written naming them.
func (s *Store) updateCouponNarrow(ctx context.Context, x conn, u *store.CouponUpdate) error {
	c := &u.Coupon
	var e encoder
	usual := e.usualUpdateArgs(make([]any, 0, nUsualUpdateArgs), u)
	if e.err != nil {
		return e.err
	}
	// base: the columns the usual update always names, and the version
	// expected; the indexed columns follow it in usual.
	base := usual[:nUsualUpdateBase:nUsualUpdateBase]
	newSlot, expires, issueKey := store.Slot(c), usual[nUsualUpdateBase+4], usual[nUsualUpdateBase+5]
	res, err := x.exec(ctx, s.d.SQL.CouponUpdateUsual, usual...)
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
	err = x.row(ctx, s.d.SQL.CouponIndexed, c.ID).Scan(&version, &seriesID, &canonical, &slot, &holder, &stored, &storedKey)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && version != u.ExpectVersion) {
		return &store.ConflictError{Kind: "coupon", ID: c.ID}
	}
	if err != nil {
		return s.dbErr(ctx, err)
	}
	set := []string{s.d.SQL.CouponUpdateUsualSet}
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
