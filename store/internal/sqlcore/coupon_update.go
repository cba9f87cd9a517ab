package sqlcore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/couponkit/couponkit/store"
)

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
	newSlot := store.Slot(c)
	expires := e.time("ExpiresAt", c.ExpiresAt)
	base := []any{c.ID, c.Code, c.Shared, e.time("CreatedAt", c.CreatedAt), e.time("IssuedAt", c.IssuedAt),
		int64(c.Redemptions), int64(c.Holds), c.Reversed, e.time("LastStatusChange", c.LastStatusChange),
		c.ReissuedFrom, c.ReissuedTo, c.Version, int64(c.State), u.ExpectVersion}
	if e.err != nil {
		return e.err
	}
	issueKey := nullString(c.IssueKey)
	res, err := x.exec(ctx, s.d.SQL.CouponUpdateUsual, append(base, c.SeriesID, c.Canonical, newSlot, c.Holder, expires, issueKey)...)
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
