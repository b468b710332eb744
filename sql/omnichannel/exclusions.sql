-- Exclusion ledger: what the extraction leaves out, and why (nothing is dropped silently).
--
-- Each broadcast and each mart count gets exactly one outcome, checked in this order:
--   test or demo account     the account is in raw.master_testing_demo_account
--   channel not selected     the channel is not in run_channels (broadcasts only)
--   not finished             status is not 'finish' (broadcasts only)
--   category not charged     a WhatsApp category the run does not charge (messages only)
--   outside the window       local time/day outside [window_start, window_end)
--   kept
-- The rows of the same outcome are counted (broadcasts, or messages), with their accounts.
-- Parameters and session tables: as in campaigns.sql and charged_messages.sql; the broadcasts
-- and mart counts: query.broadcasts (broadcasts.sql) and query.messages (messages.sql).
WITH broadcast_outcomes AS (
    SELECT
        b.channel,
        b.application,
        CASE
            WHEN EXISTS (SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = b.application)
                THEN 'test or demo account'
            WHEN NOT EXISTS (SELECT 1 FROM run_channels c WHERE c.channel = b.channel)
                THEN 'channel not selected'
            WHEN b.status IS NULL OR b.status <> 'finish' THEN 'not finished'
            WHEN (b.created_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone < CAST(:window_start AS TIMESTAMP)
              OR (b.created_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone >= CAST(:window_end AS TIMESTAMP)
                THEN 'outside the window'
            ELSE 'kept'
        END AS outcome
    FROM query.broadcasts b
),
message_outcomes AS (
    SELECT
        m.channel,
        m.application,
        m.messages,
        CASE
            WHEN EXISTS (SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = m.application)
                THEN 'test or demo account'
            WHEN NOT EXISTS (
                SELECT 1 FROM run_prices p
                WHERE p.channel = m.channel AND p.category = m.category AND p.charged
            ) THEN 'category not charged'
            WHEN m.transaction_date < CAST(:window_start AS DATE)
              OR m.transaction_date >= CAST(:window_end AS DATE)
                THEN 'outside the window'
            ELSE 'kept'
        END AS outcome
    FROM query.messages m
    WHERE m.messages > 0
)
SELECT 'broadcasts' AS item, channel, outcome, COUNT(*) AS amount, COUNT(DISTINCT application) AS accounts
FROM broadcast_outcomes
GROUP BY channel, outcome
UNION ALL
SELECT 'charged messages', channel, outcome, CAST(SUM(messages) AS BIGINT), COUNT(DISTINCT application)
FROM message_outcomes
GROUP BY channel, outcome
ORDER BY item, channel, outcome;
