package httperr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/refusal"
)

func TestStatus(t *testing.T) {
	refused := &refusal.Error{Refusals: []refusal.Refusal{{Code: 1211, Rule: refusal.BillBelowMin, Message: "the bill is below 50 EUR"}}}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errcode.New(errcode.InvalidArgument, "Code", "is required"), 400},
		{errcode.New(errcode.TooMany, "", ""), 400},
		{errcode.New(errcode.NothingToRevoke, "", ""), 400},
		{errcode.New(errcode.CouponNotFound, "", ""), 404},
		{errcode.New(errcode.UnknownCustomer, "", ""), 404},
		{fmt.Errorf("redeem: %w", errcode.New(errcode.KeyMismatch, "", "")), 409},
		{errcode.New(errcode.Conflict, "", ""), 409},
		{refused, 422},
		{errcode.New(errcode.Redeemed, "", ""), 422},
		{errcode.New(errcode.HoldReleased, "", ""), 422},
		{errcode.New(errcode.Unavailable, "", ""), 503},
		{context.Canceled, 503},
		{&http.MaxBytesError{Limit: 1}, 413},
		{&httperr.StatusError{Status: 429, Name: "throttled", Message: "slow down"}, 429},
		{errors.New("disk on fire"), 500},
	} {
		if got := httperr.Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestInternalHidden checks that a 500 tells nothing of its cause.
func TestInternalHidden(t *testing.T) {
	status, env := httperr.Describe(errors.New("connecting to db.internal:5432 as admin: refused"))
	if status != 500 || strings.Contains(env.Error.Message, "db.internal") || env.Error.Message != "internal error" {
		t.Errorf("%d %+v: a 500 shows its cause", status, env)
	}
}

// TestRoundTrip checks that a client gets back the typed error the
// server answered.
func TestRoundTrip(t *testing.T) {
	refused := &refusal.Error{Refusals: []refusal.Refusal{{Code: 1211, Rule: refusal.BillBelowMin, Message: "below"}}}
	for _, err := range []error{refused, errcode.New(errcode.KeyMismatch, "IdempotencyKey", "used before")} {
		w := httptest.NewRecorder()
		httperr.Write(w, err)
		got, ok := httperr.Err(w.Body.Bytes())
		if !ok || got.Error() != err.Error() {
			t.Errorf("round trip of %v: %v, %v", err, got, ok)
		}
	}
}

func ExampleWrite() {
	w := httptest.NewRecorder()
	httperr.Write(w, errcode.New(errcode.InvalidArgument, "Bill", "is negative"))
	fmt.Print(w.Code, " ", w.Body)
	// Output: 400 {"error":{"code":1002,"name":"invalid argument","message":"is negative","field":"Bill"}}
}
