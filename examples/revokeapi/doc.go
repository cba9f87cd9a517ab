// Command revokeapi is a small HTTP server over the couponkit engine that
// serves the coupon revoke API (with package httpapi, whose handler it
// runs, so couponkit's other routes are served too):
//
//	POST /v2/coupon/revoke[?couponCodeCase=LOWER|UPPER|AS_IT_IS]
//
// The body names a series (couponSeriesId) and either a customer, by id,
// mobile, email or externalId, whose unredeemed coupons of the series are
// revoked (at most 100), or a list of couponCodes (at most 50; a single
// code may be given without the series):
//
//	{"couponSeriesId": 415446, "customer": {"mobile": "11223569865"}}
//	{"couponSeriesId": 415446, "couponCodes": ["3138309782", "3636820421"]}
//
// couponSeriesId and the customer's identifiers may be JSON strings or
// numbers; couponCodes may be an array or a single string. An empty body is
// an empty request (756).
//
// A revocation answers HTTP 200 with the partial-success envelope:
//
//	{"entity": {"totalCount": 3, "failedCount": 2,
//	            "revokedCoupons": [{"couponId": …, "couponCode": "…", "issuedToUserId": …}],
//	            "failedToRevoke": [{"errorCode": 682, "errorMessage": "Coupon not found ", "couponCodes": […]}]},
//	 "warnings": [], "errors": [], "success": true}
//
// failedToRevoke groups the codes by reason: 404 (the code exists, in
// another series), 682 (no such coupon, or already revoked), 405 (redeemed).
// Ids are written as JSON numbers when they are plain decimal numbers of at
// most 15 digits, as the documented API's are, and as strings otherwise; a revoked
// coupon that was never issued has issuedToUserId null. Codes are written
// in upper case unless couponCodeCase says LOWER or AS_IT_IS (as created).
//
// A request the engine refuses answers HTTP 200 with success false and the
// error, and no entity, as the API documents:
//
//	{"warnings": [], "errors": [{"status": false, "code": 756,
//	 "message": "CouponCode/s or customer info is mandatory"}], "success": false}
//
// with the documented API's messages for 108 (a single generic code), 712 (the series
// has expired) and 756 (neither codes nor customer), and couponkit's codes
// and messages otherwise: 1003 for more than 50 codes or a customer with
// more than 100 unredeemed coupons (nothing is revoked), 1002 for a bad
// argument (such as several codes without the series, or an unknown
// couponCodeCase), 1004 for an unknown customer, 404 for an unknown series.
// A body that is not JSON answers HTTP 400, a method other than POST 405,
// and a failure of the service 500 or 503, each with the same error
// envelope.
//
// Differences from the documented API: its "Partial success" example is not wrapped in
// "entity", carries "status" and "hasMore", and misspells errorCode as
// "errroCode" and "errrorCode"; this server always writes the documented
// shape and errorCode. The documented message "Coupon not found " keeps its
// trailing space. There is no authentication: this is an example.
//
// The server keeps its data in memory and starts with a demo data set
// holding the documented API's series, customers and codes (see demo.go), so that
// each documented request gives the documented response:
//
//	revokeapi -addr 127.0.0.1:8080
//	curl -s -XPOST localhost:8080/v2/coupon/revoke -d '{"couponSeriesId":415446,"customer":{"mobile":"11223569865"}}'
package main
