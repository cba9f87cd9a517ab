package couponkit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/jsontest"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The engine's requests, results, query results and customer types are
// written to JSON with snake_case keys and read back unchanged, every field
// set.
func TestJSON(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	for _, typ := range []reflect.Type{
		reflect.TypeFor[couponkit.CustomerRef](), reflect.TypeFor[couponkit.Customer](),
		reflect.TypeFor[couponkit.CustomerRecord](), reflect.TypeFor[couponkit.CouponView](),
		reflect.TypeFor[couponkit.CouponDetails](), reflect.TypeFor[couponkit.SeriesCounters](),
		reflect.TypeFor[couponkit.ReminderDue](),
		reflect.TypeFor[couponkit.IssueRequest](), reflect.TypeFor[couponkit.IssueResult](),
		reflect.TypeFor[couponkit.RedeemRequest](), reflect.TypeFor[couponkit.RedeemResult](),
		reflect.TypeFor[couponkit.HoldRequest](),
		reflect.TypeFor[couponkit.Check](), reflect.TypeFor[couponkit.UseRef](),
		reflect.TypeFor[couponkit.ConfirmRequest](), reflect.TypeFor[couponkit.ReleaseRequest](),
		reflect.TypeFor[couponkit.ReverseRequest](), reflect.TypeFor[couponkit.TransferRequest](),
		reflect.TypeFor[couponkit.ReissueRequest](), reflect.TypeFor[couponkit.ReissueResult](),
		reflect.TypeFor[couponkit.RevokeRequest](), reflect.TypeFor[couponkit.RevokeResult](),
		reflect.TypeFor[couponkit.RevokedCoupon](), reflect.TypeFor[couponkit.RevokeFailure](),
		reflect.TypeFor[couponkit.AudienceRequest](), reflect.TypeFor[couponkit.AudienceResult](),
		reflect.TypeFor[couponkit.AudienceListRequest](), reflect.TypeFor[couponkit.AudiencePage](),
		reflect.TypeFor[couponkit.UploadRequest](), reflect.TypeFor[couponkit.UploadRow](), reflect.TypeFor[couponkit.UploadResult](),
		reflect.TypeFor[couponkit.GenerateRequest](),
		// AudienceOutcome and RowError write their own JSON, which
		// the Errors subtest checks.
	} {
		jsontest.CheckSnakeCase(t, typ)
	}
	c := coupon.Coupon{ID: "c1", SeriesID: "s1", Code: "AB12", Canonical: "AB12", State: coupon.Issued, Holder: "alice",
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), Redemptions: 1, LastStatusChange: at, Version: 2}
	jsontest.RoundTrip(t, couponkit.CustomerRef{ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CustomerRef{ID: "alice", Mobile: "+4470000001", Email: "a@example.com", ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CustomerRecord{Customer: couponkit.Customer{ID: "alice", Registered: at, Transactions: 4},
		Mobile: "+4470000001", Email: "a@example.com", ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CouponDetails{
		CouponView: couponkit.CouponView{Coupon: c, Now: coupon.Expired},
		Uses: []coupon.Redemption{{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k",
			Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at, Bill: decimal.NewFromInt(100), Discount: decimal.NewFromInt(10), Currency: "EUR"}},
	})
	jsontest.RoundTrip(t, couponkit.SeriesCounters{Issued: 10, Uses: 4, RemainingIssuable: 90, RemainingUses: -1})
	jsontest.RoundTrip(t, couponkit.ReminderDue{SeriesID: "s1", Coupon: c,
		Reminder: series.Reminder{DaysBefore: 2, At: series.At(10, 0), Channel: "sms"}, DueAt: at.Add(time.Hour), ExpiresAt: c.ExpiresAt})
	t.Run("Operations", testJSONOperations)
	t.Run("Pools", testJSONPools)
	t.Run("Errors", testJSONErrors)
	t.Run("Enums", testJSONEnums)
}

// The requests and results of the engine's operations, every field set.
func testJSONOperations(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	c := coupon.Coupon{ID: "c1", SeriesID: "s1", Code: "AB12", Canonical: "AB12", State: coupon.Redeemed, Holder: "alice",
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), Redemptions: 1, LastStatusChange: at, Version: 2}
	fresh := coupon.Coupon{ID: "c2", SeriesID: "s1", Code: "CD34", Canonical: "CD34", State: coupon.Issued, Holder: "alice",
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), LastStatusChange: at, ReissuedFrom: "c1", Version: 1}
	bob := couponkit.CustomerRef{Email: "bob@example.com"}
	ref := couponkit.UseRef{ID: "r1", Code: "AB12", SeriesID: "s1", IdempotencyKey: "pos-1", Customer: couponkit.ByID("alice")}

	jsontest.RoundTrip(t, couponkit.IssueRequest{SeriesID: "s1", Customer: couponkit.ByID("alice"), Code: "ab12", IdempotencyKey: "crm-1",
		Actor: "crm", Reason: "welcome"})
	keyed := fresh
	keyed.IssueKey = "crm-1"
	jsontest.RoundTrip(t, couponkit.IssueResult{Coupon: keyed, Resent: true, Replayed: true})
	redeem := couponkit.RedeemRequest{Code: "ab12", SeriesID: "s1", Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1",
		Bill:  series.Money{Amount: decimal.RequireFromString("64.90"), Currency: "EUR"},
		Place: limits.Place{Till: "t1", Store: "st1", Zone: "z1", Concept: "c1"}, Actor: "till-7"}
	jsontest.RoundTrip(t, redeem)
	// A hold is the redemption's fields, in the same object, and its time
	// to live.
	doc := jsontest.RoundTrip(t, couponkit.HoldRequest{RedeemRequest: redeem, TTL: 15 * time.Minute})
	for _, want := range []string{`"idempotency_key":"pos-1"`, `"ttl":`} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("a hold request is written with %s: %s", want, doc)
		}
	}
	jsontest.RoundTrip(t, couponkit.ConfirmRequest{Hold: ref, Actor: "till-7"})
	jsontest.RoundTrip(t, couponkit.ReleaseRequest{Hold: ref, Actor: "till-7", Reason: "cart abandoned"})
	jsontest.RoundTrip(t, couponkit.ReverseRequest{Redemption: ref, Actor: "backoffice", Reason: "return"})
	jsontest.RoundTrip(t, couponkit.TransferRequest{Code: "AB12", SeriesID: "s1", From: couponkit.ByID("alice"), To: bob, Actor: "crm", Reason: "gift"})
	jsontest.RoundTrip(t, couponkit.ReissueRequest{Code: "AB12", SeriesID: "s1", Notify: true, Actor: "crm"})
	jsontest.RoundTrip(t, couponkit.ReissueResult{Old: c, New: fresh})

	req := couponkit.RevokeRequest{SeriesID: "s1", Codes: []string{"AB12", "CD34"}, Customer: bob, Scope: couponkit.AllUnredeemed,
		CodeCase: couponkit.AsCreated, Actor: "ops", Reason: "fraud"}
	doc = jsontest.RoundTrip(t, req)
	for _, want := range []string{`"scope":"all_unredeemed"`, `"code_case":"as_created"`} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("a revoke request is written with %s: %s", want, doc)
		}
	}
	// The callback has no JSON form: a request with one is written as
	// without it.
	req.OnRevoked = func([]couponkit.RevokedCoupon) error { return nil }
	if b, err := json.Marshal(req); err != nil || !bytes.Equal(b, doc) {
		t.Errorf("a revoke request with OnRevoked is written as %s (%v), want %s", b, err, doc)
	}
	jsontest.RoundTrip(t, couponkit.RevokeResult{Total: 3,
		Revoked:      []couponkit.RevokedCoupon{{CouponID: "c1", Code: "AB12", Holder: "alice"}},
		RevokedCount: 1,
		Failed: []couponkit.RevokeFailure{
			{Code: errcode.Redeemed, Message: "coupon code redeemed", Codes: []string{"CD34"}},
			{Code: errcode.CouponNotFound, Message: "coupon not found", Codes: []string{"NOSUCH1", "NOSUCH2"}},
		}})

	jsontest.RoundTrip(t, couponkit.AudienceRequest{SeriesID: "s1", Customers: []couponkit.CustomerRef{couponkit.ByID("alice"), bob},
		Actor: "crm", Reason: "vip list"})
	jsontest.RoundTrip(t, couponkit.AudienceResult{Changed: 1, Unchanged: 1, Failed: 1, Outcomes: []couponkit.AudienceOutcome{
		{Customer: "alice", Changed: true},
		{Customer: "bob"},
		{Err: errcode.New(errcode.UnknownCustomer, "Customer", "no customer carl")},
	}})
	jsontest.RoundTrip(t, couponkit.AudienceListRequest{SeriesID: "s1", After: "alice", Limit: 50})
	jsontest.RoundTrip(t, couponkit.AudiencePage{Members: []store.AudienceMember{{Customer: "alice", AddedAt: at}, {Customer: "bob", AddedAt: at}}, Next: "bob"})
}

