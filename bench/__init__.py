"""Benchmarks: one script per figure, each printing one final JSON line (see bench/README.md)."""
