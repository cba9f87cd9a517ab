-- +goose Up
-- couponkit schema, version 6, SQLite: the event feed.
--
-- An event's position is its seq, the rowid. SQLite writes one transaction
-- at a time, so rowids are given in the order of commit: a transaction
-- takes the largest rowid so far plus one, and no other transaction
-- commits between its first insert and its commit. Events are never
-- deleted, so a rowid is never given twice.
--
-- remaining and channel are the fields of the notification events
-- (coupon.Event.Remaining, Channel).

ALTER TABLE ck_events ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;

ALTER TABLE ck_events ADD COLUMN channel TEXT NOT NULL DEFAULT '';

-- The feed consumers' checkpoints (store.Checkpointer): the position
-- saved, (0, seq), as its two parts.
CREATE TABLE ck_checkpoints (
	consumer TEXT PRIMARY KEY,
	hi       INTEGER NOT NULL,
	lo       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
