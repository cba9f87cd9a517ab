package storetest

import (
	"fmt"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// The string fields of every operation, which testInputStrings tries with
// each bad string, and the helpers that make one error of a batch's or an
// upload's result.

// stringRefusals are the string fields of every operation.
var stringRefusals = []badInput[string]{
	{op: "Issue", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: b, Customer: ref(carol)})
		return err
	}},
	{op: "Issue", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: ref(b)})
		return err
	}},
	{op: "Issue", field: "Customer.Mobile", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: couponkit.CustomerRef{Mobile: b}})
		return err
	}},
	{op: "Issue", field: "Customer.Email", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: couponkit.CustomerRef{Email: b}})
		return err
	}},
	{op: "Issue", field: "Customer.ExternalID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: couponkit.CustomerRef{ExternalID: b}})
		return err
	}},
	{op: "Issue", field: "Code", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.u.ID, Customer: ref(carol), Code: b})
		return err
	}},
	{op: "Issue", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: ref(carol), Actor: b})
		return err
	}},
	{op: "Issue", field: "Reason", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: ref(carol), Reason: b})
		return err
	}},
	{op: "Issue", field: "IdempotencyKey", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: x.g.ID, Customer: ref(carol), IdempotencyKey: b})
		return err
	}},
	{op: "IssueBatch", field: "IdempotencyKey", run: func(e *env, x *inputWorld, b string) error {
		return batchErr(e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{{SeriesID: x.g.ID, Customer: ref(carol), IdempotencyKey: b}}))
	}},
	{op: "IssueBatch", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		return batchErr(e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{{SeriesID: x.g.ID, Customer: ref(b)}}))
	}},
	{op: "IssueBatch", field: "Reason", run: func(e *env, x *inputWorld, b string) error {
		return batchErr(e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{{SeriesID: x.g.ID, Customer: ref(carol), Reason: b}}))
	}},
	{op: "Upload", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: b, Rows: []couponkit.UploadRow{{Code: "U-9"}}, Actor: "op"})
		return err
	}},
	{op: "Upload", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: x.u.ID, Rows: []couponkit.UploadRow{{Code: "U-9"}}, Actor: b})
		return err
	}},
	{op: "Upload", field: "Rows[1].Code", run: func(e *env, x *inputWorld, b string) error {
		return uploadErr(e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: x.u.ID, Rows: []couponkit.UploadRow{{Code: "U-1"}, {Code: b}}, Actor: "op"}))
	}},
	{op: "Upload", field: "Rows[1].Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		return uploadErr(e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: x.u.ID, Rows: []couponkit.UploadRow{{Code: "U-1"}, {Code: "U-9", Customer: ref(b)}}, Actor: "op"}))
	}},
	{op: "Redeem", field: "Code", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Code = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.SeriesID = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Customer = ref(b)
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "IdempotencyKey", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.IdempotencyKey = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Place.Till", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Place.Till = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Place.Store", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Place.Store = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Place.Zone", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Place.Zone = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Place.Concept", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Place.Concept = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Redeem", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Actor = b
		_, err := e.e.Redeem(e.ctx, r)
		return err
	}},
	{op: "Hold", field: "IdempotencyKey", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.IdempotencyKey = b
		_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: r, TTL: time.Minute})
		return err
	}},
	{op: "Validate", field: "Place.Till", run: func(e *env, x *inputWorld, b string) error {
		r := heldUse(x)
		r.Place.Till = b
		_, err := e.e.Validate(e.ctx, r)
		return err
	}},
	{op: "Confirm", field: "Hold.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: b}, Actor: "till"})
		return err
	}},
	{op: "Confirm", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: x.hold.ID}, Actor: b})
		return err
	}},
	{op: "Release", field: "Hold.ID", run: func(e *env, x *inputWorld, b string) error {
		return e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: b}, Actor: "till"})
	}},
	{op: "Release", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		return e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: x.hold.ID}, Actor: b})
	}},
	{op: "Reverse", field: "Redemption.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: b}})
		return err
	}},
	{op: "Reverse", field: "Redemption.Code", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: b, IdempotencyKey: "k-1"}})
		return err
	}},
	{op: "Reverse", field: "Redemption.IdempotencyKey", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: x.redeemed.Code, SeriesID: x.g.ID, IdempotencyKey: b}})
		return err
	}},
	{op: "Reverse", field: "Reason", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: x.reds.ID}, Reason: b})
		return err
	}},
	{op: "Revoke", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: b, Customer: ref(alice)})
		return err
	}},
	{op: "Revoke", field: "Codes[1]", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: x.u.ID, Codes: []string{"U-1", b}})
		return err
	}},
	{op: "Revoke", field: "Customer.Email", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: x.u.ID, Customer: couponkit.CustomerRef{Email: b}})
		return err
	}},
	{op: "Revoke", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: x.u.ID, Codes: []string{"U-1"}, Actor: b})
		return err
	}},
	{op: "Revoke", field: "Reason", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: x.u.ID, Codes: []string{"U-1"}, Reason: b})
		return err
	}},
	{op: "AddAudience", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: b, Customers: []couponkit.CustomerRef{ref(carol)}})
		return err
	}},
	{op: "AddAudience", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: x.g.ID, Customers: []couponkit.CustomerRef{ref(carol)}, Actor: b})
		return err
	}},
	{op: "AddAudience", field: "Customers[0].ID", run: func(e *env, x *inputWorld, b string) error {
		res, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: x.g.ID, Customers: []couponkit.CustomerRef{ref(b)}})
		if err == nil && len(res.Outcomes) == 1 {
			err = res.Outcomes[0].Err // a bad reference refuses only itself
		}
		return err
	}},
	{op: "ListAudience", field: "After", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.ListAudience(e.ctx, couponkit.AudienceListRequest{SeriesID: x.g.ID, After: b})
		return err
	}},
	{op: "Transfer", field: "Code", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: b, To: ref(carol)})
		return err
	}},
	{op: "Transfer", field: "From.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: x.held.Code, From: ref(b), To: ref(carol)})
		return err
	}},
	{op: "Transfer", field: "To.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: x.held.Code, To: ref(b)})
		return err
	}},
	{op: "Transfer", field: "Reason", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: x.held.Code, To: ref(carol), Reason: b})
		return err
	}},
	{op: "Reissue", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: x.redeemed.Code, SeriesID: b})
		return err
	}},
	{op: "Reissue", field: "Actor", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: x.redeemed.Code, Actor: b})
		return err
	}},
	{op: "Coupon", field: "Code", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Coupon(e.ctx, x.g.ID, b, couponkit.CustomerRef{})
		return err
	}},
	{op: "Coupon", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Coupon(e.ctx, x.g.ID, x.redeemed.Code, ref(b))
		return err
	}},
	{op: "CustomerCoupons", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.CustomerCoupons(e.ctx, ref(b), "")
		return err
	}},
	{op: "CustomerCoupons", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.CustomerCoupons(e.ctx, ref(alice), b)
		return err
	}},
	{op: "CouponHistory", field: "CouponID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.CouponHistory(e.ctx, b)
		return err
	}},
	{op: "CustomerHistory", field: "Customer.ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.CustomerHistory(e.ctx, ref(b), "")
		return err
	}},
	{op: "Counters", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Counters(e.ctx, b)
		return err
	}},
	{op: "Series", field: "ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Series(e.ctx, b)
		return err
	}},
	{op: "SeriesAt", field: "IDs[1]", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.SeriesAt(e.ctx, limits.Till, "till-1", b)
		return err
	}},
	{op: "SetSeriesStatus", field: "ID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.SetSeriesStatus(e.ctx, b, series.Paused)
		return err
	}},
	{op: "UpdateSeries", field: "ID", run: func(e *env, x *inputWorld, b string) error {
		s := x.u
		s.ID = b
		_, err := e.e.UpdateSeries(e.ctx, s)
		return err
	}},
	{op: "Generate", field: "SeriesID", run: func(e *env, x *inputWorld, b string) error {
		_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: b, N: 5})
		return err
	}},
}

// batchErr is the error of the one request of a batch.
func batchErr(out []couponkit.IssueOutcome, err error) error {
	if err != nil {
		return err
	}
	if len(out) != 1 {
		return fmt.Errorf("IssueBatch returned %d outcomes for one request", len(out))
	}
	return out[0].Err
}

// uploadErr is the error of an upload whose last row is refused.
func uploadErr(res couponkit.UploadResult, err error) error {
	if err != nil {
		return err
	}
	if len(res.Failed) != 1 || res.Added != 0 {
		return fmt.Errorf("the upload added %d and refused %d rows, want one row refused and none added", res.Added, len(res.Failed))
	}
	return res.Failed[0].Err
}
