package couponkit

import (
	"context"
	"errors"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
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

// ReissueResult is the replaced coupon and its replacement.
type ReissueResult struct {
	Old coupon.Coupon `json:"old"`
	New coupon.Coupon `json:"new"`
}

// Reissue replaces a coupon its holder can no longer use (expired, revoked
// or fully redeemed) by a fresh code of the same series, once per coupon.
// The old code stays for audit but no longer belongs to the customer; the
// event records old and new code, actor and Notify. Errors: StillUsable,
// AlreadyReissued, ExternalProvider (third-party codes), PoolEmpty.
func (e *Engine) Reissue(ctx context.Context, req ReissueRequest) (ReissueResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return ReissueResult{}, err
	}
	var out ReissueResult
	err := e.retry(ctx, func() error {
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
		if s.Source.External() {
			return errcode.New(errcode.ExternalProvider, "Code", "codes from an outside provider cannot be reissued")
		}
		if s.Source.SharedCode() {
			return errcode.New(errcode.PoolEmpty, "SeriesID", "a common code has no pool to draw a replacement from")
		}
		// Refuse before drawing a code when the old coupon cannot be reissued.
		if _, _, _, err := coupon.Reissue(old, coupon.Coupon{}, now, coupon.ReissueParams{}); err != nil && !errors.Is(err, errcode.ErrInvalidArgument) {
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
		o, n, ev, err := coupon.Reissue(old, fresh, now, coupon.ReissueParams{
			Actor: req.Actor, Notify: req.Notify, ExpiresAt: s.ExpiresAt(now, loc)})
		if err != nil {
			return err
		}
		ev.ID = e.newID()
		ch := &store.Change{Coupons: []store.CouponUpdate{{Coupon: o, ExpectVersion: old.Version}}, Events: []coupon.Event{ev}, Sequence: claim.advance()}
		if minted {
			ch.NewCoupons = []coupon.Coupon{n}
		} else {
			ch.Coupons = append(ch.Coupons, store.CouponUpdate{Coupon: n, ExpectVersion: fresh.Version})
		}
		out = ReissueResult{Old: o, New: n}
		return e.st.Apply(ctx, ch)
	})
	return out, err
}
