"""Pages of the people domain under /w/<ws>/people…"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from h2h.deps import form_csrf
from h2h.errors import N_
from h2h.templating import NavItem, add_nav

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)

add_nav(NavItem("people", N_("People"), "/people", "users"), after="mentions")
