"""JSON endpoints of the people domain under /api/v1/workspaces/<ws>/people…"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["people"])
