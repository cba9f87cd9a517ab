package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The input tests hold the engine to one answer for bad data on every
// store: a string that is not valid UTF-8, holds a control character or is
// longer than its kind of field allows, and a time outside the years 1900
// through 2199, are refused with InvalidArgument naming the field (or, in
// a series, InvalidConfig), and nothing changes. What the engine accepts,
// every store keeps as it is (StoresKeepWhatEngineAccepts, in
// input_property.go).
var inputTests = []test{
	{"BadStringsRefused", testInputStrings},
	{"BadTimesRefused", testInputTimes},
	{"HoldEndingPastRange", testInputHoldEnd},
	{"BadSeriesRefused", testInputSeries},
	{"ClockOutOfRange", testInputClock},
	{"DirectoryAnswerChecked", testInputDirectory},
	{"ExpiryCappedAtRangeEnd", testInputExpiryCap},
	{"BulkFileGoesPastBadRows", testInputBulk},
}

// badStrings are the values each string field is tried with.
var badStrings = []struct{ name, v string }{
	{"NUL", "x\x00y"},
	{"InvalidUTF8", "x\xffy"},
	{"C1", "x\u0085y"},
	{"DEL", "x\x7fy"},
	// 3000 bytes that do not compress: past every maximum, and past what
	// PostgreSQL can index.
	{"TooLong", incompressible(3000)},
}

// incompressible returns n pseudo-random letters and digits, always the
// same: a value a store cannot shrink by compressing it.
func incompressible(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = chars[x%uint64(len(chars))]
	}
	return string(b)
}

// badTimes are the values each time field is tried with.
var badTimes = []struct {
	name string
	v    time.Time
}{
	{"Year1600", time.Date(1600, 6, 1, 0, 0, 0, 0, time.UTC)},
	{"JustBefore1900", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)},
	{"Year2200", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"Year2300", time.Date(2300, 6, 1, 0, 0, 0, 0, time.UTC)},
	{"Year12000", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
}

// inputWorld is what the bad inputs are aimed at: a generated series with
// a redeemed coupon (alice's) and a held one (bob's), and an uploaded
// series with two codes.
type inputWorld struct {
	g, u      series.Series
	redeemed  coupon.Coupon
	held      coupon.Coupon
	reds      coupon.Redemption
	hold      coupon.Redemption
	stateKeys []store.CounterKey
}

func newInputWorld(e *env) *inputWorld {
	e.t.Helper()
	w := &inputWorld{g: e.gen("g", func(s *series.Series) { s.Transferable = true })}
	w.u = e.createSeries(baseSeries("u", uploadSrc()))
	e.upload(w.u.ID, "U-1", "U-2")
	w.redeemed = e.issue(w.g.ID, alice)
	w.reds = e.redeem(w.redeemed.Code, alice, "k-1").Redemption
	w.held = e.issue(w.g.ID, bob)
	w.hold = e.hold(w.held.Code, bob, "cart-1", 15*time.Minute).Redemption
	w.stateKeys = e.stateKeys(w.g.ID, w.u.ID)
	return w
}

// storeState is everything a store holds that an engine operation could
// change, read through the store: series, coupons, redemptions, the whole
// history, the code sequences and the counters of the given keys.
type storeState struct {
	Series      []series.Series
	Coupons     []coupon.Coupon
	Redemptions []coupon.Redemption
	Events      []coupon.Event
	Next        []int64
	Counts      []store.Count
}

// stateKeys are the counters of the given series for every known customer
// and every coupon.
func (e *env) stateKeys(seriesIDs ...string) []store.CounterKey {
	e.t.Helper()
	var keys []store.CounterKey
	customers := []string{alice, bob, carol, dave, erin}
	for _, id := range seriesIDs {
		keys = append(keys, key(limits.SeriesIssued, id, "", ""), key(limits.SeriesUses, id, "", ""))
		for _, c := range customers {
			keys = append(keys, key(limits.CustomerIssued, id, "", c), key(limits.CustomerSeriesUses, id, "", c))
		}
		for _, cp := range e.seriesCoupons(id) {
			keys = append(keys, codeCounterKey(limits.CodeUses, id, codeScopeOf(&cp), ""))
			for _, c := range customers {
				keys = append(keys, codeCounterKey(limits.CustomerCodeUses, id, codeScopeOf(&cp), c))
			}
		}
	}
	return keys
}

