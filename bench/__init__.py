"""The smclass benchmark: smclass beside its alternatives, same data, same machine, one run.

Run ``python -m bench --help``; the report goes to BENCHMARKS.md at the repo root.
"""
