"""Benchmarks that print ratios (`make bench`); not tests. See README "Benchmarks"."""