func (e *env) state(keys []store.CounterKey) storeState {
	e.t.Helper()
	var s storeState
	var err error
	if s.Series, err = e.st.ListSeries(e.ctx, store.SeriesQuery{}); err != nil {
		e.t.Fatalf("ListSeries: %v", err)
	}
	if s.Coupons, err = e.st.ListCoupons(e.ctx, store.CouponQuery{}); err != nil {
		e.t.Fatalf("ListCoupons: %v", err)
	}
	if s.Redemptions, err = e.st.ListRedemptions(e.ctx, store.RedemptionQuery{}); err != nil {
		e.t.Fatalf("ListRedemptions: %v", err)
	}
	s.Events = e.events(store.EventQuery{})
	for _, x := range s.Series {
		n, err := e.st.NextIndex(e.ctx, x.ID)
		if err != nil {
			e.t.Fatalf("NextIndex(%s): %v", x.ID, err)
		}
		s.Next = append(s.Next, n)
	}
	s.Counts = make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, s.Counts); err != nil {
		e.t.Fatalf("Counters: %v", err)
	}
	return s
}

// badInput is one operation given one bad value in one field.
type badInput[V any] struct {
	op, field string
	code      errcode.Code // InvalidArgument when zero
	run       func(e *env, w *inputWorld, bad V) error
}

// checkRefusals runs each badInput with each bad value on one world, and
// checks the error and that the store's state did not change.
func checkRefusals[V any](t *testing.T, e *env, cases []badInput[V], values []struct {
	name string
	v    V
}) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	for _, c := range cases {
		for _, b := range values {
			t.Run(c.op+"/"+c.field+"/"+b.name, func(t *testing.T) {
				code := c.code
				if code == 0 {
					code = errcode.InvalidArgument
				}
				wantField(t, c.run(e, w, b.v), code, c.field, "%s with a bad %s", c.op, c.field)
				if after := e.state(w.stateKeys); !same(t, after, before, "%s with a bad %s changes nothing in the store", c.op, c.field) {
					before = after // report each change once
				}
			})
		}
	}
}

func ref(id string) couponkit.CustomerRef { return couponkit.ByID(id) }

// heldUse is a valid use of bob's held coupon, which the cases spoil.
func heldUse(x *inputWorld) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{Code: x.held.Code, SeriesID: x.g.ID, Customer: ref(bob), IdempotencyKey: "k-new", Bill: eur("100")}
}

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

func testInputStrings(t *testing.T, e *env) {
	cases := stringRefusals
	values := make([]struct {
		name string
		v    string
	}, len(badStrings))
	for i, b := range badStrings {
		values[i].name, values[i].v = b.name, b.v
	}
	checkRefusals(t, e, cases, values)
}

func testInputTimes(t *testing.T, e *env) {
	cases := []badInput[time.Time]{
		{op: "Upload", field: "Rows[1].ExpiresAt", run: func(e *env, x *inputWorld, b time.Time) error {
			return uploadErr(e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: x.u.ID, Rows: []couponkit.UploadRow{{Code: "U-1"}, {Code: "U-9", ExpiresAt: b}}, Actor: "op"}))
		}},
		{op: "RemindersDue", field: "From", run: func(e *env, x *inputWorld, b time.Time) error {
			_, err := e.e.RemindersDue(e.ctx, b, t0)
			return err
		}},
		{op: "RemindersDue", field: "To", run: func(e *env, x *inputWorld, b time.Time) error {
			_, err := e.e.RemindersDue(e.ctx, t0, b)
			return err
		}},
	}
	for _, c := range seriesTimeFields {
		cases = append(cases, badInput[time.Time]{op: "CreateSeries", field: c.field, code: errcode.InvalidConfig,
			run: func(e *env, x *inputWorld, b time.Time) error {
				s := baseSeries("bad time", genSrc())
				c.set(&s, b)
				_, err := e.e.CreateSeries(e.ctx, s)
				return err
			}})
	}
	checkRefusals(t, e, cases, badTimes)
}

