"""Benchmarks: run by command, results written to tests/bench/results/; not part of pytest."""
