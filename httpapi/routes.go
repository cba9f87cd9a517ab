package httpapi

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// routes registers every route of the package documentation but the
// till protocol's.
func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/openapi.yaml", serveOpenAPI)

	operator := access{}
	reader := access{roles: []Role{Checkout, Till}}
	use := access{roles: []Role{Checkout, Till}, lookup: true}
	own := access{roles: []Role{Checkout}, scope: "id"}
	r := func(pattern string, a access, h http.HandlerFunc) { s.route(mux, pattern, a, h) }

	r("POST /v1/series", operator, body(s, s.createSeries))
	r("GET /v1/series", reader, s.handle(s.listSeries))
	r("GET /v1/series/{id}", reader, s.handle(s.getSeries))
	r("PUT /v1/series/{id}", operator, body(s, s.updateSeries))
	r("PUT /v1/series/{id}/status", operator, body(s, s.setStatus))
	r("GET /v1/series/{id}/counters", operator, s.handle(s.counters))
	r("POST /v1/series/{id}/upload", operator, s.handle(s.upload))

	r("POST /v1/issue", operator, body(s, s.issue))
	r("POST /v1/issue/batch", operator, body(s, s.issueBatch))

	r("GET /v1/coupons/{code}", access{lookup: true}, s.handle(s.coupon))
	r("GET /v1/coupons/{code}/history", access{lookup: true}, s.handle(s.couponHistory))
	r("POST /v1/coupons/{code}/validate", use, body(s, s.validate))
	r("POST /v1/coupons/{code}/redeem", use, body(s, s.redeem))
	r("POST /v1/coupons/{code}/hold", use, body(s, s.hold))
	r("POST /v1/coupons/{code}/transfer", operator, body(s, s.transfer))
	r("POST /v1/coupons/{code}/reissue", operator, body(s, s.reissue))
	r("POST /v1/holds/confirm", reader, body(s, s.confirm))
	r("POST /v1/holds/release", reader, body(s, s.release))
	r("POST /v1/redemptions/reverse", access{roles: []Role{Till}}, body(s, s.reverse))
	r(RevokePath, operator, s.revoke)

	r("GET /v1/customers/{id}/coupons", own, s.handle(s.customerCoupons))
	r("GET /v1/customers/{id}/history", own, s.handle(s.customerHistory))

	r("GET /v1/feed", operator, s.handle(s.feed))
}

func (s *server) createSeries(r *http.Request, v *series.Series) (int, any, error) {
	out, err := s.e.CreateSeries(r.Context(), *v)
	return http.StatusCreated, out, err
}

// SeriesList is the answer of GET /v1/series.
type SeriesList struct {
	Series []series.Series `json:"series"`
}

// listSeries lists the series: those restricted to the places of one kind
// the query names (till, store, zone or concept; active ones only), or
// else every series, or those in the status the query names.
func (s *server) listSeries(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	var kind limits.PlaceKind
	var ids []string
	for _, k := range []limits.PlaceKind{limits.Till, limits.Store, limits.Zone, limits.Concept} {
		if v, ok := q[k.String()]; ok {
			if kind != 0 {
				return 0, nil, errcode.New(errcode.InvalidArgument, k.String(), "name places of one kind only")
			}
			kind, ids = k, v
		}
	}
	var out []series.Series
	var err error
	switch {
	case kind != 0 && q.Has("status"):
		return 0, nil, errcode.New(errcode.InvalidArgument, "status", "a query by place lists active series only")
	case kind != 0:
		out, err = s.e.SeriesAt(r.Context(), kind, ids...)
	default:
		var sq store.SeriesQuery
		if v := q.Get("status"); v != "" {
			if err := sq.Status.UnmarshalText([]byte(v)); err != nil {
				return 0, nil, err
			}
		}
		out, err = s.e.Store().ListSeries(r.Context(), sq)
	}
	if out == nil {
		out = []series.Series{}
	}
	return http.StatusOK, SeriesList{Series: out}, err
}

func (s *server) getSeries(r *http.Request) (int, any, error) {
	out, err := s.e.Series(r.Context(), r.PathValue("id"))
	return http.StatusOK, out, err
}

func (s *server) updateSeries(r *http.Request, v *series.Series) (int, any, error) {
	if err := pathValue(r, "id", "id", &v.ID); err != nil {
		return 0, nil, err
	}
	out, err := s.e.UpdateSeries(r.Context(), *v)
	return http.StatusOK, out, err
}

// StatusRequest is the body of PUT /v1/series/{id}/status.
type StatusRequest struct {
	Status series.Status `json:"status"`
}

func (s *server) setStatus(r *http.Request, v *StatusRequest) (int, any, error) {
	out, err := s.e.SetSeriesStatus(r.Context(), r.PathValue("id"), v.Status)
	return http.StatusOK, out, err
}

func (s *server) counters(r *http.Request) (int, any, error) {
	out, err := s.e.Counters(r.Context(), r.PathValue("id"))
	return http.StatusOK, out, err
}

