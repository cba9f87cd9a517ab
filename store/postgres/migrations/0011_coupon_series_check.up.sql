-- +goose Up
-- couponkit schema, version 11, PostgreSQL: the series of the coupons a
-- statement inserts is checked once per statement, not once per row.
--
-- The foreign key from ck_coupons to ck_series checked every row on its
-- own, each check a lookup and a lock on the series' row: for a bulk issue,
-- which copies thousands of coupons of one series at a time, a tenth of
-- its time. The triggers below keep what the key kept, with the error it
-- raised (foreign_key_violation, constraint ck_coupons_series_id_fkey), so
-- a coupon naming a series that does not exist is refused as before:
--   - after each statement inserting coupons, one query over its new rows'
--     distinct series;
--   - before an update that moves a coupon to another series (couponkit
--     makes none), a check of that series;
--   - before a series with coupons is deleted or its id changed (couponkit
--     does neither), a refusal.
-- The key's lock on the series row kept a series from being deleted while
-- a coupon naming it was being inserted; couponkit never deletes a series,
-- so the checks hold without it.

ALTER TABLE ck_coupons DROP CONSTRAINT ck_coupons_series_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION ck_missing_series(missing TEXT) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	RAISE EXCEPTION 'insert or update on table "ck_coupons" violates foreign key constraint "ck_coupons_series_id_fkey"'
		USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ck_coupons_series_id_fkey', TABLE = 'ck_coupons',
			DETAIL = format('Key (series_id)=(%s) is not present in table "ck_series".', missing);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ck_coupons_inserted_check_series() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	missing TEXT;
BEGIN
	SELECT n.series_id INTO missing FROM (SELECT DISTINCT series_id FROM ck_new_coupons) n
		WHERE NOT EXISTS (SELECT 1 FROM ck_series s WHERE s.id = n.series_id) LIMIT 1;
	IF FOUND THEN
		PERFORM ck_missing_series(missing);
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ck_coupons_inserted_check_series AFTER INSERT ON ck_coupons
	REFERENCING NEW TABLE AS ck_new_coupons FOR EACH STATEMENT EXECUTE FUNCTION ck_coupons_inserted_check_series();

-- +goose StatementBegin
CREATE FUNCTION ck_coupon_moved_check_series() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM ck_series WHERE id = NEW.series_id) THEN
		PERFORM ck_missing_series(NEW.series_id);
	END IF;
	RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ck_coupon_moved_check_series BEFORE UPDATE OF series_id ON ck_coupons
	FOR EACH ROW WHEN (OLD.series_id IS DISTINCT FROM NEW.series_id) EXECUTE FUNCTION ck_coupon_moved_check_series();

-- +goose StatementBegin
CREATE FUNCTION ck_series_keep_coupons() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM ck_coupons WHERE series_id = OLD.id) THEN
		RAISE EXCEPTION 'update or delete on table "ck_series" violates foreign key constraint "ck_coupons_series_id_fkey" on table "ck_coupons"'
			USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ck_coupons_series_id_fkey', TABLE = 'ck_series',
				DETAIL = format('Key (id)=(%s) is still referenced from table "ck_coupons".', OLD.id);
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ck_series_deleted_keep_coupons BEFORE DELETE ON ck_series
	FOR EACH ROW EXECUTE FUNCTION ck_series_keep_coupons();

CREATE TRIGGER ck_series_renamed_keep_coupons BEFORE UPDATE OF id ON ck_series
	FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ck_series_keep_coupons();
