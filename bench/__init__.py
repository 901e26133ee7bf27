"""Benchmarks: each module runs as ``python -m bench.<name>`` and prints its figures
and whether each target is met. Targets are checked here, never by timed tests."""