// The requests and results that fill a series' pool, every field set.
func testJSONPools(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	jsontest.RoundTrip(t, couponkit.UploadRow{Code: "F-1", Customer: couponkit.CustomerRef{Mobile: "+4470000001"}, ExpiresAt: at})
	jsontest.RoundTrip(t, couponkit.UploadRequest{SeriesID: "s1", Actor: "ops", Rows: []couponkit.UploadRow{
		{Code: "F-1", Customer: couponkit.CustomerRef{Mobile: "+4470000001"}, ExpiresAt: at},
		{Code: "F-2"},
	}})
	gen := couponkit.GenerateRequest{SeriesID: "s1", N: 50000}
	doc := jsontest.RoundTrip(t, gen)
	// The progress callback has no JSON form: a request with one is
	// written as without it.
	gen.Progress = func(int) {}
	if b, err := json.Marshal(gen); err != nil || !bytes.Equal(b, doc) {
		t.Errorf("a generate request with Progress is written as %s (%v), want %s", b, err, doc)
	}
	jsontest.RoundTrip(t, couponkit.UploadResult{Added: 4, Skipped: 1, Failed: []couponkit.RowError{
		{Row: 2, Err: errcode.New(errcode.InvalidCode, "Code", `code "BL*G" is empty or has characters other than letters, digits, '-' and '_'`)},
		{Row: 3, Err: &refusal.Error{Refusals: []refusal.Refusal{
			{Code: 1221, Rule: refusal.CustomerIssues, Message: "This customer has received the most coupons of this offer allowed (3).",
				Params: refusal.Params{Limit: 3, Used: 3}},
			{Code: 1222, Rule: refusal.IssueGap, Message: "Wait until the gap between issues has passed.",
				Params: refusal.Params{NextAllowedAt: at.Add(24 * time.Hour)}},
		}}},
	}})
}

