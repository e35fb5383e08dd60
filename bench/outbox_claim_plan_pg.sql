-- The PostgreSQL outbox claim going quadratic (docs/benchmarks.md, "Several instances"):
-- run with psql on a database migrated by `cardsmith migrate` (nothing is kept: the last
-- part runs in a transaction that is rolled back, the first leaves only dead rows).
--
--   psql "postgresql://.../db" -f bench/outbox_claim_plan_pg.sql
--
-- The outbox as a rollout finds it: physically grown by earlier traffic, analysed (by
-- autovacuum) while nearly empty, which is its normal state; then 9,000 due rows and 2,000
-- in flight. The claim's NOT EXISTS is planned as a nested loop over every in-flight row
-- for every due row (the estimates say one row each): ~1 s per claim of 1,000 rows on the
-- development machine, 14,000,000 rows removed by the join filter. The same claim with
-- NOT IN over the in-flight rows is a hashed subplan with these estimates: ~20 ms. The
-- server's PostgreSQL claim is written with NOT IN since main's 6abaa18; the first part
-- keeps the NOT EXISTS form it had before, for comparison.
\ir outbox_grown_pg.sql

BEGIN;
DELETE FROM outbox;
INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, program_id)
SELECT 'apns', md5(g::text) || md5((g + 1)::text), 'pass.dev.cardsmith', '', 1000, 1000, 1000,
       NULL
FROM generate_series(1, 9000) g;
UPDATE outbox SET state = 'sending', not_before = 999999999999
WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 2000);
SET plan_cache_mode = force_generic_plan;  -- the server's prepared statement, after 5 runs

-- The server's claim before 6abaa18 (storage/sql/wallet_store.cpp, kClaimOutboxSqlPg).
PREPARE claim(bigint, bigint, bigint) AS
UPDATE outbox SET state = 'sending', not_before = $2, updated_at = $1 WHERE id IN
(SELECT o.id FROM outbox o WHERE o.state IN ('pending', 'sending') AND o.not_before <= $1
 AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.target = o.target AND s.state = 'sending'
                 AND s.not_before > $1 AND s.kind = o.kind AND s.topic = o.topic)
 ORDER BY o.not_before LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING id;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE claim(2000, 5000, 1000);
ROLLBACK;

BEGIN;
DELETE FROM outbox;
INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, program_id)
SELECT 'apns', md5(g::text) || md5((g + 1)::text), 'pass.dev.cardsmith', '', 1000, 1000, 1000,
       NULL
FROM generate_series(1, 9000) g;
UPDATE outbox SET state = 'sending', not_before = 999999999999
WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 2000);
SET plan_cache_mode = force_generic_plan;

-- The same rows with NOT IN (target, kind and topic are NOT NULL, so it means the same):
-- the server's claim since 6abaa18, without its claimed_by.
PREPARE claim_not_in(bigint, bigint, bigint) AS
UPDATE outbox SET state = 'sending', not_before = $2, updated_at = $1 WHERE id IN
(SELECT o.id FROM outbox o WHERE o.state IN ('pending', 'sending') AND o.not_before <= $1
 AND (o.target, o.kind, o.topic) NOT IN
     (SELECT s.target, s.kind, s.topic FROM outbox s
      WHERE s.state = 'sending' AND s.not_before > $1)
 ORDER BY o.not_before LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING id;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE claim_not_in(2000, 5000, 1000);
ROLLBACK;
