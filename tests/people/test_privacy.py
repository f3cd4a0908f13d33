"""Data-subject rights: export everything about a person, erase them and nothing else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.cli import app as cli_app
from h2h.errors import PermissionDenied
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis, AnalysisAspect
from h2h.people import consent, merging, privacy, service
from h2h.people.models import Event, Order, OrderLine, Person
from tests.conftest import Cast, login
from tests.people.privacy_data import World, ago, world

runner = CliRunner()
# Everything that identifies Evlampia, and words only her messages and notes contain.
PERSONAL = (
    "Евлампия",
    "Круговихина",
    "evlampia.k@example.org",
    "+79161234567",
    "916 123-45-67",
    "Урюпинск",
    "пылесос",
    "Фердинанд",
    "квитанц",
    "424242",
    "пылесосница",
)
BORIS = ("Бритвин", "тостер", "boris.b@example.org")


@dataclass
class Story:
    world: World
    person: Person  # the profile that stays after the merges
    boris: Person


def _actor(cast: Cast, role: str) -> accounts.Actor:
    return accounts.Actor(user_id=cast.members[role].user.id, role=Role(role))


@pytest.fixture
def story(session: Session, cast: Cast) -> Story:
    """Evlampia: Telegram, email and a phone merged into one profile, with everything else."""
    w = world(session, cast.a.id)
    name, agent = "Евлампия Круговихина", _actor(cast, "agent")
    first = w.write(
        session,
        w.telegram,
        "tg-1",
        "424242",
        "Пылесос гудит и дымит, ужас!",
        ago(9),
        name=name,
        thread="t-1",
    )
    w.write(
        session,
        w.telegram,
        "tg-2",
        "424242",
        "Когда вернёте деньги?",
        ago(8),
        name=name,
        thread="t-1",
    )
    w.write(
        session,
        w.telegram,
        "tg-r1",
        "support",
        "Евлампия, вернём деньги за пылесос",
        ago(8),
        thread="t-1",
        direction=Direction.OUTBOUND,
    )
    # A public thread: her comment, Boris's, and our answers to each.
    w.write(
        session,
        w.telegram,
        "post-1",
        "424242",
        "Мой пылесос тоже сломался",
        ago(7),
        name=name,
        thread="post-9",
    )
    w.write(
        session,
        w.telegram,
        "post-2",
        "777",
        "А мой тостер работает",
        ago(7),
        name="Борис Бритвин",
        thread="post-9",
    )
    w.write(
        session,
        w.telegram,
        "post-r1",
        "support",
        "Напишите нам в личку про пылесос",
        ago(6),
        thread="post-9",
        parent="post-1",
        direction=Direction.OUTBOUND,
    )
    w.write(
        session,
        w.telegram,
        "post-r2",
        "support",
        "Рады, что тостер цел",
        ago(6),
        thread="post-9",
        parent="post-2",
        direction=Direction.OUTBOUND,
    )
    mail = w.write(
        session,
        w.email,
        "m-1",
        "evlampia.k@example.org",
        "Фердинанд сломал пылесос, пришлите квитанцию",
        ago(5),
    )
    w.write(session, w.email, "m-b", "boris.b@example.org", "Тостер отличный", ago(5))
    person, by_mail = w.person_of(session, first), w.person_of(session, mail)
    boris = w.person_of(session, w.stored["post-2"])
    by_phone = service.create_person(
        session, workspace_id=cast.a.id, actor=agent, name="Е. Круговихина", phone="8 916 123-45-67"
    )
    for loser in (by_mail, by_phone):
        merging.merge(
            session, workspace_id=cast.a.id, actor=agent, winner_id=person.id, loser_id=loser.id
        )
    service.update_person(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person=person,
        changes={"name": name, "city": "Урюпинск"},
    )
    service.add_tag(session, workspace_id=cast.a.id, actor=agent, person=person, tag="пылесосница")
    service.add_note(
        session, workspace_id=cast.a.id, actor=agent, person=person, text="Фердинанд — её сосед"
    )
    consent.record_consent(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person_id=person.id,
        channel="email",
        purpose="marketing",
        source="форма",
        evidence="Евлампия согласна",
    )
    consent.block(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person_id=person.id,
        channel="telegram",
        reason="Круговихина просила не писать",
    )
    _commerce(session, cast, w, person, boris)
    session.commit()
    return Story(w, service.get_person(session, workspace_id=cast.a.id, person_id=person.id), boris)


def _commerce(session: Session, cast: Cast, w: World, person: Person, boris: Person) -> None:
    for who, invoice, total in ((person, "INV-1", 199_900), (boris, "INV-2", 50_000)):
        identity_id = service.identity_ids(session, workspace_id=cast.a.id, person_id=who.id)[0]
        order = Order(
            workspace_id=cast.a.id,
            external_id=invoice,
            identity_id=identity_id,
            placed_at=ago(4),
            total=total,
            currency="RUB",
            line_count=1,
        )
        session.add(order)
        session.flush()
        session.add(
            OrderLine(
                workspace_id=cast.a.id,
                order_id=order.id,
                line_key="1",
                sku="VC-1",
                description="Пылесос" if who is person else "Тостер",
                quantity=1,
                unit_price=total,
                amount=total,
            )
        )
        session.add(
            Event(
                workspace_id=cast.a.id,
                external_id=f"ev-{invoice}",
                identity_id=identity_id,
                name="search",
                occurred_at=ago(4),
                properties={"query": "пылесос дайсон" if who is person else "тостер"},
            )
        )
    session.flush()


# --- export --------------------------------------------------------------------------------------


def test_export_holds_everything_about_the_person_and_nothing_of_anyone_else(
    session: Session, cast: Cast, story: Story
) -> None:
    data = privacy.export_person(session, workspace_id=cast.a.id, person_id=story.person.id)
    dumped = json.dumps(data, ensure_ascii=False)
    assert json.loads(dumped) == data
    assert data["person"]["name"] == "Евлампия Круговихина"
    assert data["person"]["city"] == "Урюпинск"
    assert len(data["merged_profiles"]) == 2
    assert {i["kind"] for i in data["identities"]} == {"telegram", "email", "phone"}
    texts = [m["text"] for m in data["messages"]]
    assert len(texts) == 4 and "Фердинанд сломал пылесос, пришлите квитанцию" in texts
    assert all(m["analysis"]["sentiment"] for m in data["messages"])
    assert sorted(r["text"] for r in data["replies"]) == [
        "Евлампия, вернём деньги за пылесос",
        "Напишите нам в личку про пылесос",
    ]
    assert [o["external_id"] for o in data["orders"]] == ["INV-1"]
    assert data["orders"][0]["lines"][0]["description"] == "Пылесос"
    assert [e["properties"] for e in data["events"]] == [{"query": "пылесос дайсон"}]
    assert [c["evidence"] for c in data["consents"]] == ["Евлампия согласна"]
    assert [b["channel"] for b in data["contact_blocks"]] == ["telegram"]
    assert [n["text"] for n in data["notes"]] == ["Фердинанд — её сосед"]
    assert data["tags"] == ["пылесосница"]
    assert len(data["merges"]) == 2
    for word in (*BORIS, "Борис", "Рады, что тостер цел"):
        assert word not in dumped


def test_export_through_the_api_the_page_and_the_cli(
    client: TestClient, session: Session, cast: Cast, story: Story, env: None, tmp_path: Path
) -> None:
    api = client.get(
        f"/api/v1/workspaces/{cast.a.slug}/people/{story.person.id}/export",
        headers=cast.viewer.headers,
    )
    assert api.status_code == 200 and api.json()["person"]["name"] == "Евлампия Круговихина"
    login(client, cast.agent.user.email)
    page = client.get(f"/w/{cast.a.slug}/people/{story.person.id}/export.json")
    assert page.status_code == 200
    assert "attachment" in page.headers["content-disposition"]
    assert len(page.json()["messages"]) == 4
    target = tmp_path / "export.json"
    result = runner.invoke(
        cli_app,
        [
            "people",
            "export",
            str(story.person.id),
            "--workspace",
            cast.a.slug,
            "--output",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["identities"]
    exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.export")).all()
    assert len(exports) == 3
    unknown = runner.invoke(cli_app, ["people", "export", str(story.boris.id), "--workspace", "x"])
    assert unknown.exit_code == 1


# --- erase ---------------------------------------------------------------------------------------


def _dump(session: Session) -> str:
    """Every value of every table (SQLite's FTS shadow tables too), as one text."""
    if session.get_bind().dialect.name == "sqlite":
        tables = list(session.scalars(text("SELECT name FROM sqlite_master WHERE type='table'")))
    else:
        tables = list(
            session.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
    parts: list[str] = []
    for table in tables:
        for row in session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - names from the catalogue
            parts.extend(_text(value) for value in row)
    return "\n".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else repr(value)


def _figures(session: Session, cast: Cast) -> dict[str, Any]:
    ws = cast.a.id
    return {
        "messages": session.scalar(select(func.count()).where(Message.workspace_id == ws)),
        "revenue": session.scalar(select(func.sum(Order.total)).where(Order.workspace_id == ws)),
        "orders": session.scalar(select(func.count()).where(Order.workspace_id == ws)),
        "events": session.scalar(select(func.count()).where(Event.workspace_id == ws)),
        "sentiment": sorted(
            session.execute(
                select(Analysis.sentiment, func.count())
                .where(Analysis.workspace_id == ws)
                .group_by(Analysis.sentiment)
            ).all()
        ),
        "aspects": sorted(
            session.execute(
                select(AnalysisAspect.aspect, AnalysisAspect.sentiment, func.count())
                .where(AnalysisAspect.workspace_id == ws)
                .group_by(AnalysisAspect.aspect, AnalysisAspect.sentiment)
            ).all()
        ),
    }


def _search(session: Session, cast: Cast, query: str) -> int:
    filters = channels.MessageFilter(query=query, include_duplicates=True)
    return channels.list_messages(session, workspace_id=cast.a.id, filters=filters)[1]


def test_erase_leaves_no_personal_data_anywhere_and_every_total_as_it_was(
    session: Session, cast: Cast, story: Story
) -> None:
    before = _figures(session, cast)
    dump = _dump(session)
    assert all(word in dump for word in PERSONAL), [w for w in PERSONAL if w not in dump]
    assert _search(session, cast, "пылесос") == 5
    report = privacy.erase_person(
        session, workspace_id=cast.a.id, actor=_actor(cast, "admin"), person_id=story.person.id
    )
    session.commit()
    assert (report.profiles, report.identities, report.messages, report.replies) == (3, 3, 4, 2)
    assert (report.orders, report.events) == (1, 1)
    dump = _dump(session)
    assert [word for word in PERSONAL if word in dump] == []
    assert all(word in dump for word in BORIS)  # Boris is someone else: all of him stays
    assert _figures(session, cast) == before
    assert _search(session, cast, "пылесос") == 0
    assert _search(session, cast, "тостер") == 3
    person = service.get_person(session, workspace_id=cast.a.id, person_id=story.person.id)
    assert person.name == "—" and person.erased_at is not None
    assert person.message_count == 4  # the tombstone keeps the figures
    erase_events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.erase")
    ).all()
    assert len(erase_events) == 1 and set(erase_events[0].details) == {"counts"}


def test_erased_messages_are_never_analysed_again(
    session: Session, cast: Cast, story: Story
) -> None:
    privacy.erase_person(
        session, workspace_id=cast.a.id, actor=_actor(cast, "owner"), person_id=story.person.id
    )
    nlp.forget_analyses(session, workspace_id=cast.a.id, actor=_actor(cast, "owner"))
    version = nlp.models_for(session, workspace_id=cast.a.id).version
    pending = set(nlp.pending_ids(session, workspace_id=cast.a.id, version=version))
    erased = {story.world.stored[k] for k in ("tg-1", "tg-2", "post-1", "m-1")}
    assert pending == {story.world.stored["post-2"], story.world.stored["m-b"]}
    assert not pending & erased
    progress = nlp.progress(session, workspace_id=cast.a.id)
    assert progress == {"total": 6, "analyzed": 4}


def test_erase_is_for_owners_and_admins_with_an_explicit_confirmation(
    client: TestClient, session: Session, cast: Cast, story: Story
) -> None:
    with pytest.raises(PermissionDenied):
        privacy.erase_person(
            session, workspace_id=cast.a.id, actor=_actor(cast, "agent"), person_id=story.person.id
        )
    session.rollback()
    url = f"/api/v1/workspaces/{cast.a.slug}/people/{story.person.id}/erase"
    agent = client.post(url, json={"confirm": True}, headers=cast.agent.headers)
    assert agent.status_code == 403
    unconfirmed = client.post(url, json={"confirm": False}, headers=cast.admin.headers)
    assert unconfirmed.status_code == 422
    csrf = login(client, cast.admin.user.email)
    page = f"/w/{cast.a.slug}/people/{story.person.id}"
    assert 'data-testid="erase-link"' in client.get(page).text
    assert 'data-testid="erase-form"' in client.get(f"{page}/erase").text
    wrong = client.post(f"{page}/erase", data={"csrf_token": csrf, "confirm": "yes"})
    assert wrong.status_code == 422 and 'data-testid="erase-error"' in wrong.text
    session.expire_all()
    assert (
        service.get_person(session, workspace_id=cast.a.id, person_id=story.person.id).erased_at
        is None
    )
    done = client.post(
        f"{page}/erase", data={"csrf_token": csrf, "confirm": "erase"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert client.get(page).status_code == 410
    again = client.post(url, json={"confirm": True}, headers=cast.admin.headers)
    assert again.status_code == 409


def test_erase_through_the_api_answers_counts(client: TestClient, cast: Cast, story: Story) -> None:
    url = f"/api/v1/workspaces/{cast.a.slug}/people/{story.person.id}/erase"
    response = client.post(url, json={"confirm": True}, headers=cast.owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["messages"] == 4
    assert "Круговихина" not in response.text


def test_a_merged_profile_points_to_the_one_to_erase(
    session: Session, cast: Cast, story: Story
) -> None:
    loser = session.scalars(select(Person).where(Person.merged_into_id == story.person.id)).first()
    assert loser is not None
    with pytest.raises(Exception, match="merged into Евлампия"):
        privacy.erase_person(
            session, workspace_id=cast.a.id, actor=_actor(cast, "admin"), person_id=loser.id
        )


def test_the_cli_erases_only_with_yes(
    session: Session, cast: Cast, story: Story, env: None
) -> None:
    args = ["people", "erase", str(story.person.id), "--workspace", cast.a.slug]
    refused = runner.invoke(cli_app, args)
    assert refused.exit_code == 2 and "--yes" in refused.output
    done = runner.invoke(cli_app, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["profiles"] == 3
    session.expire_all()
    person = service.get_person(session, workspace_id=cast.a.id, person_id=story.person.id)
    assert person.erased_at is not None
    again = runner.invoke(cli_app, [*args, "--yes"])
    assert again.exit_code == 1 and "already erased" in again.output


@pytest.mark.parametrize("command", ["export", "erase"])
def test_the_privacy_commands_have_help(command: str) -> None:
    result = runner.invoke(cli_app, ["people", command, "--help"])
    assert result.exit_code == 0
    assert "--workspace" in result.output
