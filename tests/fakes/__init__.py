"""Fake platform APIs that only the tests use, on the shared base in connectors/fakes/server.py."""
