package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Revoke two coupons by code, as the documented revoke API's example does, over HTTP.
func Example_revokeByCodes() {
	e, err := newDemo(context.Background(), func() time.Time { return time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC) })
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(newHandler(e, "example"))
	defer srv.Close()

	body := `{"couponSeriesId": 415446, "couponCodes": ["3138309782", "3636820421"]}`
	resp, err := http.Post(srv.URL+"/v2/coupon/revoke", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Print(string(out))
	// Output:
	// 200 OK
	// {
	//     "entity": {
	//         "totalCount": 2,
	//         "failedCount": 0,
	//         "revokedCoupons": [
	//             {
	//                 "couponId": 1239575840,
	//                 "couponCode": "3138309782",
	//                 "issuedToUserId": 555567088
	//             },
	//             {
	//                 "couponId": 1239575842,
	//                 "couponCode": "3636820421",
	//                 "issuedToUserId": 555567088
	//             }
	//         ],
	//         "failedToRevoke": []
	//     },
	//     "warnings": [],
	//     "errors": [],
	//     "success": true
	// }
}
