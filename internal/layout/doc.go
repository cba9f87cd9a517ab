// Package layout holds the tests that keep the module's structure: small
// functions and small files everywhere outside tests and examples, an
// import graph that runs one way (pure packages import no store, stores
// import no engine, the engine imports no concrete store), and a till built
// on SQLite that links no PostgreSQL driver. It has no code of its own.
package layout
