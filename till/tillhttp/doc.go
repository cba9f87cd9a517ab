// Package tillhttp is the HTTP binding of the protocol between tills and
// the central couponkit: a net/http handler for the central ([NewHandler],
// [NewKeyedHandler]) and a client for the till ([Client]). The messages
// are the engine's own request and result types (couponkit.LeaseRequest,
// couponkit.LeaseCall, couponkit.LeaseResult, couponkit.JournalBatch,
// couponkit.JournalAck, couponkit.TillRedeemRequest,
// couponkit.TillRedeemResult, couponkit.TillFeedPage and series.Series),
// sent as JSON.
//
// # Routes
//
//	POST /v1/leases/grant              LeaseRequest      -> LeaseResult
//	POST /v1/leases/renew              LeaseCall         -> LeaseResult
//	POST /v1/leases/topup              LeaseCall         -> LeaseResult
//	POST /v1/leases/return             LeaseCall         -> LeaseResult
//	POST /v1/journal                   JournalBatch      -> JournalAck
//	POST /v1/redeem                    TillRedeemRequest -> TillRedeemResult
//	GET  /v1/feed?after=<pos>&limit=<n>                  -> TillFeedPage
//	GET  /v1/series/{id}                                 -> series.Series
//
// The feed's after is a position as store.Position.String writes it (empty
// for the start), and limit a number (store.DefaultFeedLimit when absent).
// A series is answered only to a till that holds a lease of it
// (couponkit.Engine.TillSeries): to any other it is not found, as a series
// that does not exist.
//
// An error is answered with its HTTP status and couponkit's one error
// envelope ([ErrorBody], package httperr); the client
// turns it back into an *errcode.Error, or the *refusal.Error of a refused
// use, so that errors.Is matches the same errcode sentinels as a call on
// the engine.
//
// # Authentication
//
// Every request names its till (the Couponkit-Till header) and carries the
// till's secret (Authorization: Bearer <secret>), which the handler
// compares in constant time with the one the central keeps for that till.
// A secret may expire ([Secret].NotAfter, with [NewKeyedHandler]). A wrong,
// missing or expired secret, or a till the central does not know, is
// refused alike with 401 ([ErrUnauthorized]) before anything is read. A message
// that names another till than the one authenticated is refused with 403
// ([ErrForbidden]); the engine itself answers a lease of another till as
// one that does not exist. Serve the handler over TLS (http.Server's
// ListenAndServeTLS) so that secrets do not cross the network in clear.
//
// # Retries
//
// Every call that changes something carries idempotency keys (the lease
// call's Key, each journal entry's Key, an online use's Key), so the
// client sends the same
// message again after a timeout, a lost connection or a 503, and the
// central answers a repeat with its first result.
package tillhttp
