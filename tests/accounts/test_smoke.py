from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.db import utcnow
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind
from tests.conftest import Cast, login


def test_owner_logs_in_and_sees_the_dashboard(client: TestClient, cast: Cast) -> None:
    login(client, cast.owner.user.email)
    page = client.get("/w/alpha/")
    assert page.status_code == 200
    assert "Alpha Coffee" in page.text


def test_the_overview_counts_this_weeks_messages_and_top_subjects(
    client: TestClient, cast: Cast, session: Session
) -> None:
    actor = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=actor, kind=ChannelKind.WEBHOOK, name="Hook"
    )
    subject = subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=actor,
        kind=SubjectKind.BRAND,
        name="Alpha",
        query="альфа",
    )
    old = utcnow() - timedelta(days=30)
    ingest.store(
        session,
        workspace_id=cast.a.id,
        channel_id=channel.id,
        items=[
            RawMessage("1", "Кофе в Альфе отличный", utcnow(), Author("a")),
            RawMessage("2", "Где мой заказ?", utcnow(), Author("b")),
            RawMessage("3", "Альфа, спасибо", old, Author("c")),
        ],
    )
    session.commit()
    login(client, cast.owner.user.email)
    page = client.get("/w/alpha/").text
    assert "2 messages in the last 7 days" in page
    assert f"/w/alpha/mentions?subject={subject.id}" in page
