package couponkit

import (
	"context"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// The checks on a redemption's input run on every redemption: for valid
// input they allocate nothing.
func TestRedeemInputAllocatesNothing(t *testing.T) {
	e := &Engine{now: func() time.Time { return time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC) }, customers: checkedDirectory{IDsOnly{}}}
	req := RedeemRequest{
		Code: "SUMMER-2030", SeriesID: "s-1", Customer: ByID("Zoë"), IdempotencyKey: "pos-17/tx-9921",
		Bill: series.Money{Currency: "EUR"}, Place: limits.Place{Till: "till 4", Store: "Zürich HB"}, Actor: "pos",
	}
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		if err := e.admit(req.validate()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.customers.Resolve(ctx, req.Customer); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("checking a valid redemption allocates %v times", n)
	}
}

// Each request type names the field of a bad value by its path in the
// request.
func TestValidateNamesTheField(t *testing.T) {
	const bad = "a\x00b"
	for _, c := range []struct {
		field string
		err   error
	}{
		{"Customer.Email", (&IssueRequest{Customer: CustomerRef{Email: bad}}).validate()},
		{"Code", (&UploadRow{Code: bad}).validate()},
		{"Customer.ExternalID", (&UploadRow{Customer: CustomerRef{ExternalID: bad}}).validate()},
		{"Place.Zone", (&RedeemRequest{Place: limits.Place{Zone: bad}}).validate()},
		{"Redemption.IdempotencyKey", (&ReverseRequest{Redemption: UseRef{IdempotencyKey: bad}}).validate()},
		{"Codes[2]", (&RevokeRequest{Codes: []string{"A", "B", bad}}).validate()},
		{"From.Mobile", (&TransferRequest{From: CustomerRef{Mobile: bad}}).validate()},
		{"To.ID", (&TransferRequest{To: ByID(bad)}).validate()},
		{"Actor", (&ReissueRequest{Actor: bad}).validate()},
		{"Hold.ID", (&ConfirmRequest{Hold: UseRef{ID: bad}}).validate()},
		{"IDs[1]", placeArgs([]string{"ok", bad})},
		{"Customer.ID", codeArgs("", "", &CustomerRef{ID: bad})},
	} {
		ce, ok := c.err.(*errcode.Error)
		if !ok || ce.Code != errcode.InvalidArgument || ce.Field != c.field {
			t.Errorf("got %v, want an InvalidArgument on %s", c.err, c.field)
		}
	}
}