// An error in a bulk result is written in one of two forms: the refusals of
// a *refusal.Error, or the code, field and message of any other error, with
// the text of its cause and wrappers kept; each reads back as the error it
// describes.
func testJSONErrors(t *testing.T) {
	refused := &refusal.Error{Refusals: []refusal.Refusal{{Code: 1225, Rule: refusal.NotInAudience, Message: "Only listed customers."}}}
	for _, tc := range []struct {
		name string
		err  error
		doc  string // the JSON of RowError{Row: 7, Err: err}
		back error  // what it reads back as
	}{
		{"none", nil, `{"row":7}`, nil},
		{"errcode", errcode.New(errcode.InvalidArgument, "Rows[7].Customer.ID", "is empty"),
			`{"row":7,"error":{"code":1002,"field":"Rows[7].Customer.ID","message":"is empty"}}`,
			errcode.New(errcode.InvalidArgument, "Rows[7].Customer.ID", "is empty")},
		{"refusal", refused,
			`{"row":7,"error":{"refusals":[{"code":1225,"rule":"audience","message":"Only listed customers."}]}}`, refused},
		{"wrapped refusal", fmt.Errorf("issue: %w", refused),
			`{"row":7,"error":{"refusals":[{"code":1225,"rule":"audience","message":"Only listed customers."}]}}`, refused},
		{"errcode with a cause", errcode.Wrap(errcode.Unavailable, io.ErrUnexpectedEOF, "the store failed"),
			`{"row":7,"error":{"code":1304,"message":"the store failed: unexpected EOF"}}`,
			errcode.New(errcode.Unavailable, "", "the store failed: unexpected EOF")},
		{"wrapped errcode", fmt.Errorf("directory: %w", errcode.New(errcode.UnknownCustomer, "Customer", "no customer carl")),
			`{"row":7,"error":{"code":1004,"field":"Customer","message":"directory: couponkit: unknown customer (1004): Customer: no customer carl"}}`,
			errcode.New(errcode.UnknownCustomer, "Customer", "directory: couponkit: unknown customer (1004): Customer: no customer carl")},
		{"another error", errors.New("directory down"), `{"row":7,"error":{"code":0,"message":"directory down"}}`,
			errcode.New(0, "", "directory down")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(couponkit.RowError{Row: 7, Err: tc.err})
			if err != nil || string(b) != tc.doc {
				t.Fatalf("RowError with %v is written as %s (%v), want %s", tc.err, b, err, tc.doc)
			}
			var back couponkit.RowError
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if diff := cmp.Diff(couponkit.RowError{Row: 7, Err: tc.back}, back); diff != "" {
				t.Errorf("%s reads back as (-want +got):\n%s", b, diff)
			}
			out, err := json.Marshal(couponkit.AudienceOutcome{Err: tc.err})
			wantOut := `{"changed":false}`
			if tc.err != nil {
				wantOut = `{"changed":false,"error":` + strings.TrimSuffix(strings.TrimPrefix(tc.doc, `{"row":7,"error":`), "}") + "}"
			}
			if err != nil || string(out) != wantOut {
				t.Errorf("AudienceOutcome with %v is written as %s (%v), want %s", tc.err, out, err, wantOut)
			}
		})
	}
}

