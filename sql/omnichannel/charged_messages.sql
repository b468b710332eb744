-- Charged messages and revenue per account (the source document's Dataset 3, corrected).
--
-- One row per account (application; the document grouped by name too, which splits an account
-- whose WhatsApp numbers carry different names into several rows). Every channel counts: the
-- tables are stacked (query.messages: messages.sql), not LEFT JOINed from WhatsApp, so SMS-only
-- and email-only accounts stay.
--
-- Parameters
--   :window_start, :window_end  local days, half-open [start, end); the marts' transaction_date
--                               is already a local (platform time zone) day
-- Session table
--   run_prices(channel, category, price, charged)  data/reference/omnichannel_prices.csv plus
--                               whether the category counts as charged (WhatsApp categories are
--                               a parameter; SMS and email are always charged)
--
-- full_name: the name on the account's most recent mart row (ties: the row with more messages,
-- then the alphabetically first name), over all dates, so a renamed account shows its current name.
WITH real_accounts AS (
    SELECT m.*
    FROM query.messages m
    WHERE NOT EXISTS (
        SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = m.application
    )
),
latest_name AS (
    SELECT application, full_name
    FROM (
        SELECT
            application,
            full_name,
            ROW_NUMBER() OVER (
                PARTITION BY application
                ORDER BY transaction_date DESC, messages DESC, full_name
            ) AS recency_rank
        FROM real_accounts
        WHERE messages > 0
    ) ranked
    WHERE recency_rank = 1
),
priced AS (
    SELECT m.application, m.channel, m.category, m.messages, p.price, p.charged
    FROM real_accounts m
    JOIN run_prices p ON p.channel = m.channel AND p.category = m.category
    WHERE m.transaction_date >= CAST(:window_start AS DATE)
      AND m.transaction_date < CAST(:window_end AS DATE)
),
per_account AS (
    SELECT
        application,
        CAST(SUM(CASE WHEN category = 'marketing' THEN messages ELSE 0 END) AS BIGINT) AS messages_marketing,
        CAST(SUM(CASE WHEN category = 'utility' THEN messages ELSE 0 END) AS BIGINT) AS messages_utility,
        CAST(SUM(CASE WHEN category = 'service' THEN messages ELSE 0 END) AS BIGINT) AS messages_service,
        CAST(SUM(CASE WHEN category = 'authentication' THEN messages ELSE 0 END) AS BIGINT)
            AS messages_authentication,
        CAST(SUM(CASE WHEN channel = 'sms' THEN messages ELSE 0 END) AS BIGINT) AS messages_sms,
        CAST(SUM(CASE WHEN channel = 'email' THEN messages ELSE 0 END) AS BIGINT) AS messages_email,
        CAST(SUM(CASE WHEN channel = 'wa' AND charged THEN messages ELSE 0 END) AS BIGINT) AS charged_wa,
        CAST(SUM(CASE WHEN channel = 'sms' AND charged THEN messages ELSE 0 END) AS BIGINT) AS charged_sms,
        CAST(SUM(CASE WHEN channel = 'email' AND charged THEN messages ELSE 0 END) AS BIGINT) AS charged_email,
        CAST(SUM(CASE WHEN channel = 'wa' AND charged THEN messages * price ELSE 0 END) AS BIGINT)
            AS revenue_wa,
        CAST(SUM(CASE WHEN channel = 'sms' AND charged THEN messages * price ELSE 0 END) AS BIGINT)
            AS revenue_sms,
        CAST(SUM(CASE WHEN channel = 'email' AND charged THEN messages * price ELSE 0 END) AS BIGINT)
            AS revenue_email
    FROM priced
    GROUP BY application
)
SELECT a.application, n.full_name, a.messages_marketing, a.messages_utility, a.messages_service,
       a.messages_authentication, a.messages_sms, a.messages_email, a.charged_wa, a.charged_sms,
       a.charged_email, a.revenue_wa, a.revenue_sms, a.revenue_email
FROM per_account a
LEFT JOIN latest_name n ON n.application = a.application
ORDER BY a.application;
