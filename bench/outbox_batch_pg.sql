-- One claim's batch in flight, for outbox_settle_plan_pg.sql (included with psql's \ir
-- inside its transactions, not run on its own): 2,000 rows sending under the same lease
-- (not_before 5000), nothing else in the outbox.
DELETE FROM outbox;
INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, program_id,
                    state)
SELECT 'apns', md5(g::text) || md5((g + 1)::text), 'pass.dev.cardsmith', '', 5000, 1000, 1000,
       NULL, 'sending'
FROM generate_series(1, 2000) g;
