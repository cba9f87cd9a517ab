package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// ReissueRequest asks for a replacement of an unusable coupon.
type ReissueRequest struct {
	Code string `json:"code"`
	// SeriesID names the series; needed only when the code exists in
	// several series.
	SeriesID string `json:"series_id,omitempty"`
	// Notify records that the holder is to be sent the new code.
	Notify bool   `json:"notify,omitempty"`
	Actor  string `json:"actor,omitempty"`
}

// ReissueResult is the replaced coupon and its replacement, their times in
// the series' time zone.
type ReissueResult struct {
	Old coupon.Coupon `json:"old"`
	New coupon.Coupon `json:"new"`
}

// Reissue replaces a coupon its holder can no longer use (expired, revoked
// or fully redeemed) by a fresh code of the same series, once per coupon.
// The old code stays for audit but no longer belongs to the customer; the
// event records old and new code, actor and Notify. Errors: StillUsable,
// AlreadyReissued, ExternalProvider (third-party codes), PoolEmpty.
func (e *Engine) Reissue(ctx context.Context, req ReissueRequest) (_ ReissueResult, err error) {
	ctx, o := e.begin(ctx, observe.Reissue, req.Code)
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return ReissueResult{}, err
	}
	var out ReissueResult
	err = e.retry(ctx, func() error {
		cs, sp, err := e.lookupCode(ctx, req.SeriesID, req.Code, nil)
		if err != nil {
			return err
		}
		s, err := e.single(ctx, cs, sp, req.Code)
		if err != nil {
			return err
		}
		old := cs[0]
		now := e.now()
		// Refuse before drawing a code when the old coupon cannot be reissued.
		if err := checkReissue(s, &old, now); err != nil {
			return err
		}
		fresh, minted, claim, err := e.freshCoupon(ctx, s, "", req.Actor)
		if err != nil {
			return err
		}
		defer claim.release()
		loc, err := e.location(s)
		if err != nil {
			return err
		}
		ch, res, err := reissueChange(&old, fresh, minted, s.ExpiresAt(now, loc), now, &req, e)
		if err != nil {
			return err
		}
		ch.Sequence = claim.advance()
		out = ReissueResult{Old: res.Old.In(loc), New: res.New.In(loc)}
		return lostMintRace(ch, e.st.Apply(ctx, ch))
	})
	return out, err
}

// checkReissue refuses, before a replacement is drawn, a reissue of coupon
// old of series s at now: codes from an outside provider, a common code
// (no pool to draw from), and a coupon the state machine would not reissue
// (still usable, reissued already, never issued).
func checkReissue(s *series.Series, old *coupon.Coupon, now time.Time) error {
	if s.Source.External() {
		return errcode.New(errcode.ExternalProvider, "Code", "codes from an outside provider cannot be reissued")
	}
	if s.Source.SharedCode() {
		return errcode.New(errcode.PoolEmpty, "SeriesID", "a common code has no pool to draw a replacement from")
	}
	if _, _, _, err := coupon.Reissue(*old, coupon.Coupon{}, now, coupon.ReissueParams{}); err != nil && !errors.Is(err, errcode.ErrInvalidArgument) {
		return err
	}
	return nil
}

// reissueChange is the change that replaces old by fresh at now, as req
// asks: fresh, expiring at the earlier of its own expiry and expires,
// inserted when minted, else updated from its version; old updated; the
// Reissued event, with its id from ids. A minted code's sequence advance is
// the caller's to set.
func reissueChange(old *coupon.Coupon, fresh coupon.Coupon, minted bool, expires, now time.Time, req *ReissueRequest, ids idSource) (*store.Change, ReissueResult, error) {
	o, n, ev, err := coupon.Reissue(*old, fresh, now, coupon.ReissueParams{Actor: req.Actor, Notify: req.Notify, ExpiresAt: expires})
	if err != nil {
		return nil, ReissueResult{}, err
	}
	ev.ID = ids.nextID()
	ch := &store.Change{Coupons: []store.CouponUpdate{{Coupon: o, ExpectVersion: old.Version}}, Events: []coupon.Event{ev}}
	if minted {
		ch.NewCoupons = []coupon.Coupon{n}
	} else {
		ch.Coupons = append(ch.Coupons, store.CouponUpdate{Coupon: n, ExpectVersion: fresh.Version})
	}
	return ch, ReissueResult{Old: o, New: n}, nil
}
