"""Prefect flows and tasks: orchestration only, over the `ghsync` library."""
