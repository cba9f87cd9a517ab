package bulk_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Uploading codes alone, then with customers; running a file again changes
// nothing; a code already issued to someone else is rejected.
func TestUploadFile(t *testing.T) {
	v := newEnv(t)
	id := v.create(uploaded())

	rep, err := bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(file("code", "P-1", "P-2", "P-3")), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 3 || rep.Applied != 3 || rep.Rejected != 0 {
		t.Errorf("codes alone: %+v", rep)
	}

	withCustomers := file("code,customer_id,email", "Q-1,alice,", "Q-2,,bob@example.com", "P-1,carol,", "Q-3,nobody,")
	rep, err = bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(withCustomers), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	if rep.Added != 3 || rep.Existing != 1 || rep.Applied != 3 {
		t.Errorf("with customers: %+v", rep)
	}
	if d := cmp.Diff(map[int]errcode.Code{4: errcode.UnknownCustomer}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	for who, n := range map[string]int{"alice": 1, "bob": 1, "carol": 1} {
		if got := v.held(id, couponkit.ByID(who)); got != n {
			t.Errorf("%s holds %d, want %d", who, got, n)
		}
	}

	// The same file again: every code exists, every row's code is already
	// its customer's; the unknown customer is still rejected.
	rep, err = bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(withCustomers), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 0 || rep.Existing != 4 || rep.Unchanged != 3 || rep.Applied != 0 || rep.Rejected != 1 {
		t.Errorf("again: %+v", rep)
	}

	// A code already issued to alice, uploaded for bob, is refused rather
	// than silently left with alice.
	rep, err = bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(file("code,mobile", "q-1,+4470000002", "P-2,+4470000002")), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]errcode.Code{1: errcode.AlreadyIssued}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if rep.Applied != 1 || v.held(id, couponkit.ByID("bob")) != 2 {
		t.Errorf("P-2 goes to bob: %+v", rep)
	}
}

// The expires_at column sets a code's own expiry.
func TestUploadExpiry(t *testing.T) {
	v := newEnv(t)
	s := uploaded()
	s.TimeZone = "Europe/Berlin"
	s.Expiry = series.Expiry{Kind: series.Never}
	id := v.create(s)
	rep, err := bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(file("code,customer_id,expires_at",
		"E-1,alice,2026-12-31",
		"E-2,,2027-01-15T10:00:00Z",
		"E-3,,31/12/2026",
		"E-4,,",
	)), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]errcode.Code{3: errcode.InvalidArgument}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := map[string]time.Time{
		"E-1": time.Date(2027, 1, 1, 0, 0, 0, 0, berlin),
		"E-2": time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC),
		"E-4": {},
	}
	for code, exp := range want {
		d, err := v.e.Coupon(v.ctx, id, code, couponkit.CustomerRef{})
		if err != nil {
			t.Fatal(err)
		}
		if !d.ExpiresAt.Equal(exp) {
			t.Errorf("%s expires %v, want %v", code, d.ExpiresAt, exp)
		}
	}
}

func TestUploadHeader(t *testing.T) {
	v := newEnv(t)
	id := v.create(uploaded())
	_, err := bulk.UploadFile(v.ctx, v.e, id, strings.NewReader("customer_id\nalice\n"), bulk.Options{})
	if ce := badFile(t, err, 1); !strings.Contains(ce.Message, "no code column") {
		t.Errorf("message %q", ce.Message)
	}
}

// Revoking for a file of customers revokes every unredeemed coupon of each,
// with the engine's rules.
func TestRevokeFile(t *testing.T) {
	v := newEnv(t)
	s := generated()
	id := v.create(s)
	issue := func(who string) coupon.Coupon {
		r, err := v.e.Issue(v.ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID(who)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Coupon
	}
	issue("alice")
	issue("alice")
	b := issue("bob")
	issue("bob")
	if _, err := v.e.Redeem(v.ctx, couponkit.RedeemRequest{Code: b.Code, Customer: couponkit.ByID("bob"), IdempotencyKey: "t1",
		Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	f := file("customer_id,mobile", "alice,", ",+4470000002", "carol,", "nobody,", ",")
	rep, err := bulk.RevokeFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{Actor: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	if rep.Applied != 2 || rep.Unchanged != 1 || rep.Revoked != 3 {
		t.Errorf("report %+v", rep)
	}
	if d := cmp.Diff(map[int]errcode.Code{4: errcode.UnknownCustomer, 5: errcode.InvalidArgument}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	cs, err := v.e.CustomerCoupons(v.ctx, couponkit.ByID("bob"), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if want := coupon.Revoked; c.ID == b.ID {
			want = coupon.Redeemed
			if c.State != want {
				t.Errorf("bob's redeemed coupon is %v", c.State)
			}
		} else if c.State != want {
			t.Errorf("bob's other coupon is %v", c.State)
		}
	}
	if !strings.Contains(rep.String(), "3 coupons revoked") {
		t.Errorf("summary %q", rep.String())
	}
}

// More than 100 unredeemed coupons for one customer: the row is rejected
// and nothing of theirs revoked (the engine's cap).
func TestRevokeFileCap(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	for range couponkit.MaxRevokeByCustomer + 1 {
		if _, err := v.e.Issue(v.ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("alice")}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := bulk.RevokeFile(v.ctx, v.e, id, strings.NewReader("id\nalice\n"), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]errcode.Code{1: errcode.TooMany}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if rep.Revoked != 0 {
		t.Errorf("revoked %d", rep.Revoked)
	}
}

// Revoking in an ended series stops the run with 712.
func TestRevokeFileEndedSeries(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	if _, err := v.e.SetSeriesStatus(v.ctx, id, series.Ended); err != nil {
		t.Fatal(err)
	}
	rep, err := bulk.RevokeFile(v.ctx, v.e, id, strings.NewReader("id\nalice\nbob\n"), bulk.Options{})
	if !errors.Is(err, errcode.ErrSeriesExpired) || rep.Done() != 0 {
		t.Errorf("err %v, report %+v", err, rep)
	}
}

// Rejections kept in memory are capped; every one is counted and streamed.
func TestRejectionCap(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	rows := make([]string, 25)
	for i := range rows {
		rows[i] = fmt.Sprintf("ghost%d", i)
	}
	var issues strings.Builder
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("id", rows...)), bulk.Options{MaxRejections: 10, Issues: &issues, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 25 || len(rep.Rejections) != 10 || !rep.Truncated() {
		t.Errorf("report: %d rejected, %d kept", rep.Rejected, len(rep.Rejections))
	}
	if got := readCSV(t, issues.String()); len(got) != 26 {
		t.Errorf("issues CSV has %d records, want 26", len(got))
	}
	rep, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("id", rows...)), bulk.Options{MaxRejections: -1})
	if err != nil || rep.Rejected != 25 || len(rep.Rejections) != 0 {
		t.Errorf("none kept: %+v %v", rep, err)
	}
}
