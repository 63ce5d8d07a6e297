"""Benchmarks of convhub against the machine's limit (issue 6): see bench/README.md."""
