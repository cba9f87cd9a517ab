package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// Defaults of Options.
const (
	// DefaultMaxBody is the largest JSON request body accepted: 1 MiB.
	DefaultMaxBody = 1 << 20
	// DefaultMaxUploadBody is the largest CSV upload accepted: 32 MiB.
	DefaultMaxUploadBody = 32 << 20
	// HeaderIdempotencyKey carries a request's idempotency key.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Options tunes the handler. The zero value uses the defaults.
type Options struct {
	// MaxBody is the largest JSON request body read; DefaultMaxBody when
	// zero or negative. A larger one is answered 413.
	MaxBody int64
	// MaxUploadBody is the largest CSV body of an upload;
	// DefaultMaxUploadBody when zero or negative.
	MaxUploadBody int64
	// Actor is recorded on the changes of a request that names no actor
	// of its own; "httpapi" when empty.
	Actor string
	// TillKeys authenticates the tills of the till protocol mounted under
	// /till/ (see package tillhttp); nil knows no till, so every till
	// request is answered 401.
	TillKeys tillhttp.Keys
	// OnError, when set, is told of every error answered 500, whose cause
	// the answer does not show.
	OnError func(r *http.Request, err error)
	// Keys are the API keys the handler accepts, each with its role (see
	// Role); none means no authentication: every request is an
	// operator's. The till protocol under /till authenticates with
	// TillKeys instead, and GET /v1/openapi.yaml is open.
	Keys []APIKey
	// FailedLookups is how many failed code look-ups (a code route
	// answered 404) one key, or one client address without Keys, may make
	// per hour before it is answered 429; DefaultFailedLookups when zero,
	// no throttle when negative.
	FailedLookups int
	// Now is the clock of the tills' secrets and of the throttle;
	// time.Now when nil.
	Now func() time.Time
}

// New returns the HTTP handler of the routes in the package documentation,
// over e.
func New(e *couponkit.Engine, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxUploadBody <= 0 {
		opts.MaxUploadBody = DefaultMaxUploadBody
	}
	if opts.Actor == "" {
		opts.Actor = "httpapi"
	}
	keys := opts.TillKeys
	if keys == nil {
		keys = func(string) (tillhttp.Secret, bool) { return tillhttp.Secret{}, false }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{e: e, opts: opts}
	if opts.FailedLookups == 0 {
		opts.FailedLookups = DefaultFailedLookups
	}
	if opts.FailedLookups > 0 {
		s.throttle = &throttle{perHour: float64(opts.FailedLookups), now: opts.Now, buckets: map[string]*bucket{}}
	}
	mux := http.NewServeMux()
	s.routes(mux)
	mux.Handle("/till/", http.StripPrefix("/till", tillhttp.NewKeyedHandler(e, keys, opts.Now)))
	return httperr.Routes(mux)
}

type server struct {
	e        *couponkit.Engine
	opts     Options
	throttle *throttle // nil: none
}

// access says who may call a route: the roles besides Operator, the
// path value naming the customer a checkout may read only for itself,
// and whether a 404 counts as a failed code look-up.
type access struct {
	roles  []Role
	scope  string
	lookup bool
}

// route registers h for pattern behind authentication, the route's
// access and the throttle.
func (s *server) route(mux *http.ServeMux, pattern string, a access, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err == nil {
			var scope string
			if a.scope != "" {
				scope = r.PathValue(a.scope)
			}
			err = c.allowed(r, a.roles, scope)
		}
		if err == nil && a.lookup && s.throttle != nil && s.throttle.blocked(c.name) {
			err = errThrottled
		}
		if err != nil {
			httperr.Write(w, err)
			return
		}
		if c.key != nil {
			r = r.WithContext(context.WithValue(r.Context(), actorKey{}, c.key.Name))
		}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if a.lookup && s.throttle != nil && sw.status == http.StatusNotFound {
			s.throttle.failed(c.name)
		}
	})
}

