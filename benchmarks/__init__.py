"""Benchmarks of bmlkg (``make bench`` / ``python -m benchmarks``); see benchmarks/run.py and docs/performance.md."""
