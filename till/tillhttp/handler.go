package tillhttp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Central is what the handler serves: the engine's lease, journal and
// series operations. *couponkit.Engine implements it.
type Central interface {
	GrantLease(ctx context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error)
	RenewLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	TopUpLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	ReturnLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	ApplyJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error)
	Series(ctx context.Context, id string) (series.Series, error)
}

// Secrets returns the secret the central keeps for a till, and false for a
// till it does not know.
type Secrets func(till string) ([]byte, bool)

// Headers of a till's request.
const (
	HeaderTill = "Couponkit-Till"
	// MaxBody is the largest request body the handler reads.
	MaxBody = 4 << 20
)

// Typed errors of the binding, beside the engine's *errcode.Error.
var (
	// ErrUnauthorized: the till is unknown or its secret is wrong.
	ErrUnauthorized = errors.New("tillhttp: the till is unknown or its secret is wrong")
	// ErrForbidden: the message names another till than the one
	// authenticated.
	ErrForbidden = errors.New("tillhttp: a till may act only on its own leases and journal")
)

// ErrorBody is the JSON body of an error answer.
type ErrorBody struct {
	Code    errcode.Code `json:"code,omitempty"`
	Field   string       `json:"field,omitempty"`
	Message string       `json:"message"`
}

// NewHandler returns the central's handler of the routes in the package
// documentation, calling c for tills that secrets authenticates.
func NewHandler(c Central, secrets Secrets) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/leases/grant", call(secrets, func(r *http.Request, till string, req *couponkit.LeaseRequest) (any, error) {
		if req.Till != till {
			return nil, ErrForbidden
		}
		return c.GrantLease(r.Context(), *req)
	}))
	for path, op := range map[string]func(context.Context, couponkit.LeaseCall) (couponkit.LeaseResult, error){
		"renew": c.RenewLease, "topup": c.TopUpLease, "return": c.ReturnLease,
	} {
		mux.HandleFunc("POST /v1/leases/"+path, call(secrets, func(r *http.Request, till string, req *couponkit.LeaseCall) (any, error) {
			if req.Till != till {
				return nil, ErrForbidden
			}
			return op(r.Context(), *req)
		}))
	}
	mux.HandleFunc("POST /v1/journal", call(secrets, func(r *http.Request, till string, b *couponkit.JournalBatch) (any, error) {
		if b.Till != till {
			return nil, ErrForbidden
		}
		return c.ApplyJournal(r.Context(), *b)
	}))
	mux.HandleFunc("GET /v1/series/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := authenticate(r, secrets); err != nil {
			writeError(w, err)
			return
		}
		s, err := c.Series(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	return mux
}

// call returns the handler of one POST route: it authenticates the till,
// decodes the body as a T (unknown fields and trailing data refused) and
// answers do's result as JSON.
func call[T any](secrets Secrets, do func(*http.Request, string, *T) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		till, err := authenticate(r, secrets)
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

// authenticate returns the till r names when its bearer secret is the one
// secrets keeps for it, compared in constant time.
func authenticate(r *http.Request, secrets Secrets) (string, error) {
	till := r.Header.Get(HeaderTill)
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if till == "" || !ok {
		return "", ErrUnauthorized
	}
	want, known := secrets(till)
	if !known || len(want) == 0 || subtle.ConstantTimeCompare([]byte(given), want) != 1 {
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

// status is the HTTP status of an error.
func status(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	}
	switch errcode.CodeOf(err) {
	case 0:
		return http.StatusInternalServerError
	case errcode.InvalidArgument, errcode.TooMany:
		return http.StatusBadRequest
	case errcode.NotFound, errcode.CouponNotFound, errcode.RedemptionNotFound:
		return http.StatusNotFound
	case errcode.KeyMismatch, errcode.AlreadyExists:
		return http.StatusConflict
	case errcode.Conflict, errcode.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

func writeError(w http.ResponseWriter, err error) {
	body := ErrorBody{Message: err.Error()}
	var e *errcode.Error
	if errors.As(err, &e) {
		body = ErrorBody{Code: e.Code, Field: e.Field, Message: e.Message}
	}
	if status(err) == http.StatusInternalServerError {
		body.Message = "internal error" // the cause stays in the central's logs
	}
	writeJSON(w, status(err), body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// A write that fails leaves the till with a broken answer: it
	// retries with the same keys.
	_, _ = w.Write(b)
}
