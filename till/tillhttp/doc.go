// Package tillhttp is the HTTP binding of the protocol between tills and
// the central couponkit: a net/http handler for the central ([NewHandler])
// and a client for the till ([Client]). The messages are the engine's own
// request and result types (couponkit.LeaseRequest, couponkit.LeaseCall,
// couponkit.LeaseResult, couponkit.JournalBatch, couponkit.JournalAck and
// series.Series), sent as JSON.
//
// # Routes
//
//	POST /v1/leases/grant   LeaseRequest -> LeaseResult
//	POST /v1/leases/renew   LeaseCall    -> LeaseResult
//	POST /v1/leases/topup   LeaseCall    -> LeaseResult
//	POST /v1/leases/return  LeaseCall    -> LeaseResult
//	POST /v1/journal        JournalBatch -> JournalAck
//	GET  /v1/series/{id}                 -> series.Series
//
// An error is answered with its HTTP status and an [ErrorBody]; the client
// turns it back into an *errcode.Error, so that errors.Is matches the same
// errcode sentinels as a call on the engine.
//
// # Authentication
//
// Every request names its till (the Couponkit-Till header) and carries the
// till's secret (Authorization: Bearer <secret>), which the handler
// compares in constant time with the one the central keeps for that till.
// A wrong or missing secret, or a till the central does not know, is
// refused with 401 ([ErrUnauthorized]) before anything is read. A message
// that names another till than the one authenticated is refused with 403
// ([ErrForbidden]); the engine itself answers a lease of another till as
// one that does not exist. Serve the handler over TLS (http.Server's
// ListenAndServeTLS) so that secrets do not cross the network in clear.
//
// # Retries
//
// Every call that changes something carries idempotency keys (the lease
// call's Key, each journal entry's Key), so the client sends the same
// message again after a timeout, a lost connection or a 503, and the
// central answers a repeat with its first result.
package tillhttp
