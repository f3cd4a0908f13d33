"""Background jobs of the people domain."""

from __future__ import annotations
