package main

import (
	"net/http"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/httpapi"
)

// revokePath is the revoke API's path.
const revokePath = httpapi.RevokePath

// newHandler returns the HTTP handler of the revoke API over e: package
// httpapi's, which serves the revoke API beside couponkit's other routes.
// Customers are resolved by e's CustomerDirectory; actor is recorded on
// the revoke events.
func newHandler(e *couponkit.Engine, actor string) http.Handler {
	return httpapi.New(e, httpapi.Options{Actor: actor})
}
