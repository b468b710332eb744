-- The source document's Dataset 2, as published (the corrected extraction is campaigns.sql).
-- Finished campaigns per channel between two UTC timestamps, the end written as 'YYYY-MM-DD
-- 23:59:59' (:window_last_second), so the window is in UTC, not local time, and calls are left out.
WITH wa_broadcast AS (
    SELECT application, COUNT(DISTINCT "_id") AS wa_broadcast_count
    FROM raw.whatsappbroadcasts w
    WHERE status = 'finish'
      AND created_at BETWEEN CAST(:window_start AS TIMESTAMP) AND CAST(:window_last_second AS TIMESTAMP)
    GROUP BY application
),
sms_broadcast AS (
    SELECT application, COUNT(DISTINCT "_id") AS sms_broadcast_count
    FROM raw.smsbroadcasts s
    WHERE status = 'finish'
      AND created_at BETWEEN CAST(:window_start AS TIMESTAMP) AND CAST(:window_last_second AS TIMESTAMP)
    GROUP BY application
),
email_broadcast AS (
    SELECT application, COUNT(DISTINCT "_id") AS email_broadcast_count
    FROM raw.emailbroadcasts e
    WHERE status = 'finish'
      AND created_at BETWEEN CAST(:window_start AS TIMESTAMP) AND CAST(:window_last_second AS TIMESTAMP)
    GROUP BY application
)
SELECT
    COALESCE(wa.application, sms.application, email.application) AS application,
    COALESCE(wa.wa_broadcast_count, 0) AS wa_broadcast_count,
    COALESCE(sms.sms_broadcast_count, 0) AS sms_broadcast_count,
    COALESCE(email.email_broadcast_count, 0) AS email_broadcast_count
FROM wa_broadcast wa
FULL OUTER JOIN sms_broadcast sms ON wa.application = sms.application
FULL OUTER JOIN email_broadcast email ON COALESCE(wa.application, sms.application) = email.application
ORDER BY application;
