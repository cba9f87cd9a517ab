// Package httpapi is couponkit's HTTP API: a net/http handler ([New]) over
// a *couponkit.Engine, with JSON bodies, one error envelope (package
// httperr), the coupon revoke API and the till protocol (package tillhttp)
// in the same server. The OpenAPI 3.1 document of every route is embedded
// ([OpenAPI]) and served at GET /v1/openapi.yaml.
//
// # Routes
//
// Bodies are the engine's request types as JSON (snake_case fields, as
// their struct tags give them), answers its result types.
//
//	GET  /v1/openapi.yaml                       the OpenAPI document
//	POST /v1/series                             series.Series -> 201 series.Series (CreateSeries)
//	GET  /v1/series[?status=s]                  -> {"series": [...]} every series, or those in status s
//	GET  /v1/series?store=S1[&store=S2]         -> {"series": [...]} the active series restricted to
//	                                               those places (till=, store=, zone= or concept=; SeriesAt)
//	GET  /v1/series/{id}                        -> series.Series
//	PUT  /v1/series/{id}                        series.Series -> series.Series (UpdateSeries; id may be left out)
//	PUT  /v1/series/{id}/status                 {"status": "paused"} -> series.Series (SetSeriesStatus)
//	GET  /v1/series/{id}/counters               -> SeriesCounters
//	POST /v1/series/{id}/upload[?file_id=f]     CSV (package bulk's upload file) -> UploadReport
//	POST /v1/issue                              IssueRequest -> IssueResult
//	POST /v1/issue/batch                        {"requests": [IssueRequest]} -> {"outcomes": [{"result"|"error"}]}
//	GET  /v1/coupons/{code}[?series_id=&customer_id=]   -> CouponDetails (back office: shows holder and uses)
//	GET  /v1/coupons/{code}/history[?series_id=&customer_id=] -> {"events": [...]}
//	POST /v1/coupons/{code}/validate            RedeemRequest -> Check (nothing changes)
//	POST /v1/coupons/{code}/redeem              RedeemRequest -> RedeemResult
//	POST /v1/coupons/{code}/hold                RedeemRequest + {"ttl": "15m"} -> RedeemResult
//	POST /v1/coupons/{code}/transfer            TransferRequest -> coupon.Coupon
//	POST /v1/coupons/{code}/reissue             ReissueRequest -> ReissueResult
//	POST /v1/holds/confirm                      ConfirmRequest -> RedeemResult
//	POST /v1/holds/release                      ReleaseRequest -> 204
//	POST /v1/redemptions/reverse                ReverseRequest -> RedeemResult (whole or part)
//	POST /v2/coupon/revoke[?couponCodeCase=]    the revoke API (below)
//	GET  /v1/customers/{id}/coupons[?series_id=]  -> {"coupons": [CouponView]}
//	GET  /v1/customers/{id}/history[?series_id=]  -> {"events": [...]}
//	GET  /v1/feed[?after=<pos>&limit=<n>]       -> {"events": [{"position", "event"}], "next": <pos>}
//	     /till/v1/...                           the till protocol (package tillhttp, its routes
//	                                               under /till; a till's client has BaseURL .../till)
//
// A route with {code} in its path takes the code from it: the body's code
// may be left out, and if given must be the same (ignoring case). The
// customer of a query is named by customer_id, mobile, email or
// external_id.
//
// The feed pages by cursor: ask with after set to the previous page's
// next (empty for the start) until a page comes back with no events; a
// reader that resumes from the last next it handled misses no event.
//
// # Idempotency
//
// Redeem, hold and issue carry an idempotency key (the body's
// idempotency_key); confirm, release and reverse name a use by it. The key
// may instead come in the Idempotency-Key header: the header fills a body
// without a key; both given and different is a 400. A route that takes no
// key refuses the header (400), so that no caller believes a retry of it
// safe. Repeating a request with the same key and parameters answers the
// first result ("replayed": true) and changes nothing; the same key with
// other parameters is a 409 (1118). A return (reverse with lines, an
// amount or a chargeback) carries its own key in the body's top-level
// idempotency_key, beside the key in "redemption" (or the header) that
// names the redemption.
//
// # Errors
//
// Every error but the revoke API's is answered with package httperr's
// envelope and status: {"error": {"code", "name", "message", "field",
// "refusals"}}; 400 bad input, 404 unknown (a code that is not the
// caller's, where the series does not let anyone redeem, looks unknown),
// 409 conflict or idempotency key mismatch, 413 body too large, 422
// refused by a rule (the refusals list each reason once, with its
// parameters), 500 otherwise, 503 unavailable. A body is read up to
// Options.MaxBody (1 MiB by default; uploads Options.MaxUploadBody,
// 32 MiB); an unknown field, a wrong type, malformed JSON, trailing data
// or a missing required field is a 400 and changes nothing.
//
// # API keys and throttling
//
// With Options.Keys set, every route but GET /v1/openapi.yaml and the till
// protocol (which authenticates tills itself) needs "Authorization:
// Bearer <key>". Keys are compared in constant time with every key the
// handler holds. A missing or unknown key is a 401; a role that may not
// call the route a 403. An Operator key may call every route. A Checkout
// key may read series, validate, redeem, hold, confirm and release, and
// read the coupons and history of only the customer its request is made
// for (the Couponkit-Customer header must name the path's customer); it
// may not revoke, transfer, reissue, issue, read a coupon's details or the
// feed. A Till key may read series, validate, redeem, hold, confirm,
// release and reverse. The key's name is the actor of a change that names
// none.
//
// Failed code look-ups (a 404 from a route that names a code) are
// throttled per key (per client address without keys): each has a bucket
// of Options.FailedLookups, 100 by default, refilled at that rate per
// hour; an empty bucket answers every such route 429 until it refills. At
// the default a key can try 100 wrong codes an hour, 2,400 a day: against
// a series filled to the default ratio of 1 in 10,000
// (couponkit.SeriesCounters.GuessOdds), about one hit in four days.
//
// # The revoke API
//
//	POST /v2/coupon/revoke[?couponCodeCase=LOWER|UPPER|AS_IT_IS]
//
// keeps the shapes of the widely used coupon revoke API, so its clients
// work unchanged. The body names a series (couponSeriesId) and either a
// customer, by id, mobile, email or externalId, whose unredeemed coupons
// of the series are revoked (at most 100), or couponCodes (at most 50; a
// single code may be given without the series):
//
//	{"couponSeriesId": 415446, "customer": {"mobile": "11223569865"}}
//	{"couponSeriesId": 415446, "couponCodes": ["3138309782", "3636820421"]}
//
// Ids may be JSON strings or numbers; couponCodes an array or one string.
// A revocation answers 200 with the partial-success envelope
//
//	{"entity": {"totalCount": 3, "failedCount": 2,
//	            "revokedCoupons": [{"couponId": …, "couponCode": "…", "issuedToUserId": …}],
//	            "failedToRevoke": [{"errorCode": 682, "errorMessage": "Coupon not found ", "couponCodes": […]}]},
//	 "warnings": [], "errors": [], "success": true}
//
// failedToRevoke groups the codes by reason: 404 (the code exists in
// another series), 682 (no such coupon, or already revoked), 405
// (redeemed). A request the engine refuses answers 200 with success false
// and {"errors": [{"status": false, "code": 756, "message": …}]}: 108 (a
// single generic code), 712 (the series has ended), 756 (neither codes
// nor customer), 1003 (more than 50 codes, or a customer with more than
// 100 unredeemed coupons: nothing is revoked), 1002, 1004 and 404. A body
// that is not JSON answers 400, another method than POST 405, a failure
// 500 or 503, each in the same revoke envelope.
package httpapi
