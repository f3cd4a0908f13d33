"""Storing messages: exactly once, reposts linked to their original, searchable by lemma."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.models import Message
from tests.channels.conftest import Place, item

REVIEW = "Заказали доставку в офис, курьер опоздал на час и кофе остыл, очень обидно"


def _store(session: Session, place: Place, *items: object) -> ingest.IngestResult:
    result = ingest.store(
        session, workspace_id=place.workspace.id, channel_id=place.channel.id, items=items
    )  # type: ignore[arg-type]
    session.commit()
    return result


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Message)) or 0


def test_the_same_delivery_twice_is_stored_once(session: Session, place: Place) -> None:
    first = _store(session, place, item("m1", "Спасибо за кофе!"), item("m2", "Где мой заказ?"))
    again = _store(session, place, item("m1", "Спасибо за кофе!"), item("m3", "Новый отзыв"))
    assert len(first.inserted) == 2 and len(again.inserted) == 1
    assert again.duplicates == 1
    assert _count(session) == 3


def test_a_repeated_id_within_one_batch_is_stored_once(session: Session, place: Place) -> None:
    result = _store(session, place, item("m1", "раз"), item("m1", "два"))
    assert len(result.inserted) == 1 and result.duplicates == 1


def test_copies_and_light_edits_point_to_the_original(session: Session, place: Place) -> None:
    _store(session, place, item("orig", REVIEW, minutes=0))
    result = _store(
        session,
        place,
        item("copy", REVIEW.upper() + "!!!", minutes=5, handle="bot1"),
        item("edit", REVIEW.replace("очень обидно", "очень-очень обидно"), 6, "bot2"),
        item("other", "Лучший раф в городе, бариста Дима знает своё дело", 7),
    )
    assert result.near_duplicates == 2
    original = session.scalars(select(Message).where(Message.external_id == "orig")).one()
    linked = {m.external_id: m.duplicate_of_id for m in session.scalars(select(Message))}
    assert linked["copy"] == linked["edit"] == original.id
    assert linked["other"] is None and linked["orig"] is None
    stream, total = channels.list_messages(
        session, workspace_id=place.workspace.id, filters=channels.MessageFilter()
    )
    assert total == 2, "a repost wave counts once in the stream"
    assert channels.repost_counts(
        session, workspace_id=place.workspace.id, message_ids=[original.id]
    ) == {original.id: 2}


def test_short_common_phrases_are_separate_voices(session: Session, place: Place) -> None:
    result = _store(
        session,
        place,
        item("a", "Спасибо!", handle="a"),
        item("b", "спасибо", 1, handle="b"),
        item("c", "Спасибо большое!", 2, "c"),
    )
    assert result.near_duplicates == 0


def test_search_finds_russian_word_forms(session: Session, place: Place) -> None:
    _store(
        session,
        place,
        item("m1", REVIEW),
        item("m2", "Great coffee and fast delivery"),
        item("m3", "Доставкой довольны"),
    )

    def search(q: str) -> set[str]:
        found, _ = channels.list_messages(
            session, workspace_id=place.workspace.id, filters=channels.MessageFilter(query=q)
        )
        return {m.external_id for m in found}

    assert search("доставка") == {"m1", "m3"}
    assert search("курьеры опоздали") == {"m1"}
    assert search("delivery") == {"m2"}
    assert search("самолёт") == set()
    assert search('"; DROP TABLE messages; --') == set()


def test_text_over_the_limit_is_cut_but_kept_in_the_raw_payload(
    session: Session, place: Place
) -> None:
    huge = "слово " * 40_000
    _store(session, place, item("big", huge))
    stored = session.scalars(select(Message)).one()
    assert len(stored.text) == ingest.MAX_TEXT
    assert stored.language == "ru"


def test_messages_of_other_workspaces_never_count_as_originals(
    session: Session, place: Place
) -> None:
    from h2h.accounts import service as accounts
    from h2h.channels.connectors.base import ChannelKind
    from tests.conftest import make_user

    other_owner = make_user(session, "Other")
    other = accounts.create_workspace(session, name="Other", owner=other_owner)
    other_channel = channels.create_channel(
        session, workspace_id=other.id, actor=accounts.SYSTEM, kind=ChannelKind.FILE, name="x"
    )
    ingest.store(
        session, workspace_id=other.id, channel_id=other_channel.id, items=[item("o", REVIEW)]
    )
    result = _store(session, place, item("mine", REVIEW))
    assert result.near_duplicates == 0
