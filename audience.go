package couponkit

import (
	"context"
	"errors"
	"strconv"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
)

// Audience list limits.
const (
	// MaxAudienceChange is the most customers one AddAudience or
	// RemoveAudience call takes: they are written as one atomic change.
	MaxAudienceChange = 10000
	// DefaultAudiencePage is the page size of ListAudience when the
	// request gives none, and MaxAudiencePage the largest it takes.
	DefaultAudiencePage = 1000
	MaxAudiencePage     = 10000
)

// AudienceRequest names customers to add to, or remove from, the audience
// list of a series: the customers a series that issues to listed customers
// only (limits.IssuanceRules.AudienceOnly) may issue to. A series may have a
// list whether or not it restricts issuance to it.
type AudienceRequest struct {
	SeriesID string `json:"series_id"`
	// Customers are handled in order; a customer named twice is handled
	// once, the second time as a no-op.
	Customers []CustomerRef `json:"customers"`
	// Actor and Reason are recorded on the customers' history events.
	Actor  string `json:"actor,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// AudienceResult says what became of each customer of an AudienceRequest.
type AudienceResult struct {
	// Changed counts the customers added (or removed); Unchanged those
	// already on the list when adding, or not on it when removing, which
	// change nothing and get no event; Failed those whose reference did
	// not resolve.
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	// Outcomes has one entry per customer of the request, in its order.
	Outcomes []AudienceOutcome `json:"outcomes"`
}

// AudienceOutcome is what became of one customer of an AudienceRequest.
//
// In JSON it is {"customer": ..., "changed": ..., "error": ...}, where
// "error", present only when Err is set, is the JSON form of an error
// described at [RowError].
type AudienceOutcome struct {
	// Customer is the customer's id; "" when the reference did not
	// resolve.
	Customer string `json:"customer,omitempty"`
	// Changed reports whether the list changed for this customer.
	Changed bool `json:"changed"`
	// Err, when not nil, is why the reference did not resolve: an
	// *errcode.Error of code InvalidArgument (no identifier, or several)
	// or UnknownCustomer.
	Err error `json:"-"`
}

// AddAudience adds customers to the audience list of a series. Each
// customer added gets an AudienceAdded event in its history, written in the
// same atomic step as the list; a customer already on the list is left as
// it is and gets none. The whole request is one change: all of it or, on an
// error, none of it.
//
// Errors for the whole request: InvalidArgument (no series), NotFound (no
// such series), TooMany (more than MaxAudienceChange customers), and the
// store's Conflict or AlreadyExists when concurrent changes to the same
// members kept winning over the engine's attempts; a customer whose
// reference does not resolve is reported in its outcome.
func (e *Engine) AddAudience(ctx context.Context, req AudienceRequest) (_ AudienceResult, err error) {
	ctx, o := e.begin(ctx, observe.AddAudience, "")
	defer o.end(&err)
	return e.changeAudience(ctx, &req, false)
}

// RemoveAudience takes customers off the audience list of a series, as
// AddAudience adds them: each customer removed gets an AudienceRemoved
// event, and a customer not on the list is left as it is and gets none.
func (e *Engine) RemoveAudience(ctx context.Context, req AudienceRequest) (_ AudienceResult, err error) {
	ctx, o := e.begin(ctx, observe.RemoveAudience, "")
	defer o.end(&err)
	return e.changeAudience(ctx, &req, true)
}

func (e *Engine) changeAudience(ctx context.Context, req *AudienceRequest, remove bool) (AudienceResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return AudienceResult{}, err
	}
	switch {
	case req.SeriesID == "":
		return AudienceResult{}, errcode.New(errcode.InvalidArgument, "SeriesID", "an audience list belongs to a series")
	case len(req.Customers) > MaxAudienceChange:
		return AudienceResult{}, errcode.New(errcode.TooMany, "Customers",
			strconv.Itoa(len(req.Customers))+" customers; at most "+strconv.Itoa(MaxAudienceChange)+" per request")
	}
	if _, err := e.st.Series(ctx, req.SeriesID); err != nil {
		return AudienceResult{}, err
	}
	res := AudienceResult{Outcomes: make([]AudienceOutcome, len(req.Customers))}
	ids := make([]string, 0, len(req.Customers))
	for i, ref := range req.Customers {
		var c Customer
		err := input.WithinAt("Customers", i, ref.check())
		if err == nil {
			c, err = e.customers.Resolve(ctx, ref)
		}
		switch code := errcode.CodeOf(err); {
		case err == nil:
			res.Outcomes[i].Customer = c.ID
			ids = append(ids, c.ID)
		case code == errcode.InvalidArgument || code == errcode.UnknownCustomer:
			res.Outcomes[i].Err = err
		default:
			return AudienceResult{}, err
		}
	}
	if len(ids) > 0 {
		if err := e.retryAudience(ctx, func() error { return e.applyAudience(ctx, req, remove, ids, &res) }); err != nil {
			return AudienceResult{}, err
		}
	}
	for _, o := range res.Outcomes {
		switch {
		case o.Err != nil:
			res.Failed++
		case o.Changed:
			res.Changed++
		default:
			res.Unchanged++
		}
	}
	return res, nil
}

// applyAudience reads which of ids are on the list, decides for each
// resolved customer of res in order, and applies the change with its
// events. It sets the outcomes' Changed.
func (e *Engine) applyAudience(ctx context.Context, req *AudienceRequest, remove bool, ids []string, res *AudienceResult) error {
	members, err := e.st.Audience(ctx, store.AudienceQuery{SeriesID: req.SeriesID, Customers: ids})
	if err != nil {
		return err
	}
	in := make(map[string]bool, len(ids))
	for _, m := range members {
		in[m.Customer] = true
	}
	kind := coupon.EventAudienceAdded
	if remove {
		kind = coupon.EventAudienceRemoved
	}
	now := e.now()
	var c store.Change
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		o.Changed = false
		if o.Err != nil || in[o.Customer] != remove {
			continue // unresolved, or already as asked: a no-op
		}
		in[o.Customer] = !remove
		o.Changed = true
		c.Audience = append(c.Audience, store.AudienceUpdate{SeriesID: req.SeriesID, Customer: o.Customer, Remove: remove, At: now})
		c.Events = append(c.Events, coupon.Event{
			ID: e.newID(), Kind: kind, SeriesID: req.SeriesID, Customer: o.Customer,
			Actor: req.Actor, Reason: req.Reason, At: now,
		})
	}
	if len(c.Audience) == 0 {
		return nil
	}
	return e.st.Apply(ctx, &c)
}

// retryAudience runs attempt again, up to the engine's attempts, while a
// concurrent change made its read stale: a customer it would add was added
// meanwhile (ErrAlreadyExists) or one it would remove was removed
// (ErrConflict); or while the store refused its transaction (txRefused).
func (e *Engine) retryAudience(ctx context.Context, attempt func() error) error {
	var err error
	for i := range e.attempts {
		if err = attempt(); err == nil {
			return nil
		}
		if !errors.Is(err, errcode.ErrAlreadyExists) && !errors.Is(err, errcode.ErrConflict) {
			return err
		}
		if cerr := txBackoff(ctx, err, i); cerr != nil {
			return cerr
		}
	}
	return err
}

// AudienceListRequest asks for one page of a series' audience list.
type AudienceListRequest struct {
	SeriesID string `json:"series_id"`
	// After is where the page starts: the customers after this one. ""
	// for the first page; AudiencePage.Next for the following ones.
	After string `json:"after,omitempty"`
	// Limit is the page size: DefaultAudiencePage when zero, at most
	// MaxAudiencePage.
	Limit int `json:"limit,omitempty"`
}

// AudiencePage is one page of a series' audience list.
type AudiencePage struct {
	// Members are ordered by customer id (byte-wise).
	Members []store.AudienceMember `json:"members"`
	// Next is the After of the following page; "" when this page is the
	// last.
	Next string `json:"next,omitempty"`
}

// ListAudience returns one page of the audience list of a series, ordered
// by customer id. Errors: InvalidArgument (no series, a negative limit or
// one above MaxAudiencePage), NotFound (no such series).
func (e *Engine) ListAudience(ctx context.Context, req AudienceListRequest) (_ AudiencePage, err error) {
	ctx, o := e.begin(ctx, observe.ListAudience, "")
	defer o.end(&err)
	if err := e.admit(first(idArg("SeriesID", req.SeriesID), input.Text("After", input.Customer, req.After))); err != nil {
		return AudiencePage{}, err
	}
	switch {
	case req.SeriesID == "":
		return AudiencePage{}, errcode.New(errcode.InvalidArgument, "SeriesID", "an audience list belongs to a series")
	case req.Limit < 0 || req.Limit > MaxAudiencePage:
		return AudiencePage{}, errcode.New(errcode.InvalidArgument, "Limit",
			strconv.Itoa(req.Limit)+" is not a page size from 1 to "+strconv.Itoa(MaxAudiencePage)+" (0 for "+strconv.Itoa(DefaultAudiencePage)+")")
	}
	if _, err := e.st.Series(ctx, req.SeriesID); err != nil {
		return AudiencePage{}, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = DefaultAudiencePage
	}
	ms, err := e.st.Audience(ctx, store.AudienceQuery{SeriesID: req.SeriesID, After: req.After, Limit: limit + 1})
	if err != nil {
		return AudiencePage{}, err
	}
	page := AudiencePage{Members: ms}
	if len(ms) > limit {
		page.Members = ms[:limit:limit]
		page.Next = ms[limit-1].Customer
	}
	return page, nil
}
