-- The PostgreSQL outbox's outcome write on the wrong index (docs/benchmarks.md, "Several
-- instances"): run with psql on a database migrated by `cardsmith migrate` (nothing is kept:
-- the last parts run in transactions that are rolled back, the first leaves only dead rows).
--
--   psql "postgresql://.../db" -f bench/outbox_settle_plan_pg.sql
--
-- settle_outbox deleted each pushed row with one statement until 43175ff (the first part
-- below); since then one statement removes a claim's rows (the second part). The rows of one claim share
-- not_before (the claim's lease). With the outbox analysed while nearly empty (its normal
-- state between bursts, and what autovacuum sees), the prepared DELETE's generic plan uses
-- the due index (state, not_before) and filters on id, walking every row of the batch for
-- each row: 1999 rows removed by the filter for one DELETE, 540 ms for a batch of 1,000 on
-- the (busy) development machine. Analysed with the batch in place it uses the primary key:
-- 24 ms for the same 1,000.
\ir outbox_grown_pg.sql

-- One claim's batch in flight: 2,000 rows sending under the same lease.
BEGIN;
\ir outbox_batch_pg.sql
SET plan_cache_mode = force_generic_plan;  -- the server's prepared statement, after 5 runs

-- The server's outcome write (storage/sql/wallet_store.cpp, finish_row).
PREPARE settle(bigint, bigint) AS
DELETE FROM outbox WHERE id = $1 AND state = 'sending' AND not_before = $2;
SELECT max(id) AS last_id FROM outbox \gset
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE settle(:last_id, 5000);
\timing on
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM outbox ORDER BY id DESC LIMIT 1000 LOOP
        EXECUTE format('EXECUTE settle(%s, 5000)', r.id);
    END LOOP;
END $$;
\timing off
ROLLBACK;

-- The server's outcome write since 43175ff (storage/sql/wallet_store.cpp, finish_rows): the
-- same 1,000 rows in one statement, on the same statistics as the part above.
BEGIN;
\ir outbox_batch_pg.sql
SET plan_cache_mode = force_generic_plan;
PREPARE settle_batch(text, bigint) AS
DELETE FROM outbox WHERE state = 'sending' AND not_before = $2 AND id IN (SELECT
    CAST(value AS BIGINT) FROM json_array_elements_text(CAST($1 AS json)));
SELECT json_agg(id)::text AS ids FROM (SELECT id FROM outbox ORDER BY id DESC LIMIT 1000) t \gset
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE settle_batch(:'ids', 5000);
ROLLBACK;

-- The same, with the outbox analysed while the batch is in flight.
BEGIN;
\ir outbox_batch_pg.sql
ANALYZE outbox;
SET plan_cache_mode = force_generic_plan;
PREPARE settle_analysed(bigint, bigint) AS
DELETE FROM outbox WHERE id = $1 AND state = 'sending' AND not_before = $2;
SELECT max(id) AS last_id FROM outbox \gset
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE settle_analysed(:last_id, 5000);
\timing on
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM outbox ORDER BY id DESC LIMIT 1000 LOOP
        EXECUTE format('EXECUTE settle_analysed(%s, 5000)', r.id);
    END LOOP;
END $$;
\timing off
ROLLBACK;
