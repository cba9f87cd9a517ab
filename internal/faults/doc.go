// Package faults injects the faults that couponkit's exactly-once
// operations must survive, for the project's own tests: connections that
// fail at the worst moment, between a database's commit and the client's
// hearing of it.
//
// [PGProxy] is a TCP proxy on loopback between PostgreSQL clients (pgx)
// and a PostgreSQL server. It reads the server's side of the wire
// protocol, message by message, and recognises the reply to a commit: a
// CommandComplete with the tag COMMIT (simple or extended protocol,
// pipelined or not), and the reply of an autocommit INSERT, UPDATE,
// DELETE, MERGE or COPY, which the server commits on its own. With a
// chosen probability, or on command, it cuts both connections instead of
// forwarding that reply: the server has committed, the client sees a
// broken connection and cannot tell whether its change was stored. A
// caller that retries such a change with its idempotency key must see it
// applied once.
//
// The proxy serves test code only. It understands just enough of the
// protocol to find commits, refuses TLS (it answers 'N' to an SSLRequest,
// so pgx connects in clear with sslmode=disable or prefer) and listens on
// 127.0.0.1 only.
package faults
