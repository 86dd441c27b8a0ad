"""Test support code shared by the integration tests and the benchmark (not shipped to managed hosts)."""
