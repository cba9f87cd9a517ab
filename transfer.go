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
func (e *Engine) Transfer(ctx context.Context, req TransferRequest) (_ coupon.Coupon, err error) {
	ctx, o := e.begin(ctx, observe.Transfer, req.Code)
	defer o.end(&err)
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
		loc, err := e.location(s)
		if err != nil {
			return err
		}
		ch, moved, err := decideTransfer(&c, s, from, to.ID, e.now(), loc, &req, e)
		if err != nil {
			return err
		}
		err = e.st.Apply(ctx, ch)
		if errors.Is(err, errcode.ErrAlreadyExists) {
			return errcode.New(errcode.CommonCodeIssued, "To", "the customer already holds this common code")
		}
		out = moved.In(loc)
		return err
	})
	return out, err
}

// decideTransfer decides the transfer that req asks of coupon c of series
// s, whose time zone is loc, from customer from to customer to at now:
// the change that moves it, with the events of both customers, their ids
// from ids, and the coupon moved. A coupon from does not hold is refused as
// a code that does not exist; a series not open at now refuses the transfer,
// and so does the coupon's state machine (coupon.Transfer).
func decideTransfer(c *coupon.Coupon, s *series.Series, from, to string, now time.Time, loc *time.Location, req *TransferRequest, ids idSource) (*store.Change, coupon.Coupon, error) {
	if c.Holder != from {
		return nil, coupon.Coupon{}, codeNotFound(req.Code)
	}
	if err := checkOpen(s, now.In(loc)); err != nil {
		return nil, coupon.Coupon{}, err
	}
	moved, evs, err := coupon.Transfer(*c, to, now, req.Actor, s.Transferable)
	if err != nil {
		return nil, coupon.Coupon{}, err
	}
	for i := range evs {
		evs[i].ID, evs[i].Reason = ids.nextID(), req.Reason
	}
	return &store.Change{Coupons: []store.CouponUpdate{{Coupon: moved, ExpectVersion: c.Version}}, Events: evs}, moved, nil
}
