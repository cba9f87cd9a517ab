-- +goose Up
-- couponkit schema, version 9, PostgreSQL: what a redemption made on a
-- basket's lines or under a series' budget records (coupon.Redemption's
-- Lines, Parts, Reduced and Budget), as one JSON document; NULL for a
-- redemption made on the bill alone.

ALTER TABLE ck_redemptions ADD COLUMN checkout TEXT;
