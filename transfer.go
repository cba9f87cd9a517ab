package couponkit

import (
	"context"
	"errors"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// TransferRequest moves an issued coupon to another customer.
type TransferRequest struct {
	Code string `json:"code"`
	// SeriesID names the series; needed only when the code exists in
	// several series.
	SeriesID string `json:"series_id,omitempty"`
	// From is required and must be the coupon's holder: a back-office
	// transfer passes the holder it shows.
	From   CustomerRef `json:"from"`
	To     CustomerRef `json:"to"`
	Actor  string      `json:"actor,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

// Transfer moves an Issued coupon to another customer, if the series allows
// transfers. Both customers' histories get an event: TransferredOut for the
// old holder, TransferReceived for the new one.
//
// Who may call it: the holder, or a back office acting for them. From must
// name the current holder; a code From does not hold is refused as an
// unknown code is (ErrCouponNotFound), and the coupon stays where it was.
func (e *Engine) Transfer(ctx context.Context, req TransferRequest) (coupon.Coupon, error) {
	if err := e.admit(req.validate()); err != nil {
		return coupon.Coupon{}, err
	}
	if req.From.IsZero() {
		return coupon.Coupon{}, errcode.New(errcode.InvalidArgument, "From", "is required: name the coupon's current holder")
	}
	to, err := e.customers.Resolve(ctx, req.To)
	if err != nil {
		return coupon.Coupon{}, err
	}
	f, err := e.customers.Resolve(ctx, req.From)
	if err != nil {
		return coupon.Coupon{}, err
	}
	from := f.ID
	var out coupon.Coupon
	err = e.retry(ctx, func() error {
		c, s, err := e.couponOf(ctx, req.SeriesID, req.Code, from)
		if err != nil {
			return err
		}
		if c.Holder != from {
			return codeNotFound(req.Code)
		}
		now := e.now()
		loc, err := e.location(s)
		if err != nil {
			return err
		}
		if err := checkOpen(s, now.In(loc)); err != nil {
			return err
		}
		moved, evs, err := coupon.Transfer(c, to.ID, now, req.Actor, s.Transferable)
		if err != nil {
			return err
		}
		for i := range evs {
			evs[i].ID, evs[i].Reason = e.newID(), req.Reason
		}
		err = e.st.Apply(ctx, &store.Change{Coupons: []store.CouponUpdate{{Coupon: moved, ExpectVersion: c.Version}}, Events: evs})
		if errors.Is(err, errcode.ErrAlreadyExists) {
			return errcode.New(errcode.CommonCodeIssued, "To", "the customer already holds this common code")
		}
		out = moved.In(loc)
		return err
	})
	return out, err
}
