-- +goose Up
-- couponkit schema, version 8, SQLite: a till's recorded use given back
-- (lease.Entry.Reversed). reversed is its Reversed time (Unix
-- nanoseconds, 0 while the use stands); the update that marks a use given
-- back is guarded by it, so a use is given back once.

ALTER TABLE ck_till_entries ADD COLUMN reversed INTEGER NOT NULL DEFAULT 0;
