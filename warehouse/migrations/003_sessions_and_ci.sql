-- 003: what a sync needs to stay true between runs.
-- session_id: the open session's id; checkpoint keys carry it, so only the same unfinished
--   session reads them (a finished session, or a `--full` repair, never replays an older one).
-- page_size: the PR page size that last worked for the repository (shrunk after a timeout or a
--   partial answer, grown back slowly), so an hourly run does not pay the same timeout again.
-- head_commit_id: the GraphQL node id of the PR's head commit, to re-poll its CI (check runs
--   that finish or are re-run do not move the PR's updated_at).
ALTER TABLE sync_state ADD COLUMN session_id VARCHAR;
ALTER TABLE sync_state ADD COLUMN page_size INTEGER;
ALTER TABLE pull_requests ADD COLUMN head_commit_id VARCHAR;
-- pending_check_runs (001) now holds `number:head commit node id` of every head commit whose CI
--   the next run fetches: deferred (tokens were low) or fetched before it settled.
