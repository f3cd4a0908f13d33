"""The subjects pages: adding, checking queries as they are typed, counts, editing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.subjects import service as subjects
from h2h.subjects.models import Subject, SubjectKind
from tests.conftest import Cast, login

HX = {"HX-Request": "true", "HX-Target": "query-check"}


def _owner(cast: Cast) -> accounts.Actor:
    return accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)


def _subject(session: Session, cast: Cast, name: str, query: str) -> Subject:
    subject = subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=_owner(cast),
        kind=SubjectKind.BRAND,
        name=name,
        query=query,
    )
    session.commit()
    return subject


def test_an_admin_adds_a_subject_through_the_form(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.admin.user.email)
    form = {"kind": "competitor", "name": "Starbucks", "query": "starbucks OR старбакс"}
    page = client.post("/w/alpha/subjects", data={**form, "csrf_token": csrf})
    assert page.status_code == 200
    assert "Now listening for “Starbucks”." in page.text
    assert 'data-testid="subjects-competitor"' in page.text
    subject = session.scalars(select(Subject)).one()
    assert (subject.kind, subject.query) == (SubjectKind.COMPETITOR, "starbucks OR старбакс")


def test_an_invalid_query_re_renders_the_form_with_a_caret_at_the_fault(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.owner.user.email)
    form = {"kind": "brand", "name": "Zerno", "query": "кофе AND"}
    page = client.post("/w/alpha/subjects", data={**form, "csrf_token": csrf})
    assert page.status_code == 422
    excerpt = re.search(r'data-testid="query-error">\s*<pre>(.*?)</pre>', page.text, re.S)
    assert excerpt is not None
    line, caret = excerpt.group(1).split("\n")
    assert line == "кофе AND" and caret == " " * line.index("AND") + "^"
    assert "“AND” needs a term after it." in page.text
    assert 'value="Zerno"' in page.text and ">кофе AND</textarea>" in page.text
    assert session.scalars(select(Subject)).all() == []


def test_the_live_check_answers_ok_or_where_the_query_is_wrong(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.admin.user.email)
    headers = {**HX, "X-CSRF-Token": csrf}
    ok = client.post(
        "/w/alpha/subjects/check-query", data={"query": '"служба доставки"'}, headers=headers
    )
    assert ok.status_code == 200 and 'data-testid="query-ok"' in ok.text and "<html" not in ok.text
    bad = client.post(
        "/w/alpha/subjects/check-query", data={"query": "(кофе OR чай"}, headers=headers
    )
    assert 'data-testid="query-error"' in bad.text
    assert "<pre>(кофе OR чай\n^</pre>" in bad.text and "This “(” is never closed." in bad.text
    empty = client.post("/w/alpha/subjects/check-query", data={"query": ""}, headers=headers)
    assert empty.text.strip() == ""


def test_the_live_check_speaks_russian_to_russian_readers(
    client: TestClient, cast: Cast, session: Session
) -> None:
    accounts.update_profile(session, user=cast.admin.user, language="ru")
    session.commit()
    csrf = login(client, cast.admin.user.email)
    bad = client.post(
        "/w/alpha/subjects/check-query",
        data={"query": "NOT реклама"},
        headers={**HX, "X-CSRF-Token": csrf},
    )
    assert "<pre>NOT реклама\n^</pre>" in bad.text and "Запросу нужно хотя бы одно" in bad.text


def test_mention_counts_link_to_the_filtered_stream(
    client: TestClient, cast: Cast, session: Session
) -> None:
    zerno = _subject(session, cast, "Zerno", "зерно")
    _subject(session, cast, "Delivery", "доставка")
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=_owner(cast), kind=ChannelKind.WEBHOOK, name="Hook"
    )
    ingest.store(
        session,
        workspace_id=cast.a.id,
        channel_id=channel.id,
        items=[
            RawMessage(
                external_id=str(n),
                text=text,
                created_at=datetime(2026, 3, 1, 10, n, tzinfo=UTC),
                author=Author(handle="anna"),
            )
            for n, text in enumerate(["Кофейня Зерно лучшая", "В Зерне опять очередь", "Чай"])
        ],
    )
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/subjects").text
    link = f'href="/w/alpha/mentions?subject={zerno.id}" data-testid="mention-count">2 mentions<'
    assert link in page and ">0 mentions<" in page
    stream = client.get(f"/w/alpha/mentions?subject={zerno.id}").text
    assert "2 messages" in stream and "Чай" not in stream


def test_an_admin_edits_pauses_and_deletes_a_subject(
    client: TestClient, cast: Cast, session: Session
) -> None:
    subject = _subject(session, cast, "Zerno", "зерно")
    csrf = login(client, cast.admin.user.email)
    page = client.get(f"/w/alpha/subjects/{subject.id}")
    assert page.status_code == 200 and ">зерно</textarea>" in page.text
    form = {"kind": "product", "name": "Zerno beans", "query": "зерно OR zerno", "csrf_token": csrf}
    saved = client.post(f"/w/alpha/subjects/{subject.id}", data=form)
    assert "“Zerno beans” saved." in saved.text
    session.refresh(subject)
    assert (subject.name, subject.kind, subject.is_active) == (
        "Zerno beans",
        SubjectKind.PRODUCT,
        False,  # the "listening" box was not ticked
    )
    bad = client.post(f"/w/alpha/subjects/{subject.id}", data={**form, "query": "zerno OR"})
    assert bad.status_code == 422 and 'data-testid="query-error"' in bad.text
    gone = client.post(f"/w/alpha/subjects/{subject.id}/delete", data={"csrf_token": csrf})
    assert "deleted" in gone.text
    assert session.scalars(select(Subject)).all() == []


def test_viewers_see_subjects_but_cannot_change_them(
    client: TestClient, cast: Cast, session: Session
) -> None:
    subject = _subject(session, cast, "Zerno", "зерно")
    csrf = login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/subjects").text
    assert "Zerno" in page and 'data-testid="subject-form"' not in page
    assert client.get(f"/w/alpha/subjects/{subject.id}").status_code == 403
    form = {"kind": "brand", "name": "Mine", "query": "x", "csrf_token": csrf}
    assert client.post("/w/alpha/subjects", data=form).status_code == 403
