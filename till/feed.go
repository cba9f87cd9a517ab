package till

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// FeedPosition returns the position the till has applied the central's
// feed to ([Journal.ApplyFeed]); the zero Position before the first page.
// The till asks for the next page after it.
func (j *Journal) FeedPosition(ctx context.Context) (store.Position, error) {
	return feedPosition(ctx, j.db)
}

func feedPosition(ctx context.Context, tx querier) (store.Position, error) {
	var text string
	err := tx.QueryRowContext(ctx, `SELECT position FROM till_feed WHERE id = 1`).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Position{}, nil
	}
	if err != nil {
		return store.Position{}, fmt.Errorf("till: reading the feed position: %w", err)
	}
	return store.ParsePosition(text)
}

// ApplyFeed applies one page of the till's sync down
// (couponkit.Engine.TillFeed), in one transaction with the page's Next as
// the till's new feed position:
//
//   - each series configuration replaces the one the till kept;
//   - each event of a series the till keeps, after the position the till
//     had, updates what the till knows of its code, by the code's
//     canonical form: issued (its holder, and its expiry by the series'
//     rule), transferred (the new holder), revoked or expired (denied),
//     reissued (the old code is no one's, the new one issued), and the
//     uses the central counted (redeemed or hold confirmed, less
//     reversed). The central's record of this till's own uses (Actor
//     "till "+the id given to Open with WithTill) is skipped: the journal
//     counts them already.
//
// A page whose Next is before the till's position (an old page, replayed)
// changes nothing, and an event at or before it is skipped, so that
// applying a page twice is applying it once.
func (j *Journal) ApplyFeed(ctx context.Context, p couponkit.TillFeedPage) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("till: %w", err)
	}
	defer tx.Rollback()
	at, err := feedPosition(ctx, tx)
	if err != nil {
		return err
	}
	if p.Next.Compare(at) < 0 {
		return nil
	}
	for _, s := range p.Series {
		if err := putSeries(ctx, tx, s); err != nil {
			return err
		}
	}
	cache := map[string]*series.Series{}
	for i := range p.Events {
		fe := &p.Events[i]
		if fe.Position.Compare(at) <= 0 || (j.till != "" && fe.Event.Actor == "till "+j.till) {
			continue
		}
		if err := applyEvent(ctx, tx, cache, &fe.Event); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO till_feed (id, position) VALUES (1, ?)
ON CONFLICT (id) DO UPDATE SET position = excluded.position`, p.Next.String()); err != nil {
		return fmt.Errorf("till: writing the feed position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("till: committing the feed page: %w", err)
	}
	return nil
}

// applyEvent updates what the till knows of the code of ev. An event of a
// series the till keeps no configuration of, or of a code its series'
// rule cannot read, is skipped.
func applyEvent(ctx context.Context, tx *sql.Tx, cache map[string]*series.Series, ev *coupon.Event) error {
	s, ok := cache[ev.SeriesID]
	if !ok {
		got, err := seriesIn(ctx, tx, ev.SeriesID)
		if errcode.CodeOf(err) == errcode.Unavailable {
			cache[ev.SeriesID] = nil
			return nil
		}
		if err != nil {
			return err
		}
		s = &got
		cache[ev.SeriesID] = s
	}
	if s == nil {
		return nil
	}
	switch ev.Kind {
	case coupon.EventReissued:
		if err := updateCode(ctx, tx, s, ev.OldCode, ev.Customer, func(k *Known) { k.Holder = "" }); err != nil {
			return err
		}
		return updateCode(ctx, tx, s, ev.NewCode, ev.Customer, func(k *Known) { issued(s, k, ev) })
	case coupon.EventIssued:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { issued(s, k, ev) })
	case coupon.EventTransferredOut:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { k.Holder = ev.Counterparty })
	case coupon.EventTransferReceived:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { k.Holder = ev.Customer })
	case coupon.EventRevoked:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { k.State, k.Changed = coupon.Revoked, ev.At })
	case coupon.EventExpired:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) {
			k.State, k.Changed = coupon.Expired, ev.At
			if k.ExpiresAt.IsZero() || k.ExpiresAt.After(ev.At) {
				k.ExpiresAt = ev.At
			}
		})
	case coupon.EventRedeemed, coupon.EventHoldConfirmed:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { k.Uses++ })
	case coupon.EventReversed:
		return updateCode(ctx, tx, s, ev.Code, ev.Customer, func(k *Known) { k.Uses = max(0, k.Uses-1) })
	}
	return nil
}

// issued records k issued by ev: its holder, and its expiry by the
// series' rule from the issue time (a coupon's own earlier expiry, which
// the feed does not tell, is the central's to apply).
func issued(s *series.Series, k *Known, ev *coupon.Event) {
	k.State, k.Holder, k.Changed = coupon.Issued, ev.Customer, ev.At
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	k.ExpiresAt = s.ExpiresAt(ev.At, loc)
}

// updateCode reads what the till knows of code (for a common code, of
// customer's coupon of it), changes it with f and writes it back.
func updateCode(ctx context.Context, tx *sql.Tx, s *series.Series, code, customer string, f func(*Known)) error {
	canon, err := s.Source.CanonicalCode(nil, code)
	if err != nil {
		return nil // not a code of the series as the till reads it
	}
	owner := ""
	if s.Source.SharedCode() {
		owner = customer
	}
	k, err := readCode(ctx, tx, s.ID, canon, owner)
	if err != nil {
		return err
	}
	f(&k)
	_, err = tx.ExecContext(ctx, `INSERT INTO till_code (series_id, code, owner, state, holder, changed_ns, expires_ns, uses)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (series_id, code, owner) DO UPDATE SET state = excluded.state, holder = excluded.holder,
	changed_ns = excluded.changed_ns, expires_ns = excluded.expires_ns, uses = excluded.uses`,
		s.ID, canon, owner, k.State, k.Holder, nanos(k.Changed), nanos(k.ExpiresAt), k.Uses)
	if err != nil {
		return fmt.Errorf("till: keeping code %s: %w", canon, err)
	}
	return nil
}

// readCode reads what the till knows of a code: the zero Known (with
// Owner) when nothing.
func readCode(ctx context.Context, tx *sql.Tx, seriesID, code, owner string) (Known, error) {
	k := Known{Owner: owner}
	var changed, expires int64
	err := tx.QueryRowContext(ctx, `SELECT state, holder, changed_ns, expires_ns, uses FROM till_code
WHERE series_id = ? AND code = ? AND owner = ?`, seriesID, code, owner).Scan(&k.State, &k.Holder, &changed, &expires, &k.Uses)
	if errors.Is(err, sql.ErrNoRows) {
		return k, nil
	}
	if err != nil {
		return k, fmt.Errorf("till: reading code %s: %w", code, err)
	}
	k.Changed, k.ExpiresAt = timeOf(changed), timeOf(expires)
	return k, nil
}

// knownCode reads what the feed told of u's code (canonical already): of
// a common code, of u's customer's coupon of it, which is taken as issued
// to them when the feed told nothing of it (the series' configuration
// names the code).
func knownCode(ctx context.Context, tx *sql.Tx, s *series.Series, u *Use) (Known, error) {
	owner := ""
	if s.Source.SharedCode() {
		owner = u.Customer
	}
	k, err := readCode(ctx, tx, s.ID, u.Code, owner)
	if err != nil || k.State != 0 || !s.Source.SharedCode() {
		return k, err
	}
	if c, err := s.Source.CanonicalCode(nil, s.Source.Code); err == nil && c == u.Code {
		k.State, k.Holder = coupon.Issued, u.Customer
	}
	return k, nil
}

// putSeries keeps s as the series' configuration, replacing the one kept.
func putSeries(ctx context.Context, tx interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, s series.Series) error {
	if s.ID == "" {
		return errcode.New(errcode.InvalidArgument, "ID", "a series needs an id")
	}
	if _, err := s.Location(); err != nil {
		return err
	}
	config, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("till: encoding series %s: %w", s.ID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO till_series (id, config) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET config = excluded.config`, s.ID, string(config))
	if err != nil {
		return fmt.Errorf("till: keeping series %s: %w", s.ID, err)
	}
	return nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