// UploadReport is the answer of an upload: the bulk.Report of the file.
type UploadReport struct {
	Rows        int         `json:"rows"`
	Applied     int         `json:"applied"`
	Unchanged   int         `json:"unchanged"`
	Replayed    int         `json:"replayed"`
	Rejected    int         `json:"rejected"`
	Added       int         `json:"added"`
	Existing    int         `json:"existing"`
	LastApplied int         `json:"last_applied"`
	Rejections  []Rejection `json:"rejections"`
}

// Rejection is one rejected row of a file (bulk.Rejection).
type Rejection struct {
	Row        int               `json:"row"`
	Line       int               `json:"line"`
	Identifier string            `json:"identifier,omitempty"`
	CouponCode string            `json:"coupon_code,omitempty"`
	Code       errcode.Code      `json:"code"`
	Reason     string            `json:"reason"`
	Refusals   []refusal.Refusal `json:"refusals,omitempty"`
}

// upload adds the codes of a CSV body (package bulk's upload file) to the
// series' pool; the query's file_id names the file for its rows'
// idempotency keys (else the content does).
func (s *server) upload(r *http.Request) (int, any, error) {
	if err := noIdempotencyKey(r); err != nil {
		return 0, nil, err
	}
	data, err := readAll(r, s.opts.MaxUploadBody)
	if err != nil {
		return 0, nil, err
	}
	rep, err := bulk.UploadFile(r.Context(), s.e, r.PathValue("id"), bytes.NewReader(data),
		bulk.Options{FileID: r.URL.Query().Get("file_id"), Actor: s.opts.Actor})
	if err != nil {
		return 0, nil, err
	}
	out := UploadReport{Rows: rep.Rows, Applied: rep.Applied, Unchanged: rep.Unchanged, Replayed: rep.Replayed,
		Rejected: rep.Rejected, Added: rep.Added, Existing: rep.Existing, LastApplied: rep.LastApplied,
		Rejections: make([]Rejection, 0, len(rep.Rejections))}
	for _, x := range rep.Rejections {
		out.Rejections = append(out.Rejections, Rejection{Row: x.Row, Line: x.Line, Identifier: x.Identifier,
			CouponCode: x.CouponCode, Code: x.Code, Reason: x.Reason, Refusals: x.Refusals})
	}
	return http.StatusOK, out, nil
}

