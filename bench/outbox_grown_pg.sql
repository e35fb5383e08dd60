-- Set-up shared by outbox_claim_plan_pg.sql and outbox_settle_plan_pg.sql (included with
-- psql's \ir, not run on its own): the outbox as earlier traffic leaves it, physically
-- grown to 30,000 rows, then emptied but for 5 and analysed while nearly empty (its normal
-- state, and what autovacuum sees). Leaves only dead rows and the 5 live ones.
INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, program_id)
SELECT 'apns', md5(g::text) || md5((g + 7)::text), 'pass.dev.cardsmith', '', 1000, 1000, 1000,
       NULL
FROM generate_series(1, 30000) g;
DELETE FROM outbox WHERE id NOT IN (SELECT id FROM outbox ORDER BY id LIMIT 5);
ANALYZE outbox;
SELECT reltuples, relpages FROM pg_class WHERE relname = 'outbox';
