package couponkit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
)

// UploadRow is one code to add to a series' pool, optionally already issued
// to a customer, with an optional expiry of its own.
type UploadRow struct {
	Code string `json:"code"`
	// Customer, when set, is who the code is issued to at once.
	Customer CustomerRef `json:"customer,omitzero"`
	// ExpiresAt, when set, is the code's own expiry: once issued, the
	// coupon expires at the earlier of it and the series' expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// UploadResult reports an upload: how many codes were added, and each row
// refused, by row index.
type UploadResult struct {
	Added   int        `json:"added"`
	Skipped int        `json:"skipped"` // codes already in the series
	Failed  []RowError `json:"failed,omitempty"`
}

// RowError is one refused row of a bulk operation.
//
// In JSON it is {"row": 3, "error": {...}}, the error in one of two forms:
//
//   - a refusal by the rules or the coupon's state (a *refusal.Error) is
//     {"refusals": [...]}, each refusal with its code, rule, message and
//     parameters, and reads back as a *refusal.Error with those refusals;
//   - any other error is {"code": 1402, "field": "Code", "message": "..."}:
//     the code and field of the *errcode.Error in it (code 0 when there is
//     none) and its message, where the text of a cause or of a wrapping
//     error is kept. It reads back as an *errcode.Error with that code,
//     field and message: the same error when it was an *errcode.Error
//     without a cause.
type RowError struct {
	Row int   `json:"row"` // index of the row in the input, from 0
	Err error `json:"-"`   // an *errcode.Error, or a *refusal.Error when the rules refused the row's issue
}

// UploadRequest is a batch of codes for the pool of an Uploaded or
// ThirdParty series.
type UploadRequest struct {
	SeriesID string      `json:"series_id"`
	Rows     []UploadRow `json:"rows"`
	// Actor is recorded on the events of every row.
	Actor string `json:"actor,omitempty"`
}

// Upload adds codes to an Uploaded or ThirdParty series' pool in one batch.
// Then each row with a customer, in order, is issued to that customer
// under the series' issuance rules, expiring at the earlier of the row's
// own expiry and the series'; a row whose issue is refused stays in the
// pool and is reported in Failed. Codes already in the series are not
// added again, and a row whose customer already holds its code succeeds,
// so an interrupted upload can be run again. Invalid rows are reported and
// the others still added.
func (e *Engine) Upload(ctx context.Context, req UploadRequest) (_ UploadResult, err error) {
	ctx, o := e.begin(ctx, observe.Upload, "")
	defer o.end(&err)
	seriesID, rows, actor := req.SeriesID, req.Rows, req.Actor
	if err := e.admit(first(idArg("SeriesID", seriesID), input.Text("Actor", input.Actor, actor))); err != nil {
		return UploadResult{}, err
	}
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return UploadResult{}, err
	}
	if k := s.Source.Kind; k != series.Uploaded && k != series.ThirdParty {
		return UploadResult{}, errcode.New(errcode.InvalidArgument, "SeriesID", "series "+s.ID+" does not take uploaded codes")
	}
	u := planUpload(&s, rows, actor, e.now(), e)
	res := UploadResult{Failed: u.failed}
	var n int
	if err := e.rerun(ctx, func() (err error) {
		n, err = e.st.InsertCoupons(ctx, u.pool, u.events)
		return err
	}); err != nil {
		return res, err
	}
	res.Added, res.Skipped = n, len(u.pool)-n
	for _, i := range u.issue {
		if err := e.issueUploaded(ctx, s.ID, rows[i], actor); err != nil {
			res.Failed = append(res.Failed, RowError{Row: i, Err: err})
		}
	}
	return res, nil
}

// issueUploaded issues an uploaded row's code to its customer. A code the
// same customer already holds is fine (the upload is being run again); a
// code someone else holds is refused with AlreadyIssued.
func (e *Engine) issueUploaded(ctx context.Context, seriesID string, row UploadRow, actor string) error {
	_, err := e.issue(ctx, IssueRequest{SeriesID: seriesID, Customer: row.Customer, Code: row.Code, Actor: actor, Reason: "upload"})
	if !errors.Is(err, errcode.ErrAlreadyIssued) {
		return err
	}
	cust, cerr := e.customers.Resolve(ctx, row.Customer)
	if cerr != nil {
		return cerr
	}
	canon, cerr := canonicalCode(row.Code)
	if cerr != nil {
		return cerr
	}
	cs, lerr := e.st.CouponsByCode(ctx, seriesID, canon)
	if lerr != nil {
		return lerr
	}
	if len(cs) == 1 && cs[0].Holder == cust.ID {
		return nil
	}
	return err
}

// uploadPlan is what an upload decides from its rows: the coupons to add
// to the pool with their Created events, the rows to issue once they are
// in (those with a customer), and the rows refused.
type uploadPlan struct {
	pool   []coupon.Coupon
	events []coupon.Event
	issue  []int
	failed []RowError
}

// planUpload decides an upload of rows into series s at now by actor, the
// ids of its records from ids: a row with a bad field, a code that is not
// letters, digits, '-' and '_', or a code that an earlier row has is
// refused; every other row's code becomes an Available coupon.
func planUpload(s *series.Series, rows []UploadRow, actor string, now time.Time, ids idSource) uploadPlan {
	var u uploadPlan
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		if err := input.WithinAt("Rows", i, r.validate()); err != nil {
			u.failed = append(u.failed, RowError{Row: i, Err: err})
			continue
		}
		canon, err := canonicalCode(r.Code)
		if err != nil || !validUploadCode(canon) {
			u.failed = append(u.failed, RowError{Row: i, Err: errcode.New(errcode.InvalidCode, "Code", "code "+strconv.Quote(r.Code)+" is empty or has characters other than letters, digits, '-' and '_'")})
			continue
		}
		if seen[canon] {
			u.failed = append(u.failed, RowError{Row: i, Err: errcode.New(errcode.AlreadyExists, "Code", "code "+strconv.Quote(r.Code)+" appears twice in the upload")})
			continue
		}
		seen[canon] = true
		c, ev, err := coupon.New(coupon.NewParams{ID: ids.nextID(), SeriesID: s.ID, Code: strings.TrimSpace(r.Code), Canonical: canon, ExpiresAt: r.ExpiresAt, Actor: actor}, now)
		if err != nil {
			u.failed = append(u.failed, RowError{Row: i, Err: err})
			continue
		}
		ev.ID = ids.nextID()
		u.pool, u.events = append(u.pool, c), append(u.events, ev)
		if !r.Customer.IsZero() {
			u.issue = append(u.issue, i)
		}
	}
	return u
}
