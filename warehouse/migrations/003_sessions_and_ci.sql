-- 003: what a sync needs to stay true between runs.
-- session_id: the open session's id; checkpoint keys carry it, so only the same unfinished
--   session reads them (a finished session, or a `--full` repair, never replays an older one).
-- page_size: the PR page size that last worked for the repository (shrunk after a timeout or a
--   partial answer, grown back slowly), so an hourly run does not pay the same timeout again.
-- head_commit_id: the GraphQL node id of the PR's head commit, to re-poll its CI (check runs
--   that finish or are re-run do not move the PR's updated_at).
-- depth_since: how far back the synced history reaches (the oldest updatedAt a first sync or a
--   deeper `--days-back` asked for; NULL: all of it), so a deeper `--days-back` fetches more.
-- outcome_at: when the last run ended for the repository (status: synced, unchanged, failed,
--   interrupted, not_found, or running while a run works on it).
ALTER TABLE sync_state ADD COLUMN session_id VARCHAR;
ALTER TABLE sync_state ADD COLUMN page_size INTEGER;
ALTER TABLE sync_state ADD COLUMN depth_since TIMESTAMPTZ;
ALTER TABLE sync_state ADD COLUMN outcome_at TIMESTAMPTZ;
ALTER TABLE pull_requests ADD COLUMN head_commit_id VARCHAR;
-- pending_check_runs (001) now holds `number:head commit node id` of every head commit whose CI
--   the next run fetches: deferred (tokens were low) or fetched before it settled.