// actorKey is the context key of the API key's name, the default actor.
type actorKey struct{}

// statusWriter keeps the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// handle answers a route: do returns the status and the value to write as
// JSON, or an error to answer with the envelope.
func (s *server) handle(do func(*http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, v, err := do(r)
		if err != nil {
			if s.opts.OnError != nil && httperr.Status(err) == http.StatusInternalServerError {
				s.opts.OnError(r, err)
			}
			httperr.Write(w, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		httperr.WriteJSON(w, status, v)
	}
}

// body returns the handler of a route with a JSON body of type T: the body
// is decoded (see decode) before do is called with it.
func body[T any](s *server, do func(*http.Request, *T) (int, any, error)) http.HandlerFunc {
	return s.handle(func(r *http.Request) (int, any, error) {
		var v T
		if err := s.decode(r, &v); err != nil {
			return 0, nil, err
		}
		return do(r, &v)
	})
}

// decode reads r's JSON body into v: one JSON value, no unknown field, no
// trailing data, at most MaxBody bytes. Anything else is an
// InvalidArgument error naming the field when there is one.
func (s *server) decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errcode.New(errcode.InvalidArgument, "Content-Type", "the body must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, s.opts.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return errcode.New(errcode.InvalidArgument, "", "the body has data after its JSON value")
	}
	return nil
}

// decodeError describes a JSON decoding failure as an InvalidArgument
// error (a MaxBytesError stays one, for 413).
func decodeError(err error) error {
	var mb *http.MaxBytesError
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var ce *errcode.Error
	switch {
	case errors.As(err, &mb):
		return err
	case errors.Is(err, io.EOF):
		return errcode.New(errcode.InvalidArgument, "", "the body is empty; a JSON object is required")
	case errors.As(err, &te):
		return errcode.New(errcode.InvalidArgument, te.Field, "wants a JSON "+te.Type.String()+", not "+te.Value)
	case errors.As(err, &se):
		return errcode.New(errcode.InvalidArgument, "", "the body is not valid JSON: "+se.Error())
	case errors.As(err, &ce):
		return ce
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errcode.New(errcode.InvalidArgument, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a field of this request")
	}
	return errcode.Wrap(errcode.InvalidArgument, err, "the body is not a valid request")
}

// idempotencyKey merges the Idempotency-Key header into the body's key:
// the header fills an empty one; both given and different is an
// InvalidArgument error.
func idempotencyKey(r *http.Request, key *string) error {
	h := r.Header.Get(HeaderIdempotencyKey)
	switch {
	case h == "":
	case *key == "":
		*key = h
	case *key != h:
		return errcode.New(errcode.InvalidArgument, HeaderIdempotencyKey, "the header and the body's idempotency_key differ")
	}
	return nil
}

// noIdempotencyKey refuses the Idempotency-Key header on a route that
// takes no key, so that a caller does not believe it is protected.
func noIdempotencyKey(r *http.Request) error {
	if r.Header.Get(HeaderIdempotencyKey) != "" {
		return errcode.New(errcode.InvalidArgument, HeaderIdempotencyKey, "this route takes no idempotency key")
	}
	return nil
}

// pathValue fills *field with the path's value: an empty field takes it;
// a field set otherwise (compared as codes are, ignoring case) is an
// InvalidArgument error.
func pathValue(r *http.Request, name, field string, v *string) error {
	p := r.PathValue(name)
	switch {
	case *v == "":
		*v = p
	case !strings.EqualFold(*v, p):
		return errcode.New(errcode.InvalidArgument, field, "differs from the path's "+name)
	}
	return nil
}

// actor fills an empty actor with the API key's name, or else the
// handler's Actor.
func (s *server) actor(r *http.Request, a *string) {
	if *a != "" {
		return
	}
	*a = s.opts.Actor
	if name, ok := r.Context().Value(actorKey{}).(string); ok {
		*a = name
	}
}

// readAll reads r's body, at most limit bytes.
func readAll(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return buf.Bytes(), err
}
