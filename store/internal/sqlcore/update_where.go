package sqlcore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// UpdateWhere implements store.Store. It is one set-based statement
// (Statements.UpdateWhereInOne; else two, for a database whose UPDATE ...
// RETURNING cannot feed an INSERT) in one transaction: the coupons are
// picked by id, locked, updated and their events inserted together.
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
		" THEN " + w.arg(at) + s.d.SQL.Big + " ELSE last_status_change END"
	ev := u.Event
	// The event columns but id, coupon_id, series_id, code and customer,
	// which come from the coupon.
	t := s.d.SQL.Text
	tmpl := w.arg(int64(ev.Kind)) + s.d.SQL.Small + ", " + w.arg(ev.Actor) + t + ", " + w.arg(evAt) + s.d.SQL.Big + ", " +
		w.arg(ev.Reason) + t + ", " + w.arg(ev.Counterparty) + t + ", " + w.arg(ev.RedemptionID) + t + ", " +
		w.arg(ev.OldCode) + t + ", " + w.arg(ev.NewCode) + t + ", " + w.arg(ev.NewCouponID) + t + ", " +
		w.arg(ev.Notify) + s.d.SQL.Boolean
	prefix := w.arg(u.EventIDPrefix) + t
	const evCols = "id, coupon_id, series_id, code, customer, kind, actor, happened_at, reason, counterparty, " +
		"redemption_id, old_code, new_code, new_coupon_id, notify"
	var out []coupon.Coupon
	err := s.write(ctx, func(x conn) error {
		out = out[:0]
		var err error
		if s.d.SQL.UpdateWhereInOne {
			q := "WITH picked AS (" + pick + " FOR UPDATE), " +
				"upd AS (UPDATE ck_coupons c SET " + set + " FROM picked WHERE c.id = picked.id RETURNING " + prefixed("c.", CouponCols) + "), " +
				"ev AS (INSERT INTO ck_events (" + evCols + ") SELECT " + prefix + " || id, id, series_id, code, holder, " + tmpl +
				" FROM upd ORDER BY id) SELECT " + CouponCols + " FROM upd ORDER BY id"
			out, err = s.coupons(ctx, x, q, w.args...)
			return s.updateErr(ctx, err)
		}
		q := "UPDATE ck_coupons SET " + set + " WHERE id IN (" + pick + ") RETURNING " + CouponCols
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
		args := append(slices.Clone(w.args), s.d.TextList(ids))
		q = "INSERT INTO ck_events (" + evCols + ") SELECT " + prefix + " || id, id, series_id, code, holder, " + tmpl +
			" FROM ck_coupons WHERE " + fmt.Sprintf(s.d.SQL.InText, "id", "$"+itoa(int64(len(args)))) + " ORDER BY id"
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

// prefixed qualifies each column of a column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
