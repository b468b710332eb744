-- The source document's Dataset 1, as published (kept to measure what its method loses; the
-- corrected extraction is campaigns.sql). Most recent finished campaign per channel, local time,
-- filtered by the LOCAL year (:year) while document_frequency.sql filters by UTC timestamps.
-- Test/demo accounts are not excluded here (the document relies on its later inner merges).
SELECT 'wa' AS source,
       application,
       MAX(created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) AS most_recent_campaign
FROM raw.whatsappbroadcasts
WHERE status = 'finish'
  AND DATE_PART('year', created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) = :year
GROUP BY application
UNION ALL
SELECT 'sms' AS source,
       application,
       MAX(created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) AS most_recent_campaign
FROM raw.smsbroadcasts
WHERE status = 'finish'
  AND DATE_PART('year', created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) = :year
GROUP BY application
UNION ALL
SELECT 'email' AS source,
       application,
       MAX(created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) AS most_recent_campaign
FROM raw.emailbroadcasts
WHERE status = 'finish'
  AND DATE_PART('year', created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) = :year
GROUP BY application
UNION ALL
SELECT 'call' AS source,
       application,
       MAX(created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) AS most_recent_campaign
FROM raw.broadcastcalls
WHERE status = 'finish'
  AND DATE_PART('year', created_at AT TIME ZONE 'UTC' AT TIME ZONE :timezone) = :year
GROUP BY application
ORDER BY source, application;
