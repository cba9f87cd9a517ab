package couponkit

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
)

// admit returns err, the outcome of an operation's input checks, or when
// that is nil the error of a clock outside the years couponkit keeps.
func (e *Engine) admit(err error) error {
	if err != nil {
		return err
	}
	return input.Instant("Config.Now", e.now())
}

// first returns the first of errs that is not nil.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// idArg checks an id given in field.
func idArg(field, v string) error { return input.Text(field, input.ID, v) }

// check checks the identifiers of r, on fields "ID", "Mobile", "Email" and
// "ExternalID"; place the result within the request's field.
func (r *CustomerRef) check() error {
	return first(
		input.Text("ID", input.Customer, r.ID),
		input.Text("Mobile", input.Customer, r.Mobile),
		input.Text("Email", input.Customer, r.Email),
		input.Text("ExternalID", input.Customer, r.ExternalID),
	)
}

func (r *IssueRequest) validate() error {
	return first(
		idArg("SeriesID", r.SeriesID),
		input.Within("Customer", r.Customer.check()),
		input.Text("Code", input.Code, r.Code),
		input.Text("IdempotencyKey", input.Key, r.IdempotencyKey),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

// validate checks an upload row on fields "Code", "Customer.ID" and so on;
// Upload places them within "Rows[i]".
func (r *UploadRow) validate() error {
	return first(
		input.Text("Code", input.Code, r.Code),
		input.Within("Customer", r.Customer.check()),
		input.Time("ExpiresAt", r.ExpiresAt),
	)
}

func (r *RedeemRequest) validate() error {
	return first(
		input.Text("Code", input.Code, r.Code),
		idArg("SeriesID", r.SeriesID),
		input.Within("Customer", r.Customer.check()),
		input.Text("IdempotencyKey", input.Key, r.IdempotencyKey),
		input.Text("Place.Till", input.Place, r.Place.Till),
		input.Text("Place.Store", input.Place, r.Place.Store),
		input.Text("Place.Zone", input.Place, r.Place.Zone),
		input.Text("Place.Concept", input.Place, r.Place.Concept),
		input.Text("Actor", input.Actor, r.Actor),
	)
}

// holdEnd checks that a hold of ttl placed now ends in the years couponkit
// keeps. A clock outside them is admit's to report.
func (e *Engine) holdEnd(ttl time.Duration) error {
	now := e.now()
	if end := now.Add(ttl); input.InRange(now) && !input.InRange(end) {
		return errcode.New(errcode.InvalidArgument, "TTL", "the hold would end at "+end.UTC().Format(time.RFC3339)+
			", after the years 1900 to 2199 (UTC) that couponkit keeps")
	}
	return nil
}

// check checks a UseRef's fields, "ID", "Code", "SeriesID",
// "IdempotencyKey" and "Customer"; place the result within the request's
// field.
func (r *UseRef) check() error {
	return first(
		idArg("ID", r.ID),
		input.Text("Code", input.Code, r.Code),
		idArg("SeriesID", r.SeriesID),
		input.Text("IdempotencyKey", input.Key, r.IdempotencyKey),
		input.Within("Customer", r.Customer.check()),
	)
}

func (r *ConfirmRequest) validate() error {
	return first(input.Within("Hold", r.Hold.check()), input.Text("Actor", input.Actor, r.Actor))
}

func (r *ReleaseRequest) validate() error {
	return first(
		input.Within("Hold", r.Hold.check()),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

func (r *ReverseRequest) validate() error {
	return first(
		input.Within("Redemption", r.Redemption.check()),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

func (r *RevokeRequest) validate() error {
	for i, c := range r.Codes {
		if err := input.Text("", input.Code, c); err != nil {
			return input.WithinAt("Codes", i, err)
		}
	}
	return first(
		idArg("SeriesID", r.SeriesID),
		input.Within("Customer", r.Customer.check()),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

// validate checks the request's series, actor and reason; each customer
// is checked on its own, so that one bad reference refuses only itself.
func (r *AudienceRequest) validate() error {
	return first(
		idArg("SeriesID", r.SeriesID),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

func (r *TransferRequest) validate() error {
	return first(
		input.Text("Code", input.Code, r.Code),
		idArg("SeriesID", r.SeriesID),
		input.Within("From", r.From.check()),
		input.Within("To", r.To.check()),
		input.Text("Actor", input.Actor, r.Actor),
		input.Text("Reason", input.Reason, r.Reason),
	)
}

func (r *ReissueRequest) validate() error {
	return first(
		input.Text("Code", input.Code, r.Code),
		idArg("SeriesID", r.SeriesID),
		input.Text("Actor", input.Actor, r.Actor),
	)
}

// codeArgs checks the series id and code of a query, and the customer when
// one is given.
func codeArgs(seriesID, code string, customer *CustomerRef) error {
	return first(idArg("SeriesID", seriesID), input.Text("Code", input.Code, code), input.Within("Customer", customer.check()))
}

// placeArgs checks the place ids of SeriesAt, on fields "IDs[i]".
func placeArgs(ids []string) error {
	for i, v := range ids {
		if err := input.Text("", input.Place, v); err != nil {
			return input.WithinAt("IDs", i, err)
		}
	}
	return nil
}

// checkedDirectory is the engine's CustomerDirectory: the configured one,
// whose answers are checked like any input, since the id it resolves to is
// what the store keeps as a coupon's holder.
type checkedDirectory struct{ d CustomerDirectory }

func (c checkedDirectory) Resolve(ctx context.Context, ref CustomerRef) (Customer, error) {
	cust, err := c.d.Resolve(ctx, ref)
	if err != nil {
		return cust, err
	}
	if err := input.Text("Config.Customers", input.Customer, cust.ID); err != nil {
		ce := err.(*errcode.Error)
		ce.Message = "the directory resolved " + ref.kind() + " to an id that " + ce.Message
		return Customer{}, ce
	}
	return cust, nil
}

// kind names the identifier r gives, for messages that must not repeat it.
func (r *CustomerRef) kind() string {
	switch {
	case r.ID != "":
		return "a customer id"
	case r.Mobile != "":
		return "a mobile number"
	case r.Email != "":
		return "an email address"
	}
	return "an external id"
}
