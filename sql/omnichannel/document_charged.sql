-- The source document's Dataset 3, as published (the corrected extraction is charged_messages.sql),
-- with its price literals replaced by the price list (session table run_prices). Kept faults:
-- no date filter (all time), rows per (application, name), LEFT JOIN from WhatsApp on application
-- AND name (SMS/email-only accounts and differently written names are lost), and NOT IN (a NULL
-- in the test list empties the result).
WITH wa_blast AS (
    SELECT
        application,
        client_name AS full_name,
        wabanumber,
        SUM(marketing) AS total_marketing,
        SUM(utility) AS total_utility,
        SUM(service) AS total_service,
        SUM(authentication) AS total_authentication
    FROM mart.wa_blast_transaction_aggregate
    GROUP BY application, client_name, wabanumber
),
sms_blast AS (
    SELECT application, full_name, SUM(total_sms) AS total_sms
    FROM mart.sms_blast_transaction_aggregate
    GROUP BY application, full_name
),
email_blast AS (
    SELECT application, full_name, SUM(total) AS total_email
    FROM mart.email_blast_transaction_aggregate
    GROUP BY application, full_name
),
wa_blast_aggregated AS (
    SELECT
        application,
        full_name,
        SUM(total_marketing) AS total_marketing,
        SUM(total_utility) AS total_utility,
        SUM(total_service) AS total_service,
        SUM(total_authentication) AS total_authentication
    FROM wa_blast
    GROUP BY application, full_name
),
price AS (
    SELECT
        MAX(CASE WHEN category = 'marketing' THEN price END) AS marketing,
        MAX(CASE WHEN category = 'utility' THEN price END) AS utility,
        MAX(CASE WHEN category = 'service' THEN price END) AS service,
        MAX(CASE WHEN category = 'authentication' THEN price END) AS authentication,
        MAX(CASE WHEN channel = 'sms' THEN price END) AS sms,
        MAX(CASE WHEN channel = 'email' THEN price END) AS email
    FROM run_prices
)
SELECT
    wa.application,
    wa.full_name,
    CAST(COALESCE(wa.total_marketing, 0) AS BIGINT) AS total_marketing,
    CAST(COALESCE(wa.total_utility, 0) AS BIGINT) AS total_utility,
    CAST(COALESCE(wa.total_service, 0) AS BIGINT) AS total_service,
    CAST(COALESCE(wa.total_authentication, 0) AS BIGINT) AS total_authentication,
    CAST(COALESCE(sms.total_sms, 0) AS BIGINT) AS total_sms,
    CAST(COALESCE(email.total_email, 0) AS BIGINT) AS total_email,
    CAST(COALESCE(wa.total_marketing * price.marketing, 0) AS BIGINT) AS rev_marketing,
    CAST(COALESCE(wa.total_utility * price.utility, 0) AS BIGINT) AS rev_utility,
    CAST(COALESCE(wa.total_service * price.service, 0) AS BIGINT) AS rev_service,
    CAST(COALESCE(wa.total_authentication * price.authentication, 0) AS BIGINT) AS rev_authentication,
    CAST(COALESCE(sms.total_sms * price.sms, 0) AS BIGINT) AS rev_sms,
    CAST(COALESCE(email.total_email * price.email, 0) AS BIGINT) AS rev_email
FROM wa_blast_aggregated wa
CROSS JOIN price
LEFT JOIN sms_blast sms ON wa.application = sms.application AND wa.full_name = sms.full_name
LEFT JOIN email_blast email ON wa.application = email.application AND wa.full_name = email.full_name
WHERE wa.application NOT IN (SELECT application FROM raw.master_testing_demo_account mtda)
ORDER BY wa.full_name, wa.application;
