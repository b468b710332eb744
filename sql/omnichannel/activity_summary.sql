-- Buy-till-you-die summary per account (the outlook of the account runs: BG/NBD, Gamma-Gamma).
--
-- One row per account with a finished campaign in the window, in the form of
-- rfm_helpers.analysis.predictive.rfm_summary (sql/rfm/btyd_summary.sql for customers), in days:
-- the repeated event is an ACTIVE DAY, a local day on which the account ran at least one finished
-- campaign (any channel of run_channels: the campaigns of campaigns.sql, counted per day).
--   frequency       active days - 1 (repeat active days)
--   recency         days from the first to the last active day
--   t_end           days from the first active day to :window_end (the models' T; named t_end:
--                   PostgreSQL folds unquoted names to lower case)
--   monetary_value  mean charged revenue of the repeat active days (their sum / frequency; 0
--                   without any): the messages of charged_messages.sql dated on that local day,
--                   at the price list's prices
--   active_days     frequency + 1
--   revenue         charged revenue in the window, on any day (campaign day or not)
-- Revenue on days without a finished campaign (WhatsApp service/authentication traffic between
-- campaigns) counts in revenue but not in monetary_value: the spend model values active days.
--
-- Parameters
--   :timezone      the platform's time zone, e.g. 'Asia/Jakarta'
--   :window_start  first local day of the observation (inclusive)
--   :window_end    first local day after it (exclusive), the day the summary is taken at
-- Session tables: run_channels(channel) and run_prices(channel, category, price, charged), as in
-- campaigns.sql and charged_messages.sql; broadcasts and mart counts: query.broadcasts
-- (broadcasts.sql) and query.messages (messages.sql). Test/demo accounts are excluded with NOT EXISTS.
WITH active_days AS (
    SELECT DISTINCT
        b.application,
        CAST((b.created_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone AS DATE) AS day
    FROM query.broadcasts b
    WHERE b.status = 'finish'
      AND b.channel IN (SELECT channel FROM run_channels)
      AND NOT EXISTS (
          SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = b.application
      )
),
in_window AS (
    SELECT application, day
    FROM active_days
    WHERE day >= CAST(:window_start AS DATE)
      AND day < CAST(:window_end AS DATE)
),
day_revenue AS (
    SELECT m.application, CAST(m.transaction_date AS DATE) AS day, SUM(m.messages * p.price) AS revenue
    FROM query.messages m
    JOIN run_prices p ON p.channel = m.channel AND p.category = m.category
    WHERE p.charged
      AND m.transaction_date >= CAST(:window_start AS DATE)
      AND m.transaction_date < CAST(:window_end AS DATE)
      AND NOT EXISTS (
          SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = m.application
      )
    GROUP BY m.application, CAST(m.transaction_date AS DATE)
),
numbered AS (
    SELECT
        d.application,
        d.day,
        COALESCE(r.revenue, 0) AS revenue,
        ROW_NUMBER() OVER (PARTITION BY d.application ORDER BY d.day) AS place
    FROM in_window d
    LEFT JOIN day_revenue r ON r.application = d.application AND r.day = d.day
),
per_account AS (
    SELECT
        application,
        COUNT(*) AS active_days,
        MIN(day) AS first_day,
        MAX(day) AS last_day,
        SUM(CASE WHEN place > 1 THEN revenue ELSE 0 END) AS repeat_revenue
    FROM numbered
    GROUP BY application
),
total_revenue AS (
    SELECT application, SUM(revenue) AS revenue
    FROM day_revenue
    GROUP BY application
)
SELECT
    a.application,
    a.active_days - 1 AS frequency,
    a.last_day - a.first_day AS recency,
    CAST(:window_end AS DATE) - a.first_day AS t_end,
    COALESCE(
        CAST(a.repeat_revenue AS DOUBLE PRECISION) / NULLIF(a.active_days - 1, 0), 0
    ) AS monetary_value,
    a.active_days,
    CAST(COALESCE(r.revenue, 0) AS BIGINT) AS revenue
FROM per_account a
LEFT JOIN total_revenue r ON r.application = a.application
ORDER BY a.application;
