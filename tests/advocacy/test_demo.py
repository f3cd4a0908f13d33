"""The demo's Advocates page tells the story: advocates and detractors at risk, each with the
reasons they are there, and people moving between engagement levels over the months."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h import demo
from h2h.accounts import service as accounts
from h2h.advocacy import service
from tests.conftest import csrf_from


def _login(client: TestClient, email: str) -> None:
    client.cookies.clear()
    token = csrf_from(client.get("/login").text)
    done = client.post(
        "/login",
        data={"email": email, "password": demo.DEMO_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303


def _rows(html: str, key: str) -> list[str]:
    section = html.split(f'data-testid="board-{key}"')[1].split("</section>")[0]
    return section.split(f'data-testid="{key}-row"')[1:]


def _reasons(row: str) -> list[str]:
    return re.findall(r"<li>([^<]+)</li>", row.split("</tr>")[0])


def test_the_demo_shows_advocates_detractors_at_risk_and_movement(
    client: TestClient, session: Session
) -> None:
    assert demo.load_demo(session)
    session.commit()
    for slug, email in (("carter-dental", demo.TOM.email), ("zerno", demo.ANNA.email)):
        _login(client, email)
        page = client.get(f"/w/{slug}/feedback/advocates")
        assert page.status_code == 200
        advocates, at_risk = _rows(page.text, "advocates"), _rows(page.text, "at-risk")
        assert len(advocates) >= 3 and len(at_risk) >= 1
        for row in [*advocates, *at_risk]:
            assert len(_reasons(row)) >= 2  # the deciding sentence and the score's parts
        movement = page.text.split('data-testid="movement"')[1]
        assert movement.count('data-testid="period-row"') == 6
        assert movement.count('data-testid="move"') >= 1
        assert 'data-testid="transitions"' in movement
        ws = accounts.get_workspace(session, slug=slug).id
        moved = service.movement(session, workspace_id=ws)
        assert any(before is not after for before, after, _ in moved.moves)
        board = service.boards(session, workspace_id=ws)
        assert board.promotion_driven >= 1  # the giveaway likers
    english = client.get("/w/carter-dental/feedback/advocates")  # still Anna: Russian page
    assert "Глубокая" in english.text or "Разовая" in english.text
    _login(client, demo.TOM.email)
    tom = client.get("/w/carter-dental/feedback/advocates").text
    assert "Advocate: a promoter who is not unhappy" in tom
    assert "At risk: unhappy" in tom
    assert re.search(r"\d+ (person|people) (went from|arrived at|left) “", tom)
