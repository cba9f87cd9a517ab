package httpapi_test

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/store"
)

var testKeys = []httpapi.APIKey{
	{Name: "ops", Secret: []byte("operator-secret"), Role: httpapi.Operator},
	{Name: "shop", Secret: []byte("checkout-secret"), Role: httpapi.Checkout},
	{Name: "till", Secret: []byte("till-secret"), Role: httpapi.Till},
}

// TestRoles checks on each store what each role may do, and that a
// missing, unknown or empty key is refused alike.
func TestRoles(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) { testRoles(t, open(t)) })
	}
}

func testRoles(t *testing.T, st store.Store) {
	f := newFixtureOn(t, st, httpapi.Options{Keys: append(testKeys, httpapi.APIKey{Name: "empty", Role: httpapi.Operator})})
	bearer := func(s string) []string { return []string{"Authorization", "Bearer " + s} }
	redeem := `{"customer":{"id":"alice"},"idempotency_key":"k1","bill":{"amount":"80","currency":"EUR"}}`
	revoke := `{"couponSeriesId":"` + f.series + `","couponCodes":["` + f.code + `"]}`
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
	}{
		{"no key", "GET", "/v1/series", "", nil, 401},
		{"an unknown key", "GET", "/v1/series", "", bearer("guess"), 401},
		{"an empty key matches no empty secret", "GET", "/v1/series", "", []string{"Authorization", "Bearer "}, 401},
		{"the OpenAPI document is open", "GET", "/v1/openapi.yaml", "", nil, 200},
		{"an operator lists series", "GET", "/v1/series", "", bearer("operator-secret"), 200},
		{"a checkout reads series", "GET", "/v1/series/" + f.series, "", bearer("checkout-secret"), 200},
		{"a checkout may not revoke", "POST", httpapi.RevokePath, revoke, bearer("checkout-secret"), 403},
		{"a till may not revoke", "POST", httpapi.RevokePath, revoke, bearer("till-secret"), 403},
		{"a checkout may not read a coupon's details", "GET", "/v1/coupons/" + f.code, "", bearer("checkout-secret"), 403},
		{"a checkout may not read another customer's coupons", "GET", "/v1/customers/alice/coupons", "", append(bearer("checkout-secret"), httpapi.HeaderCustomer, "bob"), 403},
		{"nor any without naming its customer", "GET", "/v1/customers/alice/history", "", bearer("checkout-secret"), 403},
		{"a checkout reads its customer's coupons", "GET", "/v1/customers/alice/coupons", "", append(bearer("checkout-secret"), httpapi.HeaderCustomer, "alice"), 200},
		{"a till may not read a customer's coupons", "GET", "/v1/customers/alice/coupons", "", append(bearer("till-secret"), httpapi.HeaderCustomer, "alice"), 403},
		{"a checkout may not read the feed", "GET", "/v1/feed", "", bearer("checkout-secret"), 403},
		{"a checkout redeems", "POST", "/v1/coupons/" + f.code + "/redeem", redeem, bearer("checkout-secret"), 200},
		{"an operator revokes", "POST", httpapi.RevokePath, revoke, bearer("operator-secret"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.serve(tc.method, tc.path, "application/json", tc.body, tc.header...)
			if w.Code != tc.status {
				t.Errorf("%d, want %d: %s", w.Code, tc.status, w.Body)
			}
		})
	}
}

// TestThrottle checks on each store that a key's failed code look-ups are
// throttled once its bucket is empty, whatever it asks for then, that
// another key is not, and that the bucket refills with time (a fake
// clock).
func TestThrottle(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) { testThrottle(t, open(t)) })
	}
}

func testThrottle(t *testing.T, st store.Store) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := newFixtureOn(t, st, httpapi.Options{Keys: testKeys, FailedLookups: 3, Now: func() time.Time { return now }})
	shop := []string{"Authorization", "Bearer checkout-secret"}
	guess := func(code string, header []string) int {
		return f.serve("POST", "/v1/coupons/"+code+"/validate", "application/json",
			`{"customer":{"id":"alice"},"bill":{"amount":"80","currency":"EUR"}}`, header...).Code
	}
	for i := range 3 {
		if got := guess("GUESS"+string(rune('A'+i)), shop); got != 404 {
			t.Fatalf("guess %d: %d, want 404", i, got)
		}
	}
	if got := guess(f.code, shop); got != 429 {
		t.Errorf("after 3 failed look-ups, a good code: %d, want 429", got)
	}
	if got := guess(f.code, []string{"Authorization", "Bearer till-secret"}); got != 200 {
		t.Errorf("another key: %d, want 200", got)
	}
	now = now.Add(20 * time.Minute) // a third of an hour: one look-up back
	if got := guess(f.code, shop); got != 200 {
		t.Errorf("20 minutes later: %d, want 200", got)
	}
	if got := guess("GUESSX", shop); got != 404 {
		t.Errorf("then a guess: %d, want 404", got)
	}
	if got := guess(f.code, shop); got != 429 {
		t.Errorf("then: %d, want 429", got)
	}
}
