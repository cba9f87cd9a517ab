-- +goose Up
-- couponkit schema, version 6, PostgreSQL: the event feed.
--
-- An event's position is (tx, seq): the id of the transaction that wrote
-- it, then its number. seq alone is not the order of commit: a
-- transaction that drew a smaller seq may commit after one that drew a
-- larger, after a reader has passed it. A reader therefore reads only the
-- events of transactions below the xmin of its snapshot: every
-- transaction with a smaller id has ended, and one that has not taken an
-- id yet will take one at or above it, so no event can later commit
-- behind a reader at (tx, seq). The cost: a transaction that stays open
-- on the server holds back the events of every transaction after it until
-- it ends (latency, never loss).
--
-- Adding tx rewrites ck_events once: the events written before this step
-- all get the migrating transaction's id, and keep their seq order.
--
-- remaining and channel are the fields of the notification events
-- (coupon.Event.Remaining, Channel).

ALTER TABLE ck_events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();

ALTER TABLE ck_events ADD COLUMN remaining BIGINT NOT NULL DEFAULT 0;

ALTER TABLE ck_events ADD COLUMN channel TEXT NOT NULL DEFAULT '';

CREATE INDEX ck_events_feed ON ck_events (tx, seq);

-- The feed consumers' checkpoints (store.Checkpointer): the two parts of
-- the position each saved, (tx, seq).
CREATE TABLE ck_checkpoints (
	consumer TEXT PRIMARY KEY,
	hi       BIGINT NOT NULL,
	lo       BIGINT NOT NULL
);
