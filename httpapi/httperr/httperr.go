// Package httperr is the one error envelope of couponkit's HTTP bindings
// (package httpapi and the till protocol's package tillhttp): how an error
// is answered, with which HTTP status, and how a client turns the answer
// back into the typed error it was.
//
// Every error answer has the body
//
//	{"error": {"code": 1200, "name": "limit reached", "message": "...",
//	           "field": "Bill", "refusals": [ ... ]}}
//
// code is the stable number of package errcode (absent for an error that
// has none: 401, 403, 500), name its short English name, message a
// sentence for a person, field the offending input when there is one, and
// refusals, for a request the rules refused, the refusal model of package
// refusal: each reason once, with its code, rule, message and parameters.
//
// Statuses:
//
//	400  bad input: malformed JSON, unknown field, wrong type, missing or
//	     invalid argument, too many items, a malformed code or file
//	     (1001, 1002, 1003, 756, 1402, 1403, 1501, 1601)
//	401  unknown credentials; 403 credentials that may not do this
//	404  no such series, coupon, hold, redemption or customer (404, 682,
//	     1112, 1602, 1004); also an unknown route
//	405  a route that exists for another method
//	409  an idempotency key used before with other parameters (1118), a
//	     record that exists (1303), a concurrent change that kept winning
//	     (1301; retrying may succeed)
//	413  a body over the size limit
//	422  refused by a rule or by the coupon's state (refusals, 405, 1101..1121, 108, 712, ...)
//	429  throttled
//	500  anything else (the message says only "internal error")
//	503  the store is unavailable or the request was cancelled (1304)
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// Envelope is the JSON body of every error answer.
type Envelope struct {
	Error Body `json:"error"`
}

// Body describes one error. Refusals, when set, are the reasons of a
// request refused by the rules (a *refusal.Error); Code is then the first
// refusal's code.
type Body struct {
	Code     errcode.Code      `json:"code,omitempty"`
	Name     string            `json:"name"`
	Message  string            `json:"message"`
	Field    string            `json:"field,omitempty"`
	Refusals []refusal.Refusal `json:"refusals,omitempty"`
}

// StatusError is an error of the HTTP layer itself, answered with Status:
// a failed authentication, a forbidden call, a throttled client, an
// unknown route. Name is the envelope's name.
type StatusError struct {
	Status  int
	Name    string
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// Status returns the HTTP status err is answered with (see the package
// documentation).
func Status(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	var re *refusal.Error
	if errors.As(err, &re) && len(re.Refusals) > 0 {
		return http.StatusUnprocessableEntity
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	switch errcode.CodeOf(err) {
	case 0:
		return http.StatusInternalServerError
	case errcode.InvalidArgument, errcode.InvalidConfig, errcode.TooMany, errcode.NothingToRevoke,
		errcode.InvalidCode, errcode.CheckFailed, errcode.BadFile, errcode.FuturePosition:
		return http.StatusBadRequest
	case errcode.NotFound, errcode.CouponNotFound, errcode.RedemptionNotFound, errcode.UnknownConsumer,
		errcode.UnknownCustomer:
		return http.StatusNotFound
	case errcode.KeyMismatch, errcode.AlreadyExists, errcode.Conflict:
		return http.StatusConflict
	case errcode.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// Describe returns the status and the envelope of err. The envelope of a
// 500 tells nothing of the cause, which stays with the server.
func Describe(err error) (int, Envelope) {
	status := Status(err)
	var b Body
	var se *StatusError
	var re *refusal.Error
	var ce *errcode.Error
	switch {
	case errors.As(err, &se):
		b = Body{Name: se.Name, Message: se.Message}
	case errors.As(err, &re) && len(re.Refusals) > 0:
		b = Body{Code: re.Refusals[0].Code, Name: re.Refusals[0].Code.String(),
			Message: "refused by " + strconv.Itoa(len(re.Refusals)) + " rule(s); see refusals", Refusals: re.Refusals}
	case errors.As(err, &ce):
		b = Body{Code: ce.Code, Name: ce.Code.String(), Message: ce.Message, Field: ce.Field}
		if b.Message == "" {
			b.Message = ce.Code.String()
		}
	default:
		b = Body{Name: http.StatusText(status), Message: err.Error()}
	}
	switch status {
	case http.StatusInternalServerError:
		b = Body{Name: "internal error", Message: "internal error"}
	case http.StatusServiceUnavailable:
		if b.Code == 0 {
			b = Body{Code: errcode.Unavailable, Name: errcode.Unavailable.String(), Message: "the service is unavailable or the request was cancelled; try again"}
		}
	case http.StatusRequestEntityTooLarge:
		b = Body{Code: errcode.InvalidArgument, Name: errcode.InvalidArgument.String(), Message: "the body is larger than the server accepts"}
	}
	return status, Envelope{Error: b}
}

// Write answers err with its status and envelope.
func Write(w http.ResponseWriter, err error) {
	status, env := Describe(err)
	if status == http.StatusConflict && errcode.CodeOf(err) == errcode.Conflict ||
		status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, status, env)
}

// WriteJSON answers v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"name":"internal error","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// A failed write leaves the client with a broken answer; it retries.
	_, _ = w.Write(append(b, '\n'))
}

// Err turns an error answer's body back into the typed error it stands
// for: a *refusal.Error when it lists refusals, an *errcode.Error when it
// has a code, and otherwise ok is false.
func Err(data []byte) (err error, ok bool) {
	var env Envelope
	if json.Unmarshal(data, &env) != nil {
		return nil, false
	}
	b := env.Error
	switch {
	case len(b.Refusals) > 0:
		return &refusal.Error{Refusals: b.Refusals}, true
	case b.Code != 0:
		return &errcode.Error{Code: b.Code, Field: b.Field, Message: b.Message}, true
	}
	return nil, false
}

// Routes returns mux as a handler that answers a request no pattern
// matches with the envelope: 404 for an unknown path, 405 (with Allow) for
// a path served for other methods only.
func Routes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r) // sets the path values, which h alone would not
			return
		}
		// The mux's own answer (404, 405 or a redirect) says which.
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			Write(w, &StatusError{Status: rec.status, Name: "method not allowed", Message: r.Method + " is not served at this path"})
		case http.StatusNotFound, 0:
			Write(w, &StatusError{Status: http.StatusNotFound, Name: "no such route", Message: "no route serves " + r.Method + " at this path"})
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
		}
	})
}

// recorder keeps the status and headers a handler answers with.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
