-- Campaigns per account (the source document's Datasets 1 and 2, corrected).
--
-- One row per account (application) with its most recent finished campaign per channel and
-- overall, in local time, and the number of finished campaigns per channel in the window.
-- Both come from one scan so that they share the window, the status rule and the exclusions
-- (the document filtered recency by local year but frequency by UTC timestamps).
--
-- Parameters
--   :timezone      the platform's time zone, e.g. 'Asia/Jakarta'
--   :window_start  first local day of the window (inclusive)
--   :window_end    first local day after the window (exclusive: a half-open interval, so no
--                  '23:59:59' that would miss the last second)
-- Session table
--   run_channels(channel)  the channels that count (wa, sms, email, call)
-- The broadcasts of every channel: query.broadcasts (broadcasts.sql).
--
-- created_at is stored in UTC without a time zone: "AT TIME ZONE 'UTC'" marks it as UTC and
-- "AT TIME ZONE :timezone" turns it into the local wall-clock time.
-- Test/demo accounts are excluded with NOT EXISTS (NOT IN returns nothing if the list holds a NULL).
WITH finished AS (
    SELECT
        b.channel,
        b."_id",
        b.application,
        (b.created_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone AS local_at
    FROM query.broadcasts b
    WHERE b.status = 'finish'
      AND b.channel IN (SELECT channel FROM run_channels)
      AND NOT EXISTS (
          SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = b.application
      )
)
SELECT
    application,
    MAX(CASE WHEN channel = 'wa' THEN local_at END) AS last_wa,
    MAX(CASE WHEN channel = 'sms' THEN local_at END) AS last_sms,
    MAX(CASE WHEN channel = 'email' THEN local_at END) AS last_email,
    MAX(CASE WHEN channel = 'call' THEN local_at END) AS last_call,
    MAX(local_at) AS last_campaign,
    COUNT(DISTINCT CASE WHEN channel = 'wa' THEN "_id" END) AS broadcasts_wa,
    COUNT(DISTINCT CASE WHEN channel = 'sms' THEN "_id" END) AS broadcasts_sms,
    COUNT(DISTINCT CASE WHEN channel = 'email' THEN "_id" END) AS broadcasts_email,
    COUNT(DISTINCT CASE WHEN channel = 'call' THEN "_id" END) AS broadcasts_call
FROM finished
WHERE local_at >= CAST(:window_start AS TIMESTAMP)
  AND local_at < CAST(:window_end AS TIMESTAMP)
GROUP BY application
ORDER BY application;
