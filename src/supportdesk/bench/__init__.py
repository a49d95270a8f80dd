"""Benchmark tooling: a bare WebSocket relay (the ceiling) and a closed-loop load generator."""
