"""Benchmarks: backroom against a hand-written baseline, measured side by side in one run."""
