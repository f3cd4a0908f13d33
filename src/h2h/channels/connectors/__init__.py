"""Channel connectors: each maps one channel's items to RawMessage (see base.py)."""
