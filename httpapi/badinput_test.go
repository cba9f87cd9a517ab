package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// fixture is an engine on a store (memstore for newFixture) with one
// series of generated codes and one coupon of it issued to alice, behind
// httpapi's handler.
type fixture struct {
	st     store.Store
	h      http.Handler
	series string
	code   string
}

func newFixture(t testing.TB, opts httpapi.Options) *fixture {
	t.Helper()
	return newFixtureOn(t, memstore.New(), opts)
}

// newFixtureOn is newFixture on the store st.
func newFixtureOn(t testing.TB, st store.Store, opts httpapi.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	e, err := couponkit.New(couponkit.Config{Store: st, CodeKey: func(context.Context, string) ([]byte, error) {
		return []byte("a test key"), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, testSeries())
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, h: httpapi.New(e, opts), series: s.ID, code: res.Coupon.Code}
}

// events counts the store's events: a refused request adds none.
func (f *fixture) events(t testing.TB) int {
	t.Helper()
	evs, err := f.st.Events(context.Background(), store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func (f *fixture) serve(method, path, ctype, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

// TestBadInput sends each kind of bad request: each is answered with its
// 4xx status and the envelope, naming the field where there is one, and
// changes nothing.
func TestBadInput(t *testing.T) {
	f := newFixture(t, httpapi.Options{MaxBody: 4096})
	redeem := "/v1/coupons/" + f.code + "/redeem"
	good := `{"customer":{"id":"alice"},"idempotency_key":"k1","bill":{"amount":"80","currency":"EUR"}}`
	for _, tc := range []struct {
		name, method, path, ctype, body string
		header                          []string
		status                          int
		code                            errcode.Code
		field                           string
	}{
		{"malformed JSON", "POST", redeem, "application/json", `{"customer":`, nil, 400, errcode.InvalidArgument, ""},
		{"not JSON at all", "POST", redeem, "application/json", `redeem please`, nil, 400, errcode.InvalidArgument, ""},
		{"an empty body", "POST", redeem, "application/json", ``, nil, 400, errcode.InvalidArgument, ""},
		{"an unknown field", "POST", redeem, "application/json", `{"customer":{"id":"alice"},"idempotency_key":"k1","bill":{"amount":"80"},"coupon":"x"}`, nil, 400, errcode.InvalidArgument, "coupon"},
		{"an unknown nested field", "POST", redeem, "application/json", `{"customer":{"id":"alice","name":"A"},"idempotency_key":"k1","bill":{"amount":"80"}}`, nil, 400, errcode.InvalidArgument, "name"},
		{"a wrong type", "POST", redeem, "application/json", `{"customer":{"id":7},"idempotency_key":"k1","bill":{"amount":"80"}}`, nil, 400, errcode.InvalidArgument, "customer.id"},
		{"an array for an object", "POST", redeem, "application/json", `[]`, nil, 400, errcode.InvalidArgument, ""},
		{"data after the value", "POST", redeem, "application/json", good + `{}`, nil, 400, errcode.InvalidArgument, ""},
		{"a body over the limit", "POST", redeem, "application/json", `{"customer":{"id":"` + strings.Repeat("a", 5000) + `"}}`, nil, 413, errcode.InvalidArgument, ""},
		{"another content type", "POST", redeem, "text/plain", good, nil, 400, errcode.InvalidArgument, "Content-Type"},
		{"a missing key", "POST", redeem, "application/json", `{"customer":{"id":"alice"},"bill":{"amount":"80"}}`, nil, 400, errcode.InvalidArgument, "IdempotencyKey"},
		{"a missing customer", "POST", redeem, "application/json", `{"idempotency_key":"k1","bill":{"amount":"80"}}`, nil, 400, errcode.InvalidArgument, ""},
		{"header and body keys differ", "POST", redeem, "application/json", good, []string{"Idempotency-Key", "k2"}, 400, errcode.InvalidArgument, "Idempotency-Key"},
		{"a key where none is taken", "POST", "/v1/coupons/" + f.code + "/transfer", "application/json", `{"from":{"id":"alice"},"to":{"id":"bob"}}`, []string{"Idempotency-Key", "k3"}, 400, errcode.InvalidArgument, "Idempotency-Key"},
		{"the body's code is another", "POST", redeem, "application/json", `{"code":"OTHER","customer":{"id":"alice"},"idempotency_key":"k1","bill":{"amount":"80"}}`, nil, 400, errcode.InvalidArgument, "code"},
		{"a bad enum", "PUT", "/v1/series/" + f.series + "/status", "application/json", `{"status":"sleeping"}`, nil, 400, errcode.InvalidArgument, ""},
		{"a bad duration", "POST", "/v1/coupons/" + f.code + "/hold", "application/json", `{"customer":{"id":"alice"},"idempotency_key":"h","bill":{"amount":"80"},"ttl":15}`, nil, 400, errcode.InvalidArgument, "ttl"},
		{"a bad feed limit", "GET", "/v1/feed?limit=many", "", "", nil, 400, errcode.InvalidArgument, "limit"},
		{"a bad series config", "POST", "/v1/series", "application/json", `{"name":"x","time_zone":"Mars/Olympus"}`, nil, 400, 0, ""},
		{"an empty batch", "POST", "/v1/issue/batch", "application/json", `{"requests":[]}`, nil, 400, errcode.InvalidArgument, "requests"},
		{"an unknown route", "GET", "/v1/nowhere", "", "", nil, 404, 0, ""},
		{"a wrong method", "DELETE", redeem, "", "", nil, 405, 0, ""},
		{"an unknown coupon", "GET", "/v1/coupons/NOPE", "", "", nil, 404, 0, ""},
		{"an unauthenticated till", "POST", "/till/v1/leases/grant", "application/json", `{}`, nil, 401, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.events(t)
			w := f.serve(tc.method, tc.path, tc.ctype, tc.body, tc.header...)
			var env httperr.Envelope
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&env); err != nil && err != io.EOF {
				t.Fatalf("answer is not the envelope: %v", err)
			}
			if w.Code != tc.status || tc.code != 0 && env.Error.Code != tc.code || tc.field != "" && env.Error.Field != tc.field {
				t.Errorf("%d %+v, want %d code %d field %q", w.Code, env.Error, tc.status, tc.code, tc.field)
			}
			if env.Error.Message == "" || env.Error.Name == "" {
				t.Errorf("envelope without name or message: %+v", env.Error)
			}
			if got := f.events(t); got != before {
				t.Errorf("events: %d before, %d after: a refused request changed something", before, got)
			}
		})
	}
}
