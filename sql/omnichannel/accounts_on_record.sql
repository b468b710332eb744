-- Every account that appears in any table (a broadcast, broadcasts.sql, or a mart row,
-- messages.sql), and whether it is a test/demo account.
-- Used to report the accounts the extraction leaves out (e.g. no finished campaign in the window).
WITH seen AS (
    SELECT application FROM query.broadcasts
    UNION SELECT application FROM query.messages
)
SELECT
    s.application,
    EXISTS (
        SELECT 1 FROM raw.master_testing_demo_account t WHERE t.application = s.application
    ) AS is_test
FROM seen s
WHERE s.application IS NOT NULL
ORDER BY s.application;
