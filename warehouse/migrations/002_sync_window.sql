-- The window of an unfinished sync session (ghsync/window.py): a crashed run that is run again
-- resumes the same window, so its checkpoints match and its watermark is the same.
ALTER TABLE sync_state ADD COLUMN window_since TIMESTAMPTZ;
ALTER TABLE sync_state ADD COLUMN window_until TIMESTAMPTZ;