// The enums of the requests are written as their names and read in any
// ASCII case; an unknown value is an InvalidArgument error either way.
func testJSONEnums(t *testing.T) {
	for _, tc := range []struct {
		v    any
		name string
	}{
		{couponkit.NoScope, "none"}, {couponkit.AllUnredeemed, "all_unredeemed"}, {couponkit.OnlyUnissued, "only_unissued"},
		{couponkit.Upper, "upper"}, {couponkit.Lower, "lower"}, {couponkit.AsCreated, "as_created"},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != `"`+tc.name+`"` {
			t.Errorf("%v is written as %s (%v), want %q", tc.v, b, err, tc.name)
		}
		if s := fmt.Sprint(tc.v); s != tc.name {
			t.Errorf("%#v prints as %q, want %q", tc.v, s, tc.name)
		}
		back := reflect.New(reflect.TypeOf(tc.v))
		if err := json.Unmarshal([]byte(`"`+strings.ToUpper(tc.name)+`"`), back.Interface()); err != nil || back.Elem().Interface() != tc.v {
			t.Errorf("%q reads back as %v (%v), want %v", strings.ToUpper(tc.name), back.Elem().Interface(), err, tc.v)
		}
	}
	if _, err := json.Marshal(couponkit.RevokeScope(9)); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("an unknown scope is written without error: %v", err)
	}
	if _, err := json.Marshal(couponkit.CodeCase(9)); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("an unknown code case is written without error: %v", err)
	}
	var k couponkit.CodeCase
	// "ſ" (long s) upper-cases to S in Unicode; it is no ASCII letter.
	for _, bad := range []string{`"as_ſomething"`, `"loweſ"`, `"title"`, `""`} {
		if err := json.Unmarshal([]byte(bad), &k); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("code case %s reads without an InvalidArgument error: %v", bad, err)
		}
	}
}
