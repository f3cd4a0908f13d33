"""The demo workspaces: generated here, realistic, in Russian and English.

Each domain extends ``load_demo`` as it lands, so the demo always shows what H2H can do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from h2h import (
    demo_feedback,
    demo_inbox,
    demo_listening,
    demo_nlp,
    demo_people,
    demo_problems,
    registry,
)
from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.reports import rollups

DEMO_PASSWORD = "demo-h2h-2026"  # noqa: S105 - printed to the person running the demo
DEMO_SLUGS = ("zerno", "carter-dental")


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    language: str


ANNA = DemoUser("anna@zerno.example", "Анна Соколова", "ru")
DMITRY = DemoUser("dmitry@zerno.example", "Дмитрий Орлов", "ru")
IRINA = DemoUser("irina@zerno.example", "Ирина Белова", "ru")
TOM = DemoUser("tom@carter-dental.example", "Tom Hughes", "en")
DEMO_USERS = (ANNA, DMITRY, IRINA, TOM)


def _user(session: Session, spec: DemoUser) -> User:
    return accounts.create_user(
        session, email=spec.email, name=spec.name, password=DEMO_PASSWORD, language=spec.language
    )


def reset_demo(session: Session) -> None:
    session.execute(delete(Workspace).where(Workspace.slug.in_(DEMO_SLUGS)))
    session.execute(delete(User).where(User.email.in_([u.email for u in DEMO_USERS])))
    session.flush()


def load_demo(session: Session, *, reset: bool = False) -> bool:
    """Create the demo workspaces; returns False when they are already there."""
    registry.load()  # ingest hooks link authors to persons: the demo's people need them
    if reset:
        reset_demo(session)
    if session.scalar(select(Workspace.id).where(Workspace.slug == DEMO_SLUGS[0])) is not None:
        return False
    anna, dmitry, irina, tom = (_user(session, spec) for spec in DEMO_USERS)

    # A coffee roastery in Ulyanovsk: the owner answers customers herself, with one barista-agent.
    zerno = accounts.create_workspace(
        session,
        name="Кофейня «Зерно»",
        slug="zerno",
        owner=anna,
        language="ru",
        timezone="Europe/Ulyanovsk",
    )
    owner = accounts.Actor(user_id=anna.id, role=Role.OWNER, ip="127.0.0.1")
    accounts.add_member(session, workspace_id=zerno.id, actor=owner, user=dmitry, role=Role.AGENT)
    accounts.add_member(session, workspace_id=zerno.id, actor=owner, user=irina, role=Role.VIEWER)
    accounts.invite(
        session, workspace_id=zerno.id, actor=owner, email="olga@zerno.example", role=Role.AGENT
    )

    # A dentist's personal brand, looked after by Anna's agency for an English-speaking client.
    dental = accounts.create_workspace(
        session,
        name="Dr. Emily Carter Dental",
        slug="carter-dental",
        owner=anna,
        language="en",
        timezone="Europe/London",
    )
    accounts.add_member(session, workspace_id=dental.id, actor=owner, user=tom, role=Role.ADMIN)
    accounts.invite(
        session,
        workspace_id=dental.id,
        actor=owner,
        email="emily@carter-dental.example",
        role=Role.OWNER,
    )
    workspace_ids = {"zerno": zerno.id, "carter-dental": dental.id}
    crew = demo_inbox.Crew(
        anna=owner,
        dmitry=accounts.Actor(user_id=dmitry.id, role=Role.AGENT, ip="127.0.0.1"),
        tom=accounts.Actor(user_id=tom.id, role=Role.ADMIN, ip="127.0.0.1"),
    )
    # Before any traffic: the messages below are routed and put on the clock as they arrive.
    demo_inbox.configure(session, workspace_ids=workspace_ids, crew=crew)
    demo_listening.load(session, zerno_id=zerno.id, dental_id=dental.id, owner=owner)
    demo_nlp.load(
        session,
        workspace_ids={"zerno": zerno.id, "carter-dental": dental.id},
        owner=owner,
        agent=accounts.Actor(user_id=dmitry.id, role=Role.AGENT, ip="127.0.0.1"),
    )
    demo_people.load(
        session,
        workspace_ids={"zerno": zerno.id, "carter-dental": dental.id},
        owner=owner,
        agent=accounts.Actor(user_id=dmitry.id, role=Role.AGENT, ip="127.0.0.1"),
    )
    demo_inbox.load(session, workspace_ids=workspace_ids, crew=crew)
    demo_problems.load(session, workspace_ids=workspace_ids, crew=crew)
    demo_feedback.load(session, workspace_ids=workspace_ids, crew=crew)
    for workspace_id in workspace_ids.values():  # the dashboard's rollups and slow figures
        rollups.count_figures(session, workspace_id=workspace_id)
    return True
