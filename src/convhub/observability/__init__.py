"""Health checks, Prometheus metrics and the request log: what operators watch."""
