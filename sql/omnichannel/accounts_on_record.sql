-- Every account that appears in any table, and whether it is a test/demo account.
-- Used to report the accounts the extraction leaves out (e.g. no finished campaign in the window).
WITH seen AS (
    SELECT application FROM raw.whatsappbroadcasts
    UNION SELECT application FROM raw.smsbroadcasts
    UNION SELECT application FROM raw.emailbroadcasts
    UNION SELECT application FROM raw.broadcastcalls
    UNION SELECT application FROM mart.wa_blast_transaction_aggregate
    UNION SELECT application FROM mart.sms_blast_transaction_aggregate
    UNION SELECT application FROM mart.email_blast_transaction_aggregate
)
SELECT
    s.application,
    EXISTS (
        SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = s.application
    ) AS is_test
FROM seen s
WHERE s.application IS NOT NULL
ORDER BY s.application;
