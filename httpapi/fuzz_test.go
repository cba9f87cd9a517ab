package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/httpapi/httperr"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

// FuzzHandler sends random requests (method, path, body, idempotency key)
// to the handler over a memstore engine holding a series and an issued
// coupon ({series} and {code} in a path stand for them). Whatever comes,
// the handler does not panic, answers no 5xx (none is documented for a
// healthy in-memory store), and an error answer is the envelope (the
// revoke API's own envelope on its path), as valid JSON.
func FuzzHandler(f *testing.F) {
	fx := newFixture(f, httpapi.Options{MaxBody: 1 << 16, FailedLookups: -1})
	for _, c := range []struct {
		m    uint8
		path string
		body string
	}{
		{1, "/v1/series", `{"name":"x","time_zone":"UTC","source":{"kind":"generated","length":8},"expiry":{"kind":"days_from_issue","n":1},"discount":{"kind":"fixed","amount":"1","currency":"EUR"}}`},
		{0, "/v1/series?store=S1", ``},
		{0, "/v1/series/{series}", ``},
		{2, "/v1/series/{series}", `{"name":"y","time_zone":"UTC"}`},
		{2, "/v1/series/{series}/status", `{"status":"paused"}`},
		{0, "/v1/series/{series}/counters", ``},
		{1, "/v1/series/{series}/upload", "code\nA1\n"},
		{1, "/v1/issue", `{"series_id":"{series}","customer":{"id":"bob"},"idempotency_key":"i1"}`},
		{1, "/v1/issue/batch", `{"requests":[{"series_id":"{series}","customer":{"id":"carol"}}]}`},
		{0, "/v1/coupons/{code}", ``},
		{0, "/v1/coupons/{code}/history", ``},
		{1, "/v1/coupons/{code}/validate", `{"customer":{"id":"alice"},"bill":{"amount":"80"}}`},
		{1, "/v1/coupons/{code}/redeem", `{"customer":{"id":"alice"},"idempotency_key":"p1","bill":{"amount":"80","currency":"EUR"}}`},
		{1, "/v1/coupons/{code}/hold", `{"customer":{"id":"alice"},"idempotency_key":"h1","bill":{"amount":"80"},"ttl":"1m"}`},
		{1, "/v1/holds/confirm", `{"hold":{"code":"{code}","idempotency_key":"h1"}}`},
		{1, "/v1/holds/release", `{"hold":{"code":"{code}","idempotency_key":"h1"}}`},
		{1, "/v1/redemptions/reverse", `{"redemption":{"code":"{code}","idempotency_key":"p1"}}`},
		{1, "/v1/coupons/{code}/transfer", `{"from":{"id":"alice"},"to":{"id":"bob"}}`},
		{1, "/v1/coupons/{code}/reissue", `{"notify":true}`},
		{1, "/v2/coupon/revoke", `{"couponSeriesId":"{series}","couponCodes":["{code}"]}`},
		{0, "/v1/customers/alice/coupons", ``},
		{0, "/v1/customers/alice/history", ``},
		{0, "/v1/feed?limit=2", ``},
		{0, "/v1/openapi.yaml", ``},
		{1, "/till/v1/redeem", `{}`},
	} {
		f.Add(c.m, c.path, []byte(c.body), "")
	}
	f.Fuzz(func(t *testing.T, m uint8, path string, body []byte, key string) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		path = strings.NewReplacer("{series}", fx.series, "{code}", fx.code).Replace(path)
		body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("{series}"), []byte(fx.series)), []byte("{code}"), []byte(fx.code))
		u, err := url.Parse(path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://api.test"+u.RequestURI(), bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set(httpapi.HeaderIdempotencyKey, key)
		}
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code < 400 || method == "HEAD" {
			return
		}
		if req.URL.Path == httpapi.RevokePath {
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s: revoke answer is not JSON: %s", method, path, w.Body)
			}
			return
		}
		var env httperr.Envelope
		dec := json.NewDecoder(w.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil || env.Error.Message == "" || env.Error.Name == "" {
			t.Fatalf("%s %s: %d answer is not the envelope (%v): %s", method, path, w.Code, err, w.Body)
		}
	})
}
