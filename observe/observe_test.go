package observe_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

func TestClassify(t *testing.T) {
	refused := &refusal.Error{Refusals: []refusal.Refusal{{Code: errcode.Expired}, {Code: 1203}}}
	for _, tc := range []struct {
		name  string
		err   error
		want  observe.Result
		codes []errcode.Code
	}{
		{"nil", nil, observe.OK, nil},
		{"refusal list", refused, observe.Refused, []errcode.Code{errcode.Expired, 1203}},
		{"wrapped refusal", fmt.Errorf("redeem: %w", refused), observe.Refused, []errcode.Code{errcode.Expired, 1203}},
		{"invalid argument", errcode.New(errcode.InvalidArgument, "Code", "empty"), observe.Refused, []errcode.Code{errcode.InvalidArgument}},
		{"fields, a code twice", errors.Join(errcode.New(errcode.InvalidArgument, "A", ""), errcode.New(errcode.InvalidArgument, "B", "")), observe.Refused, []errcode.Code{errcode.InvalidArgument}},
		{"guard", &store.GuardError{}, observe.Refused, []errcode.Code{errcode.GuardFailed}},
		{"limit after guards", &errcode.Error{Code: errcode.LimitReached, Err: &store.GuardError{}}, observe.Refused, []errcode.Code{errcode.LimitReached}},
		{"not found", store.NotFound("coupon", "c1"), observe.Refused, []errcode.Code{errcode.NotFound}},
		{"conflict", &store.ConflictError{Kind: "transaction"}, observe.Failed, []errcode.Code{errcode.Conflict}},
		{"unavailable", errcode.Wrap(errcode.Unavailable, errors.New("dial"), "down"), observe.Failed, []errcode.Code{errcode.Unavailable}},
		{"cancelled", fmt.Errorf("read: %w", context.Canceled), observe.Failed, nil},
		{"cancelled with a code", errcode.Wrap(errcode.Unavailable, context.DeadlineExceeded, ""), observe.Failed, []errcode.Code{errcode.Unavailable}},
		{"plain error", errors.New("disk full"), observe.Failed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, codes := observe.Classify(tc.err)
			if got != tc.want || !slices.Equal(codes, tc.codes) {
				t.Errorf("Classify = %s %v, want %s %v", got, codes, tc.want, tc.codes)
			}
			o := observe.OutcomeOf(tc.err, 5)
			if o.Result != got || o.Err != tc.err || o.Latency != 5 {
				t.Errorf("OutcomeOf = %+v", o)
			}
		})
	}
}
