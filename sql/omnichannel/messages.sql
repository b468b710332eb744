-- Every mart count of messages, one row per mart row and category: the WhatsApp mart's four
-- categories and the SMS and email marts stacked, with the channel and category that price them
-- (run_prices). full_name is the name the mart row carries (client_name in the WhatsApp mart);
-- transaction_date is a local (platform time zone) day. Read as query.messages by
-- charged_messages.sql, exclusions.sql, activity_summary.sql and accounts_on_record.sql
-- (rfm_helpers.sql.dialect inlines it).
SELECT application, client_name AS full_name, transaction_date,
       'wa' AS channel, 'marketing' AS category, marketing AS messages
FROM mart.wa_blast_transaction_aggregate
UNION ALL
SELECT application, client_name, transaction_date, 'wa', 'utility', utility
FROM mart.wa_blast_transaction_aggregate
UNION ALL
SELECT application, client_name, transaction_date, 'wa', 'service', service
FROM mart.wa_blast_transaction_aggregate
UNION ALL
SELECT application, client_name, transaction_date, 'wa', 'authentication', authentication
FROM mart.wa_blast_transaction_aggregate
UNION ALL
SELECT application, full_name, transaction_date, 'sms', 'sms', total_sms
FROM mart.sms_blast_transaction_aggregate
UNION ALL
SELECT application, full_name, transaction_date, 'email', 'email', total
FROM mart.email_blast_transaction_aggregate;
