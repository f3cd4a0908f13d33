"""The People list, the profile page and the people API, through the app."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from h2h.people import service
from h2h.people.models import Note, Person, PersonTag
from tests.conftest import Cast, csrf_from, login
from tests.people import profile_data
from tests.people.profile_data import T0

API = "/api/v1/workspaces/alpha/people"


def test_the_list_finds_people_in_either_script(
    client: TestClient, cast: Cast, session: Session
) -> None:
    profile_data.person(session, cast.a.id, "Иван Иванов", email="ivan@example.com")
    profile_data.person(session, cast.a.id, "John Smith")
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/people")
    assert page.status_code == 200
    assert "Иван Иванов" in page.text and "John Smith" in page.text
    assert 'data-testid="new-person"' not in page.text  # viewers read only
    latin = client.get("/w/alpha/people", params={"q": "Ivanov"})
    assert "Иван Иванов" in latin.text and "John Smith" not in latin.text
    cyrillic = client.get("/w/alpha/people", params={"q": "смит"})
    assert "John Smith" in cyrillic.text and "Иван Иванов" not in cyrillic.text
    fragment = client.get(
        "/w/alpha/people",
        params={"q": "ivan@example.com"},
        headers={"HX-Request": "true", "HX-Target": "people-results"},
    )
    assert "<html" not in fragment.text and "Иван Иванов" in fragment.text
    assert fragment.headers["HX-Push-Url"] == "/w/alpha/people?q=ivan%40example.com"


def test_an_agent_adds_a_person_and_a_bad_phone_is_explained(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    bad = client.post(
        "/w/alpha/people", data={"name": "Пётр", "phone": "позвонить", "csrf_token": csrf}
    )
    assert bad.status_code == 422
    assert "not a phone number" in bad.text and 'value="Пётр"' in bad.text
    made = client.post(
        "/w/alpha/people",
        data={"name": "Пётр", "phone": "+7 916 000-11-22", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    profile_page = client.get(made.headers["location"])
    assert "Пётр" in profile_page.text and "+7 916 000-11-22" in profile_page.text


def test_the_profile_shows_messages_replies_and_notes_with_key_figures(
    client: TestClient, cast: Cast, session: Session
) -> None:
    story = profile_data.story(session, cast.a.id)
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get(f"/w/alpha/people/{story.person.id}")
    assert page.status_code == 200
    kinds = re.findall(r'data-testid="timeline-item" data-kind="(\w+)"', page.text)
    assert kinds == ["message", "note", "reply", "message"]
    assert f'href="/w/alpha/mentions/{story.inbound[1]}"' in page.text
    assert "Простите нас, Анна!" in page.text and "Prefers oat milk." in page.text
    assert 'data-testid="figure-messages">2<' in page.text
    assert 'data-testid="figure-open"><a href="/w/alpha/mentions/' in page.text
    assert 'data-testid="sentiment-trend"' in page.text
    assert (
        'data-testid="note-form"' not in page.text and 'data-testid="profile-form"' not in page.text
    )


def test_an_agent_writes_a_note_and_tags_and_a_viewer_may_not(
    client: TestClient, cast: Cast, session: Session
) -> None:
    person = profile_data.person(session, cast.a.id, "Customer")
    session.commit()
    url = f"/w/alpha/people/{person.id}"
    csrf = login(client, cast.viewer.user.email)
    assert (
        client.post(f"{url}/notes", data={"text": "Sneaky", "csrf_token": csrf}).status_code == 403
    )
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, cast.agent.user.email)
    assert client.post(f"{url}/notes", data={"text": "No token"}).status_code == 403
    client.post(f"{url}/notes", data={"text": "Likes the new blend.", "csrf_token": csrf})
    client.post(f"{url}/tags", data={"tag": "Regular", "csrf_token": csrf})
    client.post(f"{url}/tags", data={"tag": "morning", "csrf_token": csrf})
    client.post(f"{url}/tags/remove", data={"tag": "morning", "csrf_token": csrf})
    page = client.get(url)
    assert "Likes the new blend." in page.text
    assert re.findall(r'data-testid="person-tag">(\w+)', page.text) == ["regular"]
    session.expire_all()
    assert session.scalars(select(Note.text).where(Note.person_id == person.id)).all() == [
        "Likes the new blend."
    ]
    assert session.scalars(select(PersonTag.tag).where(PersonTag.person_id == person.id)).all() == [
        "regular"
    ]


def test_the_profile_form_saves_fields_and_explains_a_bad_value(
    client: TestClient, cast: Cast, session: Session
) -> None:
    person = profile_data.person(session, cast.a.id, "Form Person")
    session.commit()
    csrf = login(client, cast.admin.user.email)
    client.post(
        "/w/alpha/people/fields",
        data={"key": "visits", "label": "Visits", "type": "number", "csrf_token": csrf},
    )
    url = f"/w/alpha/people/{person.id}"
    form = {
        "name": "Form Person",
        "city": "Казань",
        "stage": "lead",
        "owner_id": str(cast.agent.user.id),
        "csrf_token": csrf,
    }
    bad = client.post(url, data={**form, "attr.visits": "many"})
    assert bad.status_code == 422 and "does not fit the field" in bad.text
    assert 'value="many"' in bad.text  # the form keeps what was typed
    saved = client.post(url, data={**form, "attr.visits": "12"}, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    stored = service.get_person(session, workspace_id=cast.a.id, person_id=person.id)
    assert (stored.city, stored.stage.value, stored.owner_id) == (
        "Казань",
        "lead",
        cast.agent.user.id,
    )
    assert stored.attributes == {"visits": 12}


def test_a_merged_person_leads_to_the_winner_and_an_erased_one_is_a_tombstone(
    client: TestClient, cast: Cast, session: Session
) -> None:
    winner = profile_data.person(session, cast.a.id, "Winner")
    loser = profile_data.person(session, cast.a.id, "Loser")
    erased = profile_data.person(session, cast.a.id, "Erased")
    session.execute(update(Person).where(Person.id == loser.id).values(merged_into_id=winner.id))
    session.execute(update(Person).where(Person.id == erased.id).values(erased_at=T0, name="—"))
    session.commit()
    login(client, cast.viewer.user.email)
    moved = client.get(f"/w/alpha/people/{loser.id}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/w/alpha/people/{winner.id}"
    landed = client.get(moved.headers["location"])
    assert "Loser was merged into this profile." in landed.text
    tomb = client.get(f"/w/alpha/people/{erased.id}")
    assert tomb.status_code == 410 and 'data-testid="person-erased"' in tomb.text


def test_the_older_button_pages_the_timeline(
    client: TestClient, cast: Cast, session: Session
) -> None:
    person = profile_data.person(session, cast.a.id, "Busy")
    for i in range(35):
        profile_data.note(
            session, cast.a.id, person.id, f"Note number {i}", T0 + timedelta(minutes=i // 2)
        )
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get(f"/w/alpha/people/{person.id}")
    assert page.text.count('data-testid="timeline-item"') == 30
    older = re.search(r'hx-get="(/w/alpha/people/[^"]+/timeline\?before=[^"]+)"', page.text)
    assert older
    rest = client.get(older.group(1).replace("&amp;", "&"))
    assert rest.text.count('data-testid="timeline-item"') == 5
    assert 'data-testid="timeline-older"' not in rest.text
    shown = re.findall(r"Note number (\d+)", page.text + rest.text)
    assert sorted(map(int, shown)) == list(range(35))


def test_the_api_reads_a_profile_and_pages_the_timeline_at_equal_timestamps(
    client: TestClient, cast: Cast, session: Session
) -> None:
    story = profile_data.story(session, cast.a.id)
    for i in range(6):
        profile_data.note(
            session, cast.a.id, story.person.id, f"Same time {i}", T0 + timedelta(days=1)
        )
    session.commit()
    headers = cast.viewer.headers
    read = client.get(f"{API}/{story.person.id}", headers=headers).json()
    assert read["name"] == "Анна Петрова" and read["key_figures"]["message_count"] == 2
    assert [i["kind"] for i in read["identities"]] == ["email"]
    assert read["key_figures"]["open_message_ids"] == [str(story.inbound[1])]
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"before": cursor} if cursor else {})}
        page = client.get(
            f"{API}/{story.person.id}/timeline", params=params, headers=headers
        ).json()
        seen.extend((i["kind"], i["id"]) for i in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10  # 4 of the story, 6 more notes
    first = client.get(f"{API}/{story.person.id}/timeline", headers=headers).json()["items"][0]
    assert first["url"] == f"/w/alpha/mentions/{story.inbound[1]}"
    bad = client.get(
        f"{API}/{story.person.id}/timeline", params={"before": "soon"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "before"


def test_the_api_creates_changes_tags_and_notes_persons(client: TestClient, cast: Cast) -> None:
    headers = cast.agent.headers
    made = client.post(
        API,
        json={"name": "Мария Кузнецова", "email": "maria@example.com", "city": "Самара"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    person_id = made.json()["id"]
    assert made.json()["city"] == "Самара"
    taken = client.post(API, json={"name": "Copy", "email": "MARIA@example.com"}, headers=headers)
    assert taken.status_code == 409 and "Мария Кузнецова" in taken.json()["detail"]
    changed = client.patch(
        f"{API}/{person_id}", json={"stage": "customer", "organization": "Acme"}, headers=headers
    )
    assert changed.json()["stage"] == "customer" and changed.json()["organization"] == "Acme"
    assert client.post(f"{API}/{person_id}/tags", json={"tag": "VIP"}, headers=headers).json() == [
        "vip"
    ]
    assert client.delete(f"{API}/{person_id}/tags/vip", headers=headers).status_code == 204
    assert client.delete(f"{API}/{person_id}/tags/vip", headers=headers).status_code == 404
    note = client.post(f"{API}/{person_id}/notes", json={"text": "Call on Monday"}, headers=headers)
    assert note.status_code == 201
    listed = client.get(API, params={"q": "kuznetsova"}, headers=cast.viewer.headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == person_id
    assert (
        client.patch(
            f"{API}/{person_id}", json={"name": "X"}, headers=cast.viewer.headers
        ).status_code
        == 403
    )
    gone = client.delete(f"{API}/{person_id}/notes/{note.json()['id']}", headers=headers)
    assert gone.status_code == 204


def test_the_api_manages_custom_fields_for_admins(client: TestClient, cast: Cast) -> None:
    body = {"key": "tier", "label": "Tier", "type": "choice", "choices": ["gold", "silver"]}
    assert client.post(f"{API}/fields", json=body, headers=cast.agent.headers).status_code == 403
    made = client.post(f"{API}/fields", json=body, headers=cast.admin.headers)
    assert made.status_code == 201
    field_id = made.json()["id"]
    person = client.post(
        API, json={"name": "Goldie", "attributes": {"tier": "gold"}}, headers=cast.agent.headers
    )
    assert person.json()["attributes"] == {"tier": "gold"}
    wrong = client.patch(
        f"{API}/{person.json()['id']}",
        json={"attributes": {"tier": "bronze"}},
        headers=cast.agent.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "attributes.tier"
    renamed = client.patch(
        f"{API}/fields/{field_id}", json={"label": "Level"}, headers=cast.admin.headers
    )
    assert renamed.json()["label"] == "Level"
    assert [f["key"] for f in client.get(f"{API}/fields", headers=cast.viewer.headers).json()] == [
        "tier"
    ]
    assert client.delete(f"{API}/fields/{field_id}", headers=cast.admin.headers).status_code == 204


def test_the_fields_page_adds_a_field_and_explains_a_bad_key(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.admin.user.email)
    bad = client.post(
        "/w/alpha/people/fields",
        data={"key": "Bad Key", "label": "Bad", "type": "text", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'data-testid="field-error"' in bad.text
    client.post(
        "/w/alpha/people/fields",
        data={
            "key": "plan",
            "label": "Plan",
            "type": "choice",
            "choices": "basic\npro",
            "csrf_token": csrf,
        },
    )
    page = client.get("/w/alpha/people/fields")
    assert "basic, pro" in page.text
    assert csrf_from(page.text)
