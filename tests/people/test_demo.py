"""The demo workspace shows what People can do: multi-channel customers, purchases, RFM,
saved segments and merge suggestions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.cli import app
from h2h.people import interests, rfm, segments, service
from h2h.people.models import (
    Identity,
    IdentityKind,
    InterestSource,
    LifecycleStage,
    MergeSuggestion,
    Order,
    PersonInterest,
)


def test_the_demo_has_purchases_rfm_segments_and_suggestions(env: None, session: Session) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    zerno = accounts.get_workspace(session, slug="zerno").id
    dental = accounts.get_workspace(session, slug="carter-dental").id
    assert service.get_settings(session, workspace_id=zerno).currency == "RUB"
    assert service.get_settings(session, workspace_id=dental).currency == "GBP"
    currencies = set(session.scalars(select(Order.currency).where(Order.workspace_id == zerno)))
    assert currencies == {"RUB"}
    # Александр wrote on Telegram, the widget and VK, bought four times and praised us twice.
    identity = session.scalars(
        select(Identity).where(
            Identity.workspace_id == zerno, Identity.value == "a.ivanov@mail.example"
        )
    ).one()
    person = service.get_person(session, workspace_id=zerno, person_id=identity.person_id)
    assert person.order_count == 4 and person.stage is LifecycleStage.ADVOCATE
    labels = {
        (row.label, row.source.value)
        for row in interests.interests_of(session, workspace_id=zerno, person_id=person.id)
    }
    assert ("Светлая обжарка", "explicit") in labels
    inferred = session.scalars(
        select(PersonInterest).where(
            PersonInterest.workspace_id == zerno,
            PersonInterest.source == InterestSource.INFERRED,
        )
    ).all()
    assert inferred, "the demo shows no inferred interest or value"
    assert person.lifetime_value > 0 and person.rfm_segment is not None
    kinds = set(
        session.scalars(
            select(Identity.kind).where(
                Identity.workspace_id == zerno, Identity.person_id == person.id
            )
        )
    )
    assert IdentityKind.EMAIL in kinds and len(kinds) >= 2
    for ws in (zerno, dental):
        scored = {k for k, n in rfm.summary(session, workspace_id=ws).items() if n}
        assert len(scored) >= 5, scored
        saved = segments.list_segments(session, workspace_id=ws)
        assert saved and all(s.member_count is not None for s in saved)
        assert any(s.member_count for s in saved)
    open_suggestions = session.scalar(
        select(func.count())
        .select_from(MergeSuggestion)
        .where(MergeSuggestion.workspace_id == zerno)
    )
    assert open_suggestions