func (s *server) issue(r *http.Request, v *couponkit.IssueRequest) (int, any, error) {
	if err := idempotencyKey(r, &v.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Issue(r.Context(), *v)
	return http.StatusOK, out, err
}

// IssueBatchRequest is the body of POST /v1/issue/batch: the requests, all
// of one series, at most MaxIssueBatch.
type IssueBatchRequest struct {
	Requests []couponkit.IssueRequest `json:"requests"`
}

// MaxIssueBatch is the most requests one batch issue may carry.
const MaxIssueBatch = 1000

// IssueBatchResult is the answer of a batch issue: one outcome per
// request, in order.
type IssueBatchResult struct {
	Outcomes []IssueOutcome `json:"outcomes"`
}

// IssueOutcome is the outcome of one request of a batch: its result, or
// its error in the envelope's form.
type IssueOutcome struct {
	Result *couponkit.IssueResult `json:"result,omitempty"`
	Error  *httperr.Body          `json:"error,omitempty"`
}

func (s *server) issueBatch(r *http.Request, v *IssueBatchRequest) (int, any, error) {
	if err := noIdempotencyKey(r); err != nil {
		return 0, nil, err
	}
	switch {
	case len(v.Requests) == 0:
		return 0, nil, errcode.New(errcode.InvalidArgument, "requests", "is required")
	case len(v.Requests) > MaxIssueBatch:
		return 0, nil, errcode.New(errcode.TooMany, "requests", "at most "+strconv.Itoa(MaxIssueBatch)+" per batch")
	}
	for i := range v.Requests {
		s.actor(r, &v.Requests[i].Actor)
	}
	outs, err := s.e.IssueBatch(r.Context(), v.Requests)
	if err != nil {
		return 0, nil, err
	}
	res := IssueBatchResult{Outcomes: make([]IssueOutcome, len(outs))}
	for i, o := range outs {
		if o.Err != nil {
			_, env := httperr.Describe(o.Err)
			res.Outcomes[i].Error = &env.Error
			continue
		}
		res.Outcomes[i].Result = &o.Result
	}
	return http.StatusOK, res, nil
}

// customerQuery reads a customer reference from the query: customer_id,
// mobile, email or external_id.
func customerQuery(r *http.Request) couponkit.CustomerRef {
	q := r.URL.Query()
	return couponkit.CustomerRef{ID: q.Get("customer_id"), Mobile: q.Get("mobile"), Email: q.Get("email"), ExternalID: q.Get("external_id")}
}

func (s *server) coupon(r *http.Request) (int, any, error) {
	out, err := s.e.Coupon(r.Context(), r.URL.Query().Get("series_id"), r.PathValue("code"), customerQuery(r))
	return http.StatusOK, out, err
}

// Events is the answer of the history routes: events oldest first.
type Events struct {
	Events []coupon.Event `json:"events"`
}

func (s *server) couponHistory(r *http.Request) (int, any, error) {
	c, err := s.e.Coupon(r.Context(), r.URL.Query().Get("series_id"), r.PathValue("code"), customerQuery(r))
	if err != nil {
		return 0, nil, err
	}
	evs, err := s.e.CouponHistory(r.Context(), c.ID)
	return http.StatusOK, events(evs), err
}

func events(evs []coupon.Event) Events {
	if evs == nil {
		evs = []coupon.Event{}
	}
	return Events{Events: evs}
}

func (s *server) validate(r *http.Request, v *couponkit.RedeemRequest) (int, any, error) {
	if err := pathValue(r, "code", "code", &v.Code); err != nil {
		return 0, nil, err
	}
	if err := noIdempotencyKey(r); err != nil {
		return 0, nil, err
	}
	out, err := s.e.Validate(r.Context(), *v)
	return http.StatusOK, out, err
}

func (s *server) redeem(r *http.Request, v *couponkit.RedeemRequest) (int, any, error) {
	if err := pathValue(r, "code", "code", &v.Code); err != nil {
		return 0, nil, err
	}
	if err := idempotencyKey(r, &v.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Redeem(r.Context(), *v)
	return http.StatusOK, out, err
}

// HoldRequest is the body of a hold: a redemption request and the hold's
// time to live, as a Go duration ("15m", "90s").
type HoldRequest struct {
	couponkit.RedeemRequest
	TTL string `json:"ttl"`
}

func (s *server) hold(r *http.Request, v *HoldRequest) (int, any, error) {
	if err := pathValue(r, "code", "code", &v.Code); err != nil {
		return 0, nil, err
	}
	if err := idempotencyKey(r, &v.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	ttl, err := time.ParseDuration(v.TTL)
	if err != nil {
		return 0, nil, errcode.New(errcode.InvalidArgument, "ttl", "wants a duration such as \"15m\"")
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Hold(r.Context(), couponkit.HoldRequest{RedeemRequest: v.RedeemRequest, TTL: ttl})
	return http.StatusOK, out, err
}

func (s *server) confirm(r *http.Request, v *couponkit.ConfirmRequest) (int, any, error) {
	if err := idempotencyKey(r, &v.Hold.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Confirm(r.Context(), *v)
	return http.StatusOK, out, err
}

func (s *server) release(r *http.Request, v *couponkit.ReleaseRequest) (int, any, error) {
	if err := idempotencyKey(r, &v.Hold.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	return http.StatusNoContent, nil, s.e.Release(r.Context(), *v)
}

func (s *server) reverse(r *http.Request, v *couponkit.ReverseRequest) (int, any, error) {
	if err := idempotencyKey(r, &v.Redemption.IdempotencyKey); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Reverse(r.Context(), *v)
	return http.StatusOK, out, err
}

func (s *server) transfer(r *http.Request, v *couponkit.TransferRequest) (int, any, error) {
	if err := pathValue(r, "code", "code", &v.Code); err != nil {
		return 0, nil, err
	}
	if err := noIdempotencyKey(r); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Transfer(r.Context(), *v)
	return http.StatusOK, out, err
}

func (s *server) reissue(r *http.Request, v *couponkit.ReissueRequest) (int, any, error) {
	if err := pathValue(r, "code", "code", &v.Code); err != nil {
		return 0, nil, err
	}
	if err := noIdempotencyKey(r); err != nil {
		return 0, nil, err
	}
	s.actor(r, &v.Actor)
	out, err := s.e.Reissue(r.Context(), *v)
	return http.StatusOK, out, err
}

// Coupons is the answer of GET /v1/customers/{id}/coupons.
type Coupons struct {
	Coupons []couponkit.CouponView `json:"coupons"`
}

func (s *server) customerCoupons(r *http.Request) (int, any, error) {
	out, err := s.e.CustomerCoupons(r.Context(), couponkit.ByID(r.PathValue("id")), r.URL.Query().Get("series_id"))
	if out == nil {
		out = []couponkit.CouponView{}
	}
	return http.StatusOK, Coupons{Coupons: out}, err
}

func (s *server) customerHistory(r *http.Request) (int, any, error) {
	evs, err := s.e.CustomerHistory(r.Context(), couponkit.ByID(r.PathValue("id")), r.URL.Query().Get("series_id"))
	return http.StatusOK, events(evs), err
}

// FeedPage is the answer of GET /v1/feed: the events after the query's
// position, in position order, and the position to ask after next.
type FeedPage struct {
	Events []store.FeedEvent `json:"events"`
	Next   store.Position    `json:"next"`
}

// feed reads the feed after the query's after (a position as a page's
// next gives it; empty for the start), at most limit events.
func (s *server) feed(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	after, err := store.ParsePosition(q.Get("after"))
	if err != nil {
		return 0, nil, err
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return 0, nil, errcode.New(errcode.InvalidArgument, "limit", "is not a number")
		}
	}
	evs, next, err := s.e.EventsAfter(r.Context(), after, limit)
	if evs == nil {
		evs = []store.FeedEvent{}
	}
	return http.StatusOK, FeedPage{Events: evs, Next: next}, err
}
