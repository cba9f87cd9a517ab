// Command fleet runs a central couponkit and its tills as separate
// processes, the way a retailer does: one central on PostgreSQL (or
// SQLite), tills each with their own SQLite file, talking over HTTP
// (package tillhttp). The tills lease slices of an offer's uses, sell
// within them through their journal whether or not the central answers,
// and sync their journals when they can; the central records each use
// exactly once and keeps the offer's limit.
//
//	go run ./examples/fleet            # the demo: a central, three tills, an outage
//	go run ./examples/fleet central -store sqlite:central.db -addr 127.0.0.1:8080
//	go run ./examples/fleet central -store postgres:'postgres://...' -addr 127.0.0.1:8080
//	go run ./examples/fleet till -central http://127.0.0.1:8080 -id T1 -secret s1 -file t1.sqlite -sales 100
//	go run ./examples/fleet report -store sqlite:central.db
//
// The demo (the default) starts the central and three tills as processes
// of this same binary, puts a TCP proxy (package netcut) between them,
// cuts the tills off for a while (they keep selling within their leases),
// heals, lets every till sync and return what it has left of its leases,
// and prints the reconciliation report (Engine.Reconcile) and the audit of
// the books (package central's Check): the offer's use limit held, every
// lease adds up, and the counters equal the records.
//
// # Pieces
//
//   - package offer: the demo offer (uploaded coupons, each used once, a
//     use limit for the series);
//   - package central: the central (store, handler, lease reclaims) and
//     the audit; it links the PostgreSQL driver;
//   - package tillproc: the till process (leases, sales, syncs), which
//     links SQLite only, as a till binary should;
//   - package netcut: the proxy that scripts outages.
//
// The till's "sell" step is one function (tillproc's node.sell, today the
// journal's offline decision for every sale).
//
// # Tests
//
// TestDemo runs the demo on SQLite (a few seconds, in every `go test`).
// TestFleetChaosPostgres runs when COUPONKIT_TEST_POSTGRES names a
// database (in a schema of its own): the central on PostgreSQL, three
// tills over loopback HTTP through the proxy, and for 20 seconds
// (COUPONKIT_FLEET_CHAOS_SECONDS for longer) random cuts, dropped
// connections and SIGKILLs of tills and of the central, each restarted on
// its own file or database. Both then check that every sale a till
// acknowledged is recorded centrally exactly once, that the offer's limit
// held (the PostgreSQL test samples the counter all along) and that the
// books add up.
package main
