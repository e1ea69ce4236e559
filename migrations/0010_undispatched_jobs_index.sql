-- The organizations' recovery (every 20 s while jobs are in flight) looks for queued jobs never
-- dispatched; without this index each look scanned every queued job of every organization.
CREATE INDEX analysis_jobs_undispatched ON analysis_jobs(organization_id, updated_at) WHERE status = 'queued' AND dispatched_at IS NULL;
