-- Every broadcast (campaign) of every channel, one row each: the platform's four broadcast tables
-- stacked, with the channel they came from. Read as query.broadcasts by campaigns.sql,
-- exclusions.sql, activity_summary.sql and accounts_on_record.sql (rfm_helpers.sql.dialect inlines
-- it), so a channel is added in one place.
SELECT 'wa' AS channel, "_id", application, status, created_at FROM raw.whatsappbroadcasts
UNION ALL
SELECT 'sms', "_id", application, status, created_at FROM raw.smsbroadcasts
UNION ALL
SELECT 'email', "_id", application, status, created_at FROM raw.emailbroadcasts
UNION ALL
SELECT 'call', "_id", application, status, created_at FROM raw.broadcastcalls;
