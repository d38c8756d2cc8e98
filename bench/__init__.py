"""Benchmarks: each bench_<name>.py module exposes run() -> list[dict] rows for one table."""
