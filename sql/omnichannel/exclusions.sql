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
-- Parameters and session tables: as in campaigns.sql and charged_messages.sql.
WITH broadcasts AS (
    SELECT 'wa' AS channel, application, status, created_at FROM raw.whatsappbroadcasts
    UNION ALL
    SELECT 'sms', application, status, created_at FROM raw.smsbroadcasts
    UNION ALL
    SELECT 'email', application, status, created_at FROM raw.emailbroadcasts
    UNION ALL
    SELECT 'call', application, status, created_at FROM raw.broadcastcalls
),
messages AS (
    SELECT application, transaction_date, 'wa' AS channel, 'marketing' AS category, marketing AS messages
    FROM mart.wa_blast_transaction_aggregate
    UNION ALL
    SELECT application, transaction_date, 'wa', 'utility', utility FROM mart.wa_blast_transaction_aggregate
    UNION ALL
    SELECT application, transaction_date, 'wa', 'service', service FROM mart.wa_blast_transaction_aggregate
    UNION ALL
    SELECT application, transaction_date, 'wa', 'authentication', authentication
    FROM mart.wa_blast_transaction_aggregate
    UNION ALL
    SELECT application, transaction_date, 'sms', 'sms', total_sms FROM mart.sms_blast_transaction_aggregate
    UNION ALL
    SELECT application, transaction_date, 'email', 'email', total FROM mart.email_blast_transaction_aggregate
),
broadcast_outcomes AS (
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
    FROM broadcasts b
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
    FROM messages m
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
