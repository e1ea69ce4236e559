-- Whether a job's organization gets runtime verdicts is decided at admission, from its tier then,
-- and travels on the row: the dispatch consumer no longer asks each organization's ledger.
-- NULL on rows admitted before this migration (the consumer asks the ledger for those).
ALTER TABLE analysis_jobs ADD COLUMN reachability_verdicts INTEGER;
