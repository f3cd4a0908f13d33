"""Channels: where customers speak — connectors, messages and ingestion."""
