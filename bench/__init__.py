"""Benchmarks, run by hand (not in CI): `python -m bench [--quick]` runs the suite, `python -m bench.report`
turns its JSON into Markdown; single modules run with `python -m bench.<name>` (bench_explain, exactness)."""