// testInputHoldEnd: a hold whose end would pass the range is refused.
func testInputHoldEnd(t *testing.T, e *env) {
	const year = 365 * 24 * time.Hour
	checkRefusals(t, e, []badInput[time.Duration]{
		{op: "Hold", field: "TTL", run: func(e *env, x *inputWorld, ttl time.Duration) error {
			_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(x.held.Code, bob, "k-new", "100"), TTL: ttl})
			return err
		}},
	}, []struct {
		name string
		v    time.Duration
	}{{"171Years", 171 * year}, {"240Years", 240 * year}, {"290Years", 290 * year}})
}

// seriesTimeFields are the times of a series a caller sets.
var seriesTimeFields = []struct {
	field string
	set   func(*series.Series, time.Time)
}{
	{"Start", func(s *series.Series, t time.Time) { s.Start = t }},
	{"End", func(s *series.Series, t time.Time) { s.End = t }},
	{"Redemption.Start", func(s *series.Series, t time.Time) { s.Redemption.Start = t }},
	{"Redemption.NewCustomers.RegisteredFrom", func(s *series.Series, t time.Time) { s.Redemption.NewCustomers.RegisteredFrom = t }},
	{"Redemption.NewCustomers.RegisteredTo", func(s *series.Series, t time.Time) { s.Redemption.NewCustomers.RegisteredTo = t }},
}

// testInputSeries: a series' own strings are checked by its validation,
// which reports InvalidConfig, as for every other rule of a series.
func testInputSeries(t *testing.T, e *env) {
	var cases []badInput[string]
	for _, c := range []struct {
		field string
		set   func(*series.Series, string)
	}{
		{"ID", func(s *series.Series, v string) { s.ID = v }},
		{"Name", func(s *series.Series, v string) { s.Name = v }},
		{"TimeZone", func(s *series.Series, v string) { s.TimeZone = v }},
		{"Source.Prefix", func(s *series.Series, v string) { s.Source.Prefix = v }},
		{"Issuance.ExcludeSeries[0]", func(s *series.Series, v string) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{v}, 3
		}},
		{"Redemption.Places[0].ID", func(s *series.Series, v string) {
			s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Till, ID: v})
		}},
		{"Reminders[0].Channel", func(s *series.Series, v string) {
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: v}}
		}},
	} {
		cases = append(cases, badInput[string]{op: "CreateSeries", field: c.field, code: errcode.InvalidConfig,
			run: func(e *env, x *inputWorld, b string) error {
				s := baseSeries("bad string", genSrc())
				c.set(&s, b)
				_, err := e.e.CreateSeries(e.ctx, s)
				return err
			}})
	}
	cases = append(cases, badInput[string]{op: "UpdateSeries", field: "Name", code: errcode.InvalidConfig,
		run: func(e *env, x *inputWorld, b string) error {
			s := x.u
			s.Name = b
			_, err := e.e.UpdateSeries(e.ctx, s)
			return err
		}})
	values := make([]struct {
		name string
		v    string
	}, len(badStrings))
	for i, b := range badStrings {
		values[i].name, values[i].v = b.name, b.v
	}
	checkRefusals(t, e, cases, values)
}

