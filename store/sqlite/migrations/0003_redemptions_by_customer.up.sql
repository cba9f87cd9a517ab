-- +goose Up
-- couponkit schema, version 2, SQLite.
--
-- A customer's redemptions and holds in a series (RedemptionQuery.Customer):
-- a reversal or a release reads them to find the customer's use before the
-- one it gives back, which the redemption gap counts from.
CREATE INDEX ck_redemptions_customer ON ck_redemptions (customer, series_id);
