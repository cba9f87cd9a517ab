package couponkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Revocation limits of the revoke API.
const (
	MaxRevokeCodes      = 50  // codes in one request
	MaxRevokeByCustomer = 100 // coupons of one customer in one request
)

// RevokeScope selects a series-wide revocation.
type RevokeScope uint8

// The scopes.
const (
	// NoScope revokes only what Codes or Customer name.
	NoScope RevokeScope = iota
	// AllUnredeemed revokes every coupon of the series without an
	// unreversed redemption or hold, issued or not.
	AllUnredeemed
	// OnlyUnissued revokes the series' Available coupons.
	OnlyUnissued
)

// RevokeRequest says what to revoke: codes (at most 50; more than one needs
// the series), a customer's unredeemed coupons of the series (at most 100),
// or a whole series (Scope).
type RevokeRequest struct {
	SeriesID string      `json:"series_id,omitempty"`
	Codes    []string    `json:"codes,omitempty"`
	Customer CustomerRef `json:"customer,omitzero"`
	Scope    RevokeScope `json:"scope,omitzero"`
	// CodeCase is the case codes are written in in the result.
	CodeCase CodeCase `json:"code_case,omitzero"`
	Actor    string   `json:"actor,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	// OnRevoked, when set, receives the coupons a series-wide revocation
	// (Scope) revokes, batch by batch as each batch is committed, and
	// RevokeResult.Revoked stays empty, so that revoking millions of
	// coupons takes constant memory. The slice is reused: the callback must
	// not keep it. An error it returns stops the revocation: the batches
	// already committed, the one it was given included, stay revoked, and
	// Revoke returns the error wrapped (errors.Is finds it), saying how
	// many coupons were revoked, as RevokeResult.RevokedCount does. Set
	// with Codes or Customer it is an InvalidArgument error. It has no JSON
	// form.
	OnRevoked func([]RevokedCoupon) error `json:"-"`
}

// RevokedCoupon is one coupon revoked.
type RevokedCoupon struct {
	CouponID string `json:"coupon_id"`
	Code     string `json:"code"`
	// Holder is the customer who held the coupon; "" for a coupon never
	// issued.
	Holder string `json:"holder,omitempty"`
}

// RevokeFailure groups the codes that could not be revoked for one reason:
// 404 or 682 (not found; an already revoked code is not found), 405 (it has
// an unreversed redemption or a hold).
type RevokeFailure struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
	Codes   []string     `json:"codes"`
}

// RevokeResult is the partial-success result of a revocation.
type RevokeResult struct {
	// Total is the number of coupons (or codes) the request concerned.
	Total int `json:"total"`
	// Revoked lists the coupons revoked; for a series-wide scope, batch
	// after batch, each ordered by coupon id, and empty when
	// RevokeRequest.OnRevoked received them instead.
	Revoked []RevokedCoupon `json:"revoked,omitempty"`
	// RevokedCount is the number of coupons revoked, listed or streamed.
	RevokedCount int `json:"revoked_count"`
	// Failed groups the codes that were not revoked by reason.
	Failed []RevokeFailure `json:"failed,omitempty"`
}

// FailedCount is the number of codes that failed.
func (r *RevokeResult) FailedCount() int {
	n := 0
	for _, f := range r.Failed {
		n += len(f.Codes)
	}
	return n
}

func (r *RevokeResult) fail(code errcode.Code, msg, c string) {
	for i := range r.Failed {
		if r.Failed[i].Code == code {
			r.Failed[i].Codes = append(r.Failed[i].Codes, c)
			return
		}
	}
	r.Failed = append(r.Failed, RevokeFailure{Code: code, Message: msg, Codes: []string{c}})
}

func (r *RevokeResult) revoked(c coupon.Coupon, holder string, cc CodeCase) {
	r.Revoked = append(r.Revoked, RevokedCoupon{CouponID: c.ID, Code: cc.Apply(c.Code), Holder: holder})
	r.RevokedCount++
}

// Revoke makes coupons permanently unusable, as the coupon revoke API
// describes. Errors for the whole request: NothingToRevoke (756) when
// neither codes, customer nor scope is given; GenericNotSupported (108) for
// a single common code without a customer; SeriesExpired (712) for an
// expired series; TooMany for more than 50 codes or a customer with more
// than 100 unredeemed coupons (nothing is revoked). Otherwise the result
// says, code by code, what was revoked and what failed and why.
func (e *Engine) Revoke(ctx context.Context, req RevokeRequest) (_ RevokeResult, err error) {
	ctx, o := e.begin(ctx, observe.Revoke, "")
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return RevokeResult{}, err
	}
	hasCustomer := !req.Customer.IsZero()
	if err := checkRevoke(&req); err != nil {
		return RevokeResult{}, err
	}
	var s *series.Series
	if req.SeriesID != "" {
		got, err := e.st.Series(ctx, req.SeriesID)
		if err != nil {
			return RevokeResult{}, err
		}
		s = &got
		if got.ClosedAt(e.now()).Ended() {
			return RevokeResult{}, errcode.New(errcode.SeriesExpired, "SeriesID", "coupon series / campaign has expired")
		}
	}
	var customer string
	if hasCustomer {
		c, err := e.customers.Resolve(ctx, req.Customer)
		if err != nil {
			return RevokeResult{}, err
		}
		customer = c.ID
	}
	switch {
	case len(req.Codes) > 0:
		return e.revokeCodes(ctx, &req, s, customer)
	case hasCustomer:
		return e.revokeCustomer(ctx, &req, s, customer)
	}
	return e.revokeSeries(ctx, &req, s)
}

// checkRevoke refuses, before anything is read, a revocation that names
// nothing, too many codes, several codes or a customer or scope without the
// series, or a stream (OnRevoked) of what is not series-wide.
func checkRevoke(req *RevokeRequest) error {
	hasCustomer := !req.Customer.IsZero()
	switch {
	case len(req.Codes) == 0 && !hasCustomer && req.Scope == NoScope:
		return errcode.New(errcode.NothingToRevoke, "", "coupon codes or customer info is mandatory")
	case len(req.Codes) > MaxRevokeCodes:
		return errcode.New(errcode.TooMany, "Codes", strconv.Itoa(len(req.Codes))+" codes; at most "+strconv.Itoa(MaxRevokeCodes)+" per request")
	case len(req.Codes) > 1 && req.SeriesID == "":
		return errcode.New(errcode.InvalidArgument, "SeriesID", "revoking more than one code needs the series")
	case (hasCustomer || req.Scope != NoScope) && req.SeriesID == "":
		return errcode.New(errcode.InvalidArgument, "SeriesID", "revoking by customer or scope needs the series")
	case req.OnRevoked != nil && (len(req.Codes) > 0 || hasCustomer):
		return errcode.New(errcode.InvalidArgument, "OnRevoked", "streams series-wide revocations only; codes and customers are listed in the result")
	}
	return nil
}

func (e *Engine) revokeCodes(ctx context.Context, req *RevokeRequest, s *series.Series, customer string) (RevokeResult, error) {
	if len(req.Codes) == 1 && customer == "" {
		cs, sp, err := e.lookupCode(ctx, req.SeriesID, req.Codes[0], nil)
		if err != nil && !errors.Is(err, errcode.ErrInvalidCode) {
			return RevokeResult{}, err
		}
		if sp == nil && len(cs) > 0 {
			sp, err = e.single(ctx, cs, nil, req.Codes[0])
			if err != nil {
				return RevokeResult{}, err
			}
		}
		if sp != nil && sp.Source.SharedCode() && len(cs) > 0 {
			return RevokeResult{}, errcode.New(errcode.GenericNotSupported, "Codes", "unsupported coupon series config with client handling type GENERIC")
		}
	}
	res := RevokeResult{Total: len(req.Codes)}
	for _, code := range req.Codes {
		if err := e.revokeCode(ctx, req, s, customer, code, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// revokeCode revokes the coupons of one code: the coupon of a unique code,
// or, for a common code, the customer's coupon (or every customer's when no
// customer is given, as part of a bulk request).
func (e *Engine) revokeCode(ctx context.Context, req *RevokeRequest, s *series.Series, customer, code string, res *RevokeResult) error {
	shown := req.CodeCase.Apply(code)
	cs, _, err := e.lookupCode(ctx, req.SeriesID, code, nil)
	if errors.Is(err, errcode.ErrInvalidCode) || errors.Is(err, errcode.ErrCheckFailed) {
		cs, err = nil, nil
	}
	if err != nil {
		return err
	}
	if customer != "" {
		cs = slices.DeleteFunc(cs, func(c coupon.Coupon) bool { return c.Holder != customer })
	}
	if len(cs) == 0 && s != nil {
		if elsewhere, _, _ := e.lookupCode(ctx, "", code, nil); len(elsewhere) > 0 {
			res.fail(errcode.NotFound, "coupon code not found", shown)
			return nil
		}
	}
	live := 0
	for _, c := range cs {
		switch err := e.revokeOne(ctx, c, req); {
		case err == nil:
			live++
			res.revoked(c, c.Holder, req.CodeCase)
		case errors.Is(err, errcode.ErrRedeemed):
			live++
			res.fail(errcode.Redeemed, "coupon code redeemed", shown)
		case errors.Is(err, errcode.ErrCouponNotFound):
		default:
			return err
		}
	}
	if live == 0 {
		res.fail(errcode.CouponNotFound, "coupon not found", shown)
	}
	return nil
}

// revokeOne revokes one coupon, reading it again on a conflict.
func (e *Engine) revokeOne(ctx context.Context, c coupon.Coupon, req *RevokeRequest) error {
	first := true
	return e.retry(ctx, func() error {
		if !first {
			var err error
			if c, err = e.st.Coupon(ctx, c.ID); err != nil {
				return err
			}
		}
		first = false
		now := e.now()
		if c.Holds > 0 {
			if _, err := e.releaseLapsed(ctx, store.RedemptionQuery{CouponID: c.ID}, now); err != nil {
				return err
			}
			var err error
			if c, err = e.st.Coupon(ctx, c.ID); err != nil {
				return err
			}
		}
		ch, err := revokeChange(&c, now, req, e)
		if err != nil {
			return err
		}
		return e.st.Apply(ctx, ch)
	})
}

// revokeChange is the change that revokes coupon c at now as req asks,
// its event's id from ids, or the state machine's refusal (revoked
// already, redeemed, held).
func revokeChange(c *coupon.Coupon, now time.Time, req *RevokeRequest, ids idSource) (*store.Change, error) {
	out, ev, err := coupon.Revoke(*c, now, req.Actor, req.Reason)
	if err != nil {
		return nil, err
	}
	ev.ID = ids.nextID()
	return &store.Change{
		Coupons: []store.CouponUpdate{{Coupon: out, ExpectVersion: c.Version}},
		Events:  []coupon.Event{ev},
	}, nil
}

// revocable selects the coupons revocation may take: not revoked, not
// redeemed, with no unreversed redemption and no hold.
func revocable(seriesID, holder string, states ...coupon.State) store.CouponFilter {
	if len(states) == 0 {
		states = []coupon.State{coupon.Available, coupon.Issued, coupon.Expired}
	}
	return store.CouponFilter{SeriesID: seriesID, Holder: holder, States: states, Unused: true}
}

func (e *Engine) revokeCustomer(ctx context.Context, req *RevokeRequest, s *series.Series, customer string) (RevokeResult, error) {
	f := revocable(s.ID, customer)
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: f, Limit: MaxRevokeByCustomer + 1})
	if err != nil {
		return RevokeResult{}, err
	}
	if len(cs) > MaxRevokeByCustomer {
		return RevokeResult{}, errcode.New(errcode.TooMany, "Customer", "the customer has more than "+strconv.Itoa(MaxRevokeByCustomer)+" unredeemed coupons in the series; nothing was revoked")
	}
	f.IDs = make([]string, len(cs))
	for i, c := range cs {
		f.IDs[i] = c.ID
	}
	res := RevokeResult{Total: len(cs)}
	if len(cs) == 0 {
		return res, nil
	}
	var out []coupon.Coupon
	u := e.revokeUpdate(req, 0)
	if err := e.rerun(ctx, func() (err error) {
		out, err = e.st.UpdateWhere(ctx, f, u)
		return err
	}); err != nil {
		return res, err
	}
	for _, c := range out {
		res.revoked(c, customer, req.CodeCase)
	}
	if missed := len(cs) - len(out); missed > 0 {
		// Redeemed or revoked between the read and the update.
		for _, c := range cs {
			if !slices.ContainsFunc(out, func(o coupon.Coupon) bool { return o.ID == c.ID }) {
				res.fail(errcode.Redeemed, "coupon code redeemed or revoked concurrently", req.CodeCase.Apply(c.Code))
			}
		}
	}
	return res, nil
}

// revokeBatch is how many coupons a series-wide revocation updates per
// store call.
const revokeBatch = 1000

func (e *Engine) revokeSeries(ctx context.Context, req *RevokeRequest, s *series.Series) (RevokeResult, error) {
	f := revocable(s.ID, "")
	if req.Scope == OnlyUnissued {
		f = revocable(s.ID, "", coupon.Available)
	}
	var res RevokeResult
	var batch []RevokedCoupon // what OnRevoked receives, reused
	for {
		var out []coupon.Coupon
		u := e.revokeUpdate(req, revokeBatch)
		if err := e.rerun(ctx, func() (err error) {
			out, err = e.st.UpdateWhere(ctx, f, u)
			return err
		}); err != nil {
			return res, err
		}
		res.Total += len(out)
		if req.OnRevoked == nil {
			for _, c := range out {
				res.revoked(c, c.Holder, req.CodeCase)
			}
		} else {
			batch = batch[:0]
			for _, c := range out {
				batch = append(batch, RevokedCoupon{CouponID: c.ID, Code: req.CodeCase.Apply(c.Code), Holder: c.Holder})
			}
			res.RevokedCount += len(out)
			if len(batch) > 0 {
				if err := req.OnRevoked(batch); err != nil {
					return res, fmt.Errorf("couponkit: series-wide revocation stopped by OnRevoked after %d coupons were revoked: %w", res.RevokedCount, err)
				}
			}
		}
		if len(out) < revokeBatch {
			return res, nil
		}
	}
}

func (e *Engine) revokeUpdate(req *RevokeRequest, limit int) store.BulkUpdate {
	now := e.now()
	return store.BulkUpdate{
		To: coupon.Revoked, At: now, Limit: limit,
		Event:         coupon.Event{Kind: coupon.EventRevoked, Actor: req.Actor, Reason: req.Reason, At: now},
		EventIDPrefix: e.newID() + "-",
	}
}