// testInputClock: a clock outside the range refuses every operation, which
// then changes nothing.
func testInputClock(t *testing.T, e *env) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	ops := []struct {
		name string
		run  func() error
	}{
		{"Issue", func() error { _, err := e.e.Issue(e.ctx, issueReq(w.g.ID, ref(carol))); return err }},
		{"IssueBatch", func() error {
			_, err := e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{issueReq(w.g.ID, ref(carol))})
			return err
		}},
		{"Upload", func() error {
			_, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: w.u.ID, Rows: []couponkit.UploadRow{{Code: "U-9", Customer: ref(carol)}}, Actor: "op"})
			return err
		}},
		{"Redeem", func() error { _, err := e.e.Redeem(e.ctx, redeemReq(w.held.Code, bob, "k-2", "100")); return err }},
		{"Hold", func() error {
			_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(w.held.Code, bob, "k-2", "100"), TTL: time.Minute})
			return err
		}},
		{"Validate", func() error { _, err := e.e.Validate(e.ctx, redeemReq(w.held.Code, bob, "k-2", "100")); return err }},
		{"Confirm", func() error {
			_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: w.hold.ID}, Actor: "till"})
			return err
		}},
		{"Release", func() error {
			return e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: w.hold.ID}, Actor: "till"})
		}},
		{"ReleaseLapsedHolds", func() error { _, err := e.e.ReleaseLapsedHolds(e.ctx); return err }},
		{"Reverse", func() error {
			_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: w.reds.ID}})
			return err
		}},
		{"Revoke", func() error {
			_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: w.u.ID, Scope: couponkit.AllUnredeemed})
			return err
		}},
		{"Transfer", func() error {
			_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: w.held.Code, To: ref(carol)})
			return err
		}},
		{"Reissue", func() error {
			_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: w.redeemed.Code})
			return err
		}},
		{"ExpireDue", func() error { _, err := e.e.ExpireDue(e.ctx); return err }},
		{"Generate", func() error {
			_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: w.g.ID, N: 3})
			return err
		}},
		{"CreateSeries", func() error { _, err := e.e.CreateSeries(e.ctx, baseSeries("late", genSrc())); return err }},
		{"SetSeriesStatus", func() error { _, err := e.e.SetSeriesStatus(e.ctx, w.u.ID, series.Paused); return err }},
		{"CustomerCoupons", func() error { _, err := e.e.CustomerCoupons(e.ctx, ref(alice), ""); return err }},
	}
	for _, at := range badTimes {
		e.clk.ns.Store(at.v.UnixNano())
		if at.v.Year() > 2261 || at.v.Year() < 1678 {
			continue // beyond what the fake clock's nanoseconds can tell
		}
		for _, op := range ops {
			t.Run(at.name+"/"+op.name, func(t *testing.T) {
				wantField(t, op.run(), errcode.InvalidArgument, "Config.Now", "%s with the clock at %s", op.name, at.v)
				same(t, e.state(w.stateKeys), before, "%s with a clock outside the range changes nothing", op.name)
			})
		}
	}
	e.clk.ns.Store(t0.UnixNano())
	_, err := e.e.Issue(e.ctx, issueReq(w.g.ID, ref(carol)))
	wantOK(t, err, "an issue once the clock is back in range")
}

// testInputDirectory: the id a customer directory resolves to is checked
// like an id the caller gives: it is what the store keeps as the holder.
func testInputDirectory(t *testing.T, e *env) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	for _, b := range badStrings {
		mobile := "+44" + b.name
		e.dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: b.v}, Mobile: mobile})
		_, err := e.e.Issue(e.ctx, issueReq(w.g.ID, couponkit.CustomerRef{Mobile: mobile}))
		wantField(t, err, errcode.InvalidArgument, "Config.Customers", "an issue to a customer the directory resolves to a %s id", b.name)
		if err != nil && strings.Contains(err.Error(), b.v) {
			t.Errorf("the error repeats the bad id: %v", err)
		}
	}
	same(t, e.state(w.stateKeys), before, "issues to customers with bad ids change nothing")
}

