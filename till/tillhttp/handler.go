package tillhttp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Central is what the handler serves: the engine's lease, journal, online
// redemption and sync-down operations. *couponkit.Engine implements it.
type Central interface {
	GrantLease(ctx context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error)
	RenewLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	TopUpLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	ReturnLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	ApplyJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error)
	RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error)
	TillFeed(ctx context.Context, req couponkit.TillFeedRequest) (couponkit.TillFeedPage, error)
	TillSeries(ctx context.Context, till, seriesID string) (series.Series, error)
}

var _ Central = (*couponkit.Engine)(nil)

// Secrets returns the secret the central keeps for a till, and false for a
// till it does not know. Its secrets never expire; see Keys for secrets
// that do.
type Secrets func(till string) ([]byte, bool)

// Secret is a till's secret as the central keeps it: Value, valid until
// NotAfter (the central's clock; the zero time: no end).
type Secret struct {
	Value    []byte
	NotAfter time.Time
}

// Keys returns the secret the central keeps for a till, with its
// validity, and false for a till it does not know.
type Keys func(till string) (Secret, bool)

// Headers of a till's request.
const (
	HeaderTill = "Couponkit-Till"
	// MaxBody is the largest request body the handler reads.
	MaxBody = 4 << 20
)

// Typed errors of the binding, beside the engine's *errcode.Error.
var (
	// ErrUnauthorized: the till is unknown, or its secret is wrong or has
	// expired.
	ErrUnauthorized error = &httperr.StatusError{Status: http.StatusUnauthorized, Name: "unauthorized",
		Message: "tillhttp: the till is unknown or its secret is wrong"}
	// ErrForbidden: the message names another till than the one
	// authenticated.
	ErrForbidden error = &httperr.StatusError{Status: http.StatusForbidden, Name: "forbidden",
		Message: "tillhttp: a till may act only on its own leases and journal"}
)

// ErrorBody is the JSON body of an error answer: couponkit's one error
// envelope (package httperr), whose Error is the error's code, name,
// message, field and, for a refused use, its refusals, which the client
// gives back as a *refusal.Error.
type ErrorBody = httperr.Envelope

// NewHandler returns the central's handler of the routes in the package
// documentation, calling c for tills that secrets authenticates. Its
// secrets never expire: NewKeyedHandler takes secrets that do.
func NewHandler(c Central, secrets Secrets) http.Handler {
	return NewKeyedHandler(c, func(till string) (Secret, bool) {
		v, ok := secrets(till)
		return Secret{Value: v}, ok
	}, nil)
}

// NewKeyedHandler returns the central's handler of the routes in the
// package documentation, calling c for tills that keys authenticates: a
// secret is refused once now (time.Now when nil) is past its NotAfter, as
// a wrong one is.
func NewKeyedHandler(c Central, keys Keys, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	a := auth{keys: keys, now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/leases/grant", call(a, func(r *http.Request, till string, req *couponkit.LeaseRequest) (any, error) {
		if req.Till != till {
			return nil, ErrForbidden
		}
		return c.GrantLease(r.Context(), *req)
	}))
	for path, op := range map[string]func(context.Context, couponkit.LeaseCall) (couponkit.LeaseResult, error){
		"renew": c.RenewLease, "topup": c.TopUpLease, "return": c.ReturnLease,
	} {
		mux.HandleFunc("POST /v1/leases/"+path, call(a, func(r *http.Request, till string, req *couponkit.LeaseCall) (any, error) {
			if req.Till != till {
				return nil, ErrForbidden
			}
			return op(r.Context(), *req)
		}))
	}
	mux.HandleFunc("POST /v1/journal", call(a, func(r *http.Request, till string, b *couponkit.JournalBatch) (any, error) {
		if b.Till != till {
			return nil, ErrForbidden
		}
		return c.ApplyJournal(r.Context(), *b)
	}))
	mux.HandleFunc("POST /v1/redeem", call(a, func(r *http.Request, till string, req *couponkit.TillRedeemRequest) (any, error) {
		if req.Till != till {
			return nil, ErrForbidden
		}
		return c.RedeemAtTill(r.Context(), *req)
	}))
	mux.HandleFunc("GET /v1/feed", get(a, func(r *http.Request, till string) (any, error) {
		req, err := feedRequest(r, till)
		if err != nil {
			return nil, err
		}
		return c.TillFeed(r.Context(), req)
	}))
	mux.HandleFunc("GET /v1/series/{id}", get(a, func(r *http.Request, till string) (any, error) {
		return c.TillSeries(r.Context(), till, r.PathValue("id"))
	}))
	return httperr.Routes(mux)
}

// feedRequest reads a feed request's query: after, a position as
// store.Position.String writes it ("" for the start), and limit, a number
// (0 when absent).
func feedRequest(r *http.Request, till string) (couponkit.TillFeedRequest, error) {
	q := r.URL.Query()
	after, err := store.ParsePosition(q.Get("after"))
	if err != nil {
		return couponkit.TillFeedRequest{}, err
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return couponkit.TillFeedRequest{}, errcode.New(errcode.InvalidArgument, "Limit", "is not a number")
		}
	}
	return couponkit.TillFeedRequest{Till: till, After: after, Limit: limit}, nil
}

// get returns the handler of one GET route: it authenticates the till and
// answers do's result as JSON.
func get(a auth, do func(*http.Request, string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		till, err := a.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		out, err := do(r, till)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// call returns the handler of one POST route: it authenticates the till,
// decodes the body as a T (unknown fields and trailing data refused) and
// answers do's result as JSON.
func call[T any](a auth, do func(*http.Request, string, *T) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		till, err := a.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		var msg T
		if err := decode(w, r, &msg); err != nil {
			writeError(w, err)
			return
		}
		out, err := do(r, till, &msg)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// auth authenticates tills by the secrets keys returns, valid at now.
type auth struct {
	keys Keys
	now  func() time.Time
}

// authenticate returns the till r names when its bearer secret is the one
// keys keeps for it, compared in constant time, and has not expired. An
// unknown till, a wrong secret and an expired one are refused alike.
func (a auth) authenticate(r *http.Request) (string, error) {
	till := r.Header.Get(HeaderTill)
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if till == "" || !ok {
		return "", ErrUnauthorized
	}
	want, known := a.keys(till)
	if !known || len(want.Value) == 0 || subtle.ConstantTimeCompare([]byte(given), want.Value) != 1 {
		return "", ErrUnauthorized
	}
	if !want.NotAfter.IsZero() && a.now().After(want.NotAfter) {
		return "", ErrUnauthorized
	}
	return till, nil
}

// decode reads r's JSON body into v: one value, no unknown field, at most
// MaxBody bytes. Anything else is an errcode.InvalidArgument error.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errcode.Wrap(errcode.InvalidArgument, err, "the message is not valid JSON of its kind")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errcode.New(errcode.InvalidArgument, "", "the message has data after its JSON value")
	}
	return nil
}

func writeError(w http.ResponseWriter, err error) { httperr.Write(w, err) }

func writeJSON(w http.ResponseWriter, code int, v any) { httperr.WriteJSON(w, code, v) }
