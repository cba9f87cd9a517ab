package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/store/memstore"
)

// Serve the API over an engine, and redeem a code that does not exist:
// the answer is the error envelope.
func Example() {
	e, err := couponkit.New(couponkit.Config{Store: memstore.New()})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(httpapi.New(e, httpapi.Options{}))
	defer srv.Close()

	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/v1/coupons/NOSUCH/redeem",
		strings.NewReader(`{"customer":{"id":"alice"},"bill":{"amount":"80","currency":"EUR"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "pos-1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 404 {"error":{"code":682,"name":"coupon not found","message":"coupon \"NOSUCH\" not found","field":"Code"}}
}