// testInputExpiryCap: an expiry the engine computes past the range is
// capped at 1 January 2200, which every store keeps.
func testInputExpiryCap(t *testing.T, e *env) {
	end := input.End()
	s := e.gen("century", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: series.MaxExpiryDays} })
	e.clk.ns.Store(end.Add(-30 * 24 * time.Hour).UnixNano())
	c := e.issue(s.ID, alice)
	if !c.ExpiresAt.Equal(end) {
		t.Errorf("a coupon issued 30 days before 2200 for %d days expires at %v, want %v", series.MaxExpiryDays, c.ExpiresAt, end)
	}
	same(t, e.stored(c.ID), c, "the store keeps the capped expiry")
	e.clk.ns.Store(end.Add(-time.Second).UnixNano())
	r := e.redeem(c.Code, alice, "last-second")
	same(t, e.storedRedemption(r.Redemption.ID), r.Redemption, "a redemption in the last second of the range is stored as made")
}

// testInputBulk: a row of a bulk file with a bad identifier or code is
// rejected like any refused row, on every store; the run goes on, and runs
// again the same way (the good rows, issued by the first run, replay).
// (The engine resolves customers by id alone here, so every id reaches the
// checks and, without them, the store.)
func testInputBulk(t *testing.T, e *env) {
	eng, err := couponkit.New(couponkit.Config{Store: e.st, Now: e.clk.Now, CodeKey: seriesKey})
	mustOK(t, err, "couponkit.New")
	g := e.gen("bulk issue")
	u := e.createSeries(baseSeries("bulk upload", uploadSrc()))
	issueFile := "customer_id\nalice\n\"nul\x00id\"\nbob\n" + incompressible(3000) + "\n\"c1\u0085id\"\ncarol\n"
	uploadFile := "code,customer_id\nB-1,alice\n\"B\x00-2\",bob\nB-3,\"x\x7f\"\nB-4,\n"
	for run := 1; run <= 2; run++ {
		rep, err := bulk.IssueFile(e.ctx, eng, g.ID, strings.NewReader(issueFile), bulk.Options{})
		if !wantOK(t, err, "issue file run %d with three bad ids", run) {
			return
		}
		wantRejected(t, rep, []int{2, 4, 5}, "issue file run %d", run)
		if rep.Applied+rep.Replayed != 3 || rep.Replayed != 3*(run-1) || rep.Done() != 6 {
			t.Errorf("issue file run %d: applied %d, replayed %d, done %d; want the 3 good rows applied (replayed when run again), all 6 rows done",
				run, rep.Applied, rep.Replayed, rep.Done())
		}
		rep, err = bulk.UploadFile(e.ctx, eng, u.ID, strings.NewReader(uploadFile), bulk.Options{})
		if !wantOK(t, err, "upload file run %d with a bad code and a bad id", run) {
			return
		}
		wantRejected(t, rep, []int{2, 3}, "upload file run %d", run)
		if rep.Done() != 4 {
			t.Errorf("upload file run %d: done %d, want all 4 rows", run, rep.Done())
		}
	}
	same(t, len(e.seriesCoupons(g.ID)), 3, "the issue file issued to the three good rows, once")
	// The upload adds B-3, whose customer is refused, to the pool (see
	// bulk.UploadFile), but never the code with a NUL.
	same(t, len(e.seriesCoupons(u.ID)), 3, "the upload file added the codes B-1, B-3 and B-4, once")
}

// wantRejected fails the test unless exactly the given rows of a report
// are rejected, each as InvalidArgument.
func wantRejected(t *testing.T, rep *bulk.Report, rows []int, what string, args ...any) {
	t.Helper()
	var got []int
	for _, r := range rep.Rejections {
		got = append(got, r.Row)
		if r.Code != errcode.InvalidArgument {
			t.Errorf("%s: row %d rejected with %d (%s), want %d", fmt.Sprintf(what, args...), r.Row, r.Code, r.Reason, errcode.InvalidArgument)
		}
	}
	same(t, got, rows, "%s: the rejected rows", fmt.Sprintf(what, args...))
}
