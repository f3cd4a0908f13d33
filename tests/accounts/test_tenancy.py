"""Tenancy and roles, checked over every route the app has.

The route list is read from the app itself, so a new route is covered the day it lands:
a path parameter nobody taught these tests about makes them fail with a clear message.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import ApiToken, Invitation, Membership, Role, Workspace
from h2h.advocacy.models import ActionKind, AdvocacyAction
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Channel, ImportRun, Message
from h2h.db import utcnow
from h2h.feedback import service as feedback
from h2h.inbox import automation, replies, routing, templates, webhooks
from h2h.inbox import listing as inbox_listing
from h2h.inbox import service as inbox
from h2h.inbox import settings as inbox_settings
from h2h.inbox.models import (
    Agent,
    AssignmentRule,
    AutomationRule,
    CloseReason,
    Conversation,
    ConversationEvent,
    Delivery,
    Draft,
    InternalNote,
    Presence,
    ReplyTemplate,
    SavedView,
    SlaPolicy,
    WebhookDelivery,
    WebhookEndpoint,
)
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis, Correction, WorkspaceAspect
from h2h.people import consent, events, interests, merging, resolution, segments
from h2h.people import service as people
from h2h.people.models import (
    Consent,
    ContactBlock,
    DataImport,
    DataImportKind,
    Event,
    FieldDefinition,
    FieldType,
    Identity,
    Merge,
    MergeSuggestion,
    Note,
    Person,
    PersonTag,
    Segment,
)
from h2h.problems import followups as problem_followups
from h2h.problems import service as problems
from h2h.problems.models import FollowUp, Problem, ProblemComplaint, ProblemEvent
from h2h.subjects import service as subjects
from h2h.subjects.models import Subject, SubjectKind
from tests.conftest import Cast, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes reachable without a workspace or record id of another tenant in their path.
NO_TENANT_PARAMS = {
    "ws",
    "member_id",
    "invitation_id",
    "token_id",
    "token",
    "channel_id",
    "message_id",
    "subject_id",
    "import_id",
    "public_key",
    "aspect_id",
    "person_id",
    "note_id",
    "field_id",
    "tag",
    "suggestion_id",
    "merge_id",
    "segment_id",
    "data_import_id",
    "interest_id",
    "number",
    "delivery_id",
    "view_id",
    "policy_id",
    "rule_id",
    "template_id",
    "webhook_id",
    "automation_id",
    "follow_up_id",
    "survey_id",
    "action_id",
}
# POSTs that change nothing (they validate input for a form as the user types).
NON_WRITING_POSTS = {
    "POST /api/v1/workspaces/{ws}/subjects/check-query",
    "POST /w/{ws}/subjects/check-query",
    "POST /api/v1/workspaces/{ws}/nlp/analyze",
}
# Writes an agent may make in a workspace; every other workspace write needs an admin.
AGENT_WRITES = {
    "POST /api/v1/workspaces/{ws}/channels/{channel_id}/offline",
    "POST /w/{ws}/channels/{channel_id}/offline",
    "POST /api/v1/workspaces/{ws}/mappings",
    "POST /api/v1/workspaces/{ws}/imports",
    "POST /w/{ws}/channels/{channel_id}/imports",
    "POST /w/{ws}/imports/mapping",
    "POST /w/{ws}/members/{member_id}/remove",  # leaving: only one's own membership
    "DELETE /api/v1/workspaces/{ws}/members/{member_id}",
    "POST /api/v1/workspaces/{ws}/messages/{message_id}/corrections",
    "POST /w/{ws}/mentions/{message_id}/analysis",
    "POST /api/v1/workspaces/{ws}/people",
    "PATCH /api/v1/workspaces/{ws}/people/{person_id:uuid}",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/tags",
    "DELETE /api/v1/workspaces/{ws}/people/{person_id:uuid}/tags/{tag}",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/notes",
    "DELETE /api/v1/workspaces/{ws}/people/{person_id:uuid}/notes/{note_id}",
    "POST /w/{ws}/people",
    "POST /w/{ws}/people/{person_id:uuid}",
    "POST /w/{ws}/people/{person_id:uuid}/tags",
    "POST /w/{ws}/people/{person_id:uuid}/tags/remove",
    "POST /w/{ws}/people/{person_id:uuid}/notes",
    "POST /w/{ws}/people/{person_id:uuid}/notes/{note_id}/delete",
    "POST /api/v1/workspaces/{ws}/people/merge-suggestions/{suggestion_id:uuid}/merge",
    "POST /api/v1/workspaces/{ws}/people/merge-suggestions/{suggestion_id:uuid}/dismiss",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/merge",
    "POST /api/v1/workspaces/{ws}/people/merges/{merge_id:uuid}/undo",
    "POST /w/{ws}/people/merges/suggestions/{suggestion_id:uuid}/merge",
    "POST /w/{ws}/people/merges/suggestions/{suggestion_id:uuid}/dismiss",
    "POST /w/{ws}/people/merges/{merge_id:uuid}/undo",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/consents",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/blocks",
    "DELETE /api/v1/workspaces/{ws}/people/{person_id:uuid}/blocks",
    "POST /w/{ws}/people/{person_id:uuid}/consents",
    "POST /w/{ws}/people/{person_id:uuid}/blocks",
    "POST /w/{ws}/people/{person_id:uuid}/blocks/remove",
    "POST /api/v1/workspaces/{ws}/events",
    "POST /api/v1/workspaces/{ws}/segments",
    "PATCH /api/v1/workspaces/{ws}/segments/{segment_id:uuid}",
    "DELETE /api/v1/workspaces/{ws}/segments/{segment_id:uuid}",
    "POST /w/{ws}/people/segments",
    "POST /w/{ws}/people/imports",
    "POST /w/{ws}/people/segments/{segment_id:uuid}",
    "POST /w/{ws}/people/segments/{segment_id:uuid}/delete",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/interests",
    "POST /api/v1/workspaces/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}/confirm",
    "DELETE /api/v1/workspaces/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}",
    "POST /w/{ws}/people/{person_id:uuid}/interests",
    "POST /w/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}/confirm",
    "POST /w/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}/remove",
    "POST /w/{ws}/inbox/views",
    "POST /w/{ws}/inbox/views/{view_id}/delete",
    "POST /w/{ws}/inbox/{number:int}/reply",
    "POST /w/{ws}/inbox/{number:int}/deliveries/{delivery_id}/retry",
    "POST /w/{ws}/inbox/{number:int}/notes",
    "POST /w/{ws}/inbox/{number:int}/state",
    "POST /w/{ws}/inbox/{number:int}/not-answering",
    "POST /w/{ws}/inbox/{number:int}/assign",
    "POST /w/{ws}/inbox/{number:int}/priority",
    "POST /w/{ws}/inbox/{number:int}/merge",
    "POST /w/{ws}/inbox/{number:int}/split",
    "POST /w/{ws}/inbox/{number:int}/labels",
    "POST /w/{ws}/inbox/{number:int}/presence",
    "POST /w/{ws}/inbox/{number:int}/draft",
    "POST /w/{ws}/inbox/templates",
    "POST /w/{ws}/inbox/templates/{template_id}",
    "POST /w/{ws}/inbox/templates/{template_id}/delete",
    "POST /w/{ws}/inbox/me",
    "POST /w/{ws}/inbox/me/read",
    "POST /w/{ws}/inbox/me/notifications",  # one's own notification settings
    "POST /w/{ws}/reports/digest",  # one's own digest
    "POST /w/{ws}/reports/digest/send",  # one's own digest, now
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/replies",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/replies/elsewhere",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/deliveries/{delivery_id}/retry",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/notes",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/assign",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/state",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/not-answering",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/priority",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/merge",
    "POST /api/v1/workspaces/{ws}/inbox/conversations/{number}/split",
    "POST /api/v1/workspaces/{ws}/problems",
    "PATCH /api/v1/workspaces/{ws}/problems/{number}",
    "POST /api/v1/workspaces/{ws}/problems/{number}/confirm",
    "POST /api/v1/workspaces/{ws}/problems/{number}/decline",
    "POST /api/v1/workspaces/{ws}/problems/{number}/fixing",
    "POST /api/v1/workspaces/{ws}/problems/{number}/fixed",
    "POST /api/v1/workspaces/{ws}/problems/{number}/verify",
    "POST /api/v1/workspaces/{ws}/problems/{number}/reopen",
    "POST /api/v1/workspaces/{ws}/problems/{number}/merge",
    "POST /api/v1/workspaces/{ws}/problems/{number}/split",
    "POST /api/v1/workspaces/{ws}/problems/{number}/move",
    "POST /api/v1/workspaces/{ws}/problems/{number}/attach",
    "POST /api/v1/workspaces/{ws}/problems/{number}/detach",
    "POST /api/v1/workspaces/{ws}/problems/{number}/follow-ups/prepare",
    "POST /api/v1/workspaces/{ws}/problems/{number}/follow-ups/wording",
    "PATCH /api/v1/workspaces/{ws}/problems/{number}/follow-ups/{follow_up_id}",
    "POST /api/v1/workspaces/{ws}/problems/{number}/follow-ups/send",
    "POST /w/{ws}/problems",
    "POST /w/{ws}/problems/{number:int}/title",
    "POST /w/{ws}/problems/{number:int}/plan",
    "POST /w/{ws}/problems/{number:int}/confirm",
    "POST /w/{ws}/problems/{number:int}/decline",
    "POST /w/{ws}/problems/{number:int}/fixing",
    "POST /w/{ws}/problems/{number:int}/fixed",
    "POST /w/{ws}/problems/{number:int}/verify",
    "POST /w/{ws}/problems/{number:int}/reopen",
    "POST /w/{ws}/problems/{number:int}/merge",
    "POST /w/{ws}/problems/{number:int}/attach",
    "POST /w/{ws}/problems/{number:int}/complaints",
    "POST /w/{ws}/problems/{number:int}/follow-ups/prepare",
    "POST /w/{ws}/problems/{number:int}/follow-ups/wording",
    "POST /w/{ws}/problems/{number:int}/follow-ups/{follow_up_id:uuid}",
    "POST /w/{ws}/problems/{number:int}/follow-ups/{follow_up_id:uuid}/skip",
    "POST /w/{ws}/problems/{number:int}/follow-ups/send",
    "POST /api/v1/workspaces/{ws}/advocacy/actions",
    "PATCH /api/v1/workspaces/{ws}/advocacy/actions/{action_id}",
    "POST /w/{ws}/feedback/advocates/act",
    "POST /w/{ws}/feedback/advocates/actions/{action_id}/outcome",
}

# A valid body for each JSON body model, so that a 404 cannot hide behind a 422.
JSON_BODIES = {
    "WorkspaceUpdate": {"name": "Taken over"},
    "MemberUpdate": {"role": "viewer"},
    "InvitationCreate": {"email": "intruder@h2h.example", "role": "owner"},
    "UserUpdate": {"name": "Renamed"},
    "PasswordChange": {"current_password": "x" * 12, "new_password": "y" * 12},
    "TokenCreate": {"name": "stolen"},
    "WorkspaceCreate": {"name": "New"},
    "ChannelCreate": {"kind": "webhook", "name": "Stolen hook"},
    "OfflineEntry": {"who": "Intruder", "gist": "x", "happened_at": "2026-01-01T10:00:00Z"},
    "MappingCreate": {"name": "m", "columns": {"text": "text"}},
    "SubjectCreate": {"kind": "brand", "name": "X", "query": "x"},
    "SubjectUpdate": {"name": "Y"},
    "QueryCheck": {"query": "x"},
    "AnalyzeRequest": {"texts": ["hello"]},
    "CorrectionCreate": {"field": "sentiment", "value": "negative"},
    "AspectCreate": {"key": "stolen", "name": "Stolen", "terms": ["x"]},
    "PersonCreate": {"name": "Intruder", "email": "intruder@h2h.example"},
    "PersonUpdate": {"name": "Taken over", "city": "Elsewhere"},
    "TagCreate": {"tag": "stolen"},
    "NoteCreate": {"text": "I was here"},
    "InterestCreate": {"label": "Taken over"},
    "FieldCreate": {"key": "stolen", "label": "Stolen", "type": "text"},
    "FieldUpdate": {"label": "Taken over"},
    "MergeCreate": {"other_id": str(uuid.uuid4())},
    "ConsentCreate": {"channel": "any", "purpose": "marketing", "source": "stolen"},
    "BlockCreate": {"channel": "any"},
    "ErasureConfirm": {"confirm": True},
    "EventBatch": {"name": "page_view", "occurred_at": "2026-01-01T10:00:00Z"},
    "SegmentCreate": {"name": "Stolen", "filters": {"stage": "customer"}},
    "SegmentUpdate": {"name": "Taken over", "filters": {}},
    "RfmRun": {},
    "ReplyCreate": {"text": "Stolen reply"},
    "ReplyElsewhere": {"text": "Stolen reply", "link": "https://example.com/r"},
    "ConversationNoteCreate": {"text": "I was here"},
    "AssignmentChange": {"owner_id": "me"},
    "StateChange": {"state": "resolved"},
    "NotAnsweringCreate": {"reason": "spam", "note": "stolen"},
    "PriorityChange": {"priority": "urgent"},
    "ConversationMerge": {"into": 1},
    "ConversationSplit": {"message_id": str(uuid.uuid4())},
    "WebhookCreate": {"url": "https://example.com/stolen"},
    "WebhookUpdate": {"url": "https://example.com/stolen", "active": False},
    "AutomationCreate": {
        "name": "Stolen",
        "event": "conversation_opened",
        "actions": [{"type": "add_note", "text": "stolen"}],
    },
    "AutomationUpdate": {"name": "Taken over", "enabled": False},
    "ProblemCreate": {"title": "Stolen", "message_ids": []},
    "ProblemUpdate": {"title": "Taken over"},
    "ProblemConfirm": {"title": "Taken over"},
    "ProblemDecline": {"reason": "stolen"},
    "ProblemFixing": {"owner_id": str(uuid.uuid4()), "root_cause": "x", "planned_fix": "y"},
    "ProblemFixed": {"fix_note": "stolen"},
    "ProblemReopen": {"note": "stolen"},
    "ProblemMerge": {"into": 1},
    "ProblemSplit": {"message_ids": [str(uuid.uuid4())]},
    "ComplaintsMove": {"message_ids": [str(uuid.uuid4())], "to": 1},
    "ComplaintsAttach": {"message_ids": [str(uuid.uuid4())]},
    "ComplaintsDetach": {"message_ids": [str(uuid.uuid4())]},
    "FollowUpWording": {"text": "Stolen {name}"},
    "FollowUpUpdate": {"text": "Stolen", "skipped": True},
    "FollowUpSend": {},
    "SurveyCreate": {"kind": "nps", "name": "Stolen"},
    "RoundCreate": {"channel_id": str(uuid.uuid4())},
    "ActionCreate": {"kind": "thank", "person_ids": [str(uuid.uuid4())], "text": "Stolen"},
    "OutcomeUpdate": {"state": "declined", "note": "stolen"},
    "AdvocacySettingsUpdate": {"engagement": {"deep_min_months": 2}},
}
FORM_BODY = {
    "name": "Taken over",
    "role": "viewer",
    "email": "intruder@h2h.example",
    "language": "en",
    "timezone": "UTC",
    "password": "y" * 12,
    "field": "sentiment",
    "sentiment": "negative",
    "key": "stolen",
    "terms": "stolen",
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # the route's template, e.g. /w/{ws}/members/{member_id}/role
    api: bool
    body_model: str | None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _calls(app: FastAPI) -> list[Call]:
    calls = []
    # Included routers are resolved lazily; iter_route_contexts yields them with full paths.
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path
        if not isinstance(route, APIRoute) or path is None:
            continue
        api = path.startswith("/api/")
        body = route.body_field.field_info.annotation if api and route.body_field else None
        for method in sorted(context.methods or ()):
            calls.append(Call(method, path, api, getattr(body, "__name__", None)))
    return calls


def _all_calls() -> list[Call]:
    from h2h.config import Settings
    from h2h.web import create_app

    settings = Settings(database_url="sqlite://", secret_key="x" * 40, env="test")
    return _calls(create_app(settings))


CALLS = _all_calls()
PARAM_CALLS = [c for c in CALLS if "{" in c.path]
WORKSPACE_WRITES = [
    c for c in CALLS if "{ws}" in c.path and c.method in UNSAFE and c.id not in NON_WRITING_POSTS
]


def _foreign_ids(session: Session, cast: Cast) -> dict[str, str]:
    """Real record ids that belong to workspace B (or to its owner)."""
    outsider_owner = cast.outsider
    owner_b = accounts.Actor(user_id=outsider_owner.user.id, role=Role.OWNER)
    _, invitation = accounts.invite(
        session,
        workspace_id=cast.b.id,
        actor=owner_b,
        email="guest@h2h.example",
        role=Role.AGENT,
    )
    token = session.scalars(
        select(ApiToken).where(ApiToken.user_id == outsider_owner.user.id)
    ).first()
    assert token is not None
    channel = channels.create_channel(
        session, workspace_id=cast.b.id, actor=owner_b, kind=ChannelKind.FILE, name="B's files"
    )
    stored = ingest.store(
        session,
        workspace_id=cast.b.id,
        channel_id=channel.id,
        items=[
            RawMessage(
                external_id="b-1",
                text="B's private message",
                created_at=utcnow(),
                author=Author(handle="someone"),
            )
        ],
    )
    subject = subjects.create_subject(
        session,
        workspace_id=cast.b.id,
        actor=owner_b,
        kind=SubjectKind.BRAND,
        name="Beta",
        query="beta",
    )
    run = channels.start_import(
        session, workspace_id=cast.b.id, channel_id=channel.id, filename="b.csv", sha256="0" * 64
    )
    aspect = nlp.save_aspect(
        session, workspace_id=cast.b.id, actor=owner_b, key="beta_only", name="B", terms="beta"
    )
    person = people.create_person(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's customer", email="b@h2h.example"
    )
    people.add_tag(session, workspace_id=cast.b.id, actor=owner_b, person=person, tag="vip")
    consent.record_consent(
        session, workspace_id=cast.b.id, actor=owner_b, person_id=person.id,
        channel="email", purpose="marketing", source="B's form",
    )  # fmt: skip
    consent.block(session, workspace_id=cast.b.id, actor=owner_b, person_id=person.id, channel="vk")
    events.record(
        session, workspace_id=cast.b.id, source="b",
        items=[{"name": "page_view", "occurred_at": "2026-01-01T10:00:00Z",
                "identity": {"kind": "email", "value": "b@h2h.example"}}],
    )  # fmt: skip
    note = people.add_note(
        session, workspace_id=cast.b.id, actor=owner_b, person=person, text="B's secret"
    )
    field = people.create_field(
        session, workspace_id=cast.b.id, actor=owner_b, key="b_only", label="B", type=FieldType.TEXT
    )
    twin_a = people.create_person(session, workspace_id=cast.b.id, actor=owner_b, name="Саша Белов")
    people.create_person(session, workspace_id=cast.b.id, actor=owner_b, name="Sasha Belov")
    resolution.suggest(session, workspace_id=cast.b.id)
    suggestion = session.scalars(
        select(MergeSuggestion).where(MergeSuggestion.workspace_id == cast.b.id)
    ).first()
    assert suggestion is not None
    merged = people.create_person(session, workspace_id=cast.b.id, actor=owner_b, name="B merged")
    merge = merging.merge(
        session, workspace_id=cast.b.id, actor=owner_b, winner_id=twin_a.id, loser_id=merged.id
    )
    segment = segments.create_segment(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's VIPs", definition={"tag": "vip"}
    )
    data_import = DataImport(
        workspace_id=cast.b.id, kind=DataImportKind.ORDERS, filename="b.csv", file_sha256="0" * 64
    )
    session.add(data_import)
    interest = interests.add_interest(
        session, workspace_id=cast.b.id, actor=owner_b, person=person, label="B's hobby"
    )
    inbox = _foreign_inbox(session, cast, owner_b, stored.inserted[0])
    integrations = _foreign_integrations(session, cast, owner_b)
    problem_ids = _foreign_problem(session, cast, owner_b, stored.inserted[0])
    survey = feedback.create_survey(
        session, workspace_id=cast.b.id, actor=owner_b, kind="nps", name="B's survey"
    )
    action = AdvocacyAction(
        workspace_id=cast.b.id, kind=ActionKind.THANK, person_id=person.id, text="B's thanks"
    )
    session.add(action)
    session.commit()
    return {
        "action_id": str(action.id),
        **inbox,
        **integrations,
        **problem_ids,
        "interest_id": str(interest.id),
        "survey_id": str(survey.id),
        "segment_id": str(segment.id),
        "data_import_id": str(data_import.id),
        "suggestion_id": str(suggestion.id),
        "merge_id": str(merge.id),
        "person_id": str(person.id),
        "note_id": str(note.id),
        "field_id": str(field.id),
        "tag": "vip",
        "channel_id": str(channel.id),
        "message_id": str(stored.inserted[0]),
        "subject_id": str(subject.id),
        "import_id": str(run.id),
        "aspect_id": str(aspect.id),
        "public_key": "wgt_" + uuid.uuid4().hex,  # a widget key nobody was given
        "member_id": str(outsider_owner.membership.id),
        "invitation_id": str(invitation.id),
        "token_id": str(token.id),
        "token": "h2hi_" + uuid.uuid4().hex,  # an invitation link nobody was given
    }


def _foreign_inbox(
    session: Session, cast: Cast, owner_b: accounts.Actor, message_id: uuid.UUID
) -> dict[str, str]:
    """B's conversation (its message was threaded on ingest) and what hangs off it."""
    conversation = inbox.conversation_of(session, workspace_id=cast.b.id, message_id=message_id)
    assert conversation is not None, "B's message was not threaded into a conversation"
    delivery = replies.compose(session, conversation=conversation, actor=owner_b, text="B's reply")
    view = inbox_listing.save_view(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's view",
        query=inbox_listing.InboxQuery(owner="mine"),
    )  # fmt: skip
    policy = inbox_settings.save_policy(
        session, workspace_id=cast.b.id, actor=owner_b, priority="high", channel_kind="",
        name="B", first_response="30", next_response="", resolution="", business_hours=True,
    )  # fmt: skip
    rule = routing.save_rule(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's rule", conditions={},
        user_ids=[str(cast.outsider.user.id)],
    )  # fmt: skip
    template = templates.save_template(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's template", body="Hi {name}"
    )
    inbox.add_note(session, conversation=conversation, actor=owner_b, text="B's note")
    return {
        "number": str(conversation.number),
        "delivery_id": str(delivery.id),
        "view_id": str(view.id),
        "policy_id": str(policy.id),
        "rule_id": str(rule.id),
        "template_id": str(template.id),
    }


def _foreign_integrations(session: Session, cast: Cast, owner_b: accounts.Actor) -> dict[str, str]:
    """B's outbound webhook and automation rule."""
    hook = webhooks.create_endpoint(
        session, workspace_id=cast.b.id, actor=owner_b, url="https://b.example/hook"
    )
    rule = automation.create_rule(
        session, workspace_id=cast.b.id, actor=owner_b, name="B's automation",
        event="conversation_opened", conditions={}, actions=[{"type": "add_note", "text": "B"}],
    )  # fmt: skip
    return {"webhook_id": str(hook.id), "automation_id": str(rule.id)}


def _foreign_problem(
    session: Session, cast: Cast, owner_b: accounts.Actor, message_id: uuid.UUID
) -> dict[str, str]:
    """B's fixed problem and the follow-up message prepared for its one complainant."""
    problem = problems.create(
        session, workspace_id=cast.b.id, actor=owner_b, title="B's problem",
        message_ids=[message_id],
    )  # fmt: skip
    problems.start_fixing(
        session, problem=problem, actor=owner_b, owner_id=cast.outsider.user.id,
        root_cause="B's cause", planned_fix="B's fix",
    )  # fmt: skip
    problems.mark_fixed(session, problem=problem, actor=owner_b, fix_note="B fixed it")
    problem_followups.prepare(session, problem=problem, actor=owner_b)
    [follow_up] = problem_followups.follow_ups(session, problem=problem)
    return {"follow_up_id": str(follow_up.id)}


def _fill(path: str, ws: str, ids: dict[str, str]) -> str:
    values = {"ws": ws, **ids}
    for name in _params(path):
        if name not in values:
            pytest.fail(
                f"route {path} has parameter {{{name}}} unknown to the tenancy tests; "
                "add a record of workspace B for it in _foreign_ids"
            )
        path = re.sub(r"\{" + name + r"(:\w+)?\}", values[name], path)
    return path


def _params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _send(client: TestClient, call: Call, url: str, headers: dict[str, str], csrf: str) -> int:
    if call.api and call.body_model and call.body_model.startswith("Body_"):  # a file upload
        files = {"file": ("stolen.csv", b"text\nhello\n", "text/csv")}
        response = client.request(call.method, url, headers=headers, files=files)
    elif call.api:
        json_body = JSON_BODIES.get(call.body_model) if call.body_model else None
        if call.body_model and json_body is None:
            pytest.fail(f"add a valid example body for {call.body_model} to JSON_BODIES")
        response = client.request(call.method, url, headers=headers, json=json_body)
    elif call.method in UNSAFE:
        response = client.request(
            call.method, url, data={**FORM_BODY, "csrf_token": csrf}, follow_redirects=False
        )
    else:
        response = client.request(call.method, url, follow_redirects=False)
    return response.status_code


def _snapshot_b(session: Session, cast: Cast) -> list[tuple[object, ...]]:
    session.expire_all()
    rows: list[tuple[object, ...]] = []
    workspace = session.get(Workspace, cast.b.id)
    assert workspace is not None
    rows.append((workspace.name, workspace.language, workspace.timezone))
    for m in session.scalars(select(Membership).where(Membership.workspace_id == cast.b.id)):
        rows.append((m.id, m.user_id, m.role))
    for i in session.scalars(select(Invitation).where(Invitation.workspace_id == cast.b.id)):
        rows.append((i.id, i.email, i.role, i.revoked_at))
    for t in session.scalars(select(ApiToken).where(ApiToken.user_id == cast.outsider.user.id)):
        rows.append((t.id, t.revoked_at))
    for model in (
        Channel,
        Message,
        Subject,
        ImportRun,
        Analysis,
        Correction,
        WorkspaceAspect,
        Person,
        Identity,
        PersonTag,
        Note,
        FieldDefinition,
        MergeSuggestion,
        Merge,
        Consent,
        ContactBlock,
        Event,
        Segment,
        DataImport,
        Conversation,
        ConversationEvent,
        InternalNote,
        Delivery,
        Draft,
        Presence,
        SavedView,
        SlaPolicy,
        AssignmentRule,
        ReplyTemplate,
        CloseReason,
        Agent,
        WebhookEndpoint,
        WebhookDelivery,
        AutomationRule,
        Problem,
        ProblemComplaint,
        ProblemEvent,
        FollowUp,
        AdvocacyAction,
    ):
        for row in session.scalars(select(model).where(model.workspace_id == cast.b.id)):
            rows.append(
                tuple(
                    getattr(row, c.key)
                    for c in model.__table__.columns
                    if c.key not in ("raw", "config", "secrets", "details")
                )
            )
    return sorted(rows, key=repr)


def test_every_route_with_parameters_is_covered() -> None:
    unknown = {p for c in PARAM_CALLS for p in _params(c.path)} - NO_TENANT_PARAMS
    assert not unknown, f"teach the tenancy tests about {unknown}"
    assert len(PARAM_CALLS) >= 20


@pytest.mark.parametrize("workspace_in_path", ["foreign", "own"])
def test_a_member_of_a_gets_404_for_every_record_of_b(
    client: TestClient, cast: Cast, session: Session, workspace_in_path: str
) -> None:
    """The owner of A guesses B's ids: through B's workspace path and through A's own."""
    ids = _foreign_ids(session, cast)
    before = _snapshot_b(session, cast)
    csrf = login(client, cast.owner.user.email)
    failures = []
    for call in PARAM_CALLS:
        if workspace_in_path == "own" and ("{ws}" not in call.path or _params(call.path) == ["ws"]):
            continue  # nothing of B's to guess here; the "foreign" run covers it
        ws = cast.b.slug if workspace_in_path == "foreign" else cast.a.slug
        status = _send(client, call, _fill(call.path, ws, ids), cast.owner.headers, csrf)
        if status != 404:
            failures.append(f"{call.id}: {status}")
    assert not failures, "expected 404 for B's records:\n" + "\n".join(failures)
    assert _snapshot_b(session, cast) == before, "a request changed workspace B's data"


def _own_ids(cast: Cast) -> dict[str, str]:
    missing = str(uuid.uuid4())
    ids = dict.fromkeys(
        (
            "invitation_id",
            "token_id",
            "channel_id",
            "message_id",
            "subject_id",
            "import_id",
            "aspect_id",
            "person_id",
            "note_id",
            "field_id",
            "suggestion_id",
            "merge_id",
            "segment_id",
            "data_import_id",
            "interest_id",
            "delivery_id",
            "view_id",
            "policy_id",
            "rule_id",
            "template_id",
            "webhook_id",
            "automation_id",
            "follow_up_id",
            "survey_id",
            "action_id",
        ),
        missing,
    )
    return {
        **ids,
        "number": "999999",
        "member_id": str(cast.owner.membership.id),
        "token": "x",
        "public_key": "x",
        "tag": "x",
    }


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewers_cannot_write_and_agents_cannot_manage_the_workspace(
    client: TestClient, cast: Cast, role: str
) -> None:
    member = cast.members[role]
    csrf = login(client, member.user.email)
    failures = []
    for call in WORKSPACE_WRITES:
        if role == "agent" and call.id in AGENT_WRITES:
            continue
        url = _fill(call.path, cast.a.slug, _own_ids(cast))
        status = _send(client, call, url, member.headers, csrf)
        if status != 403:
            failures.append(f"{call.id}: {status}")
    assert not failures, f"a {role} could write:\n" + "\n".join(failures)


def test_a_user_sees_only_workspaces_they_belong_to(client: TestClient, cast: Cast) -> None:
    listed = client.get("/api/v1/workspaces", headers=cast.owner.headers).json()
    assert [w["slug"] for w in listed] == ["alpha"]
    assert client.get("/api/v1/workspaces/beta", headers=cast.owner.headers).status_code == 404
    assert (
        client.get("/api/v1/workspaces/nonexistent", headers=cast.owner.headers).status_code == 404
    )


def test_an_outsider_cannot_tell_a_foreign_workspace_from_a_missing_one(
    client: TestClient, cast: Cast
) -> None:
    foreign = client.get("/api/v1/workspaces/alpha/members", headers=cast.outsider.headers)
    missing = client.get("/api/v1/workspaces/no-such/members", headers=cast.outsider.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


EXPORTS = [c for c in CALLS if re.search(r"/export\.(csv|xlsx)$", c.path)]


def test_every_list_export_is_a_read_of_one_workspace_walked_above() -> None:
    """Exports (…/export.csv, …/export.xlsx) carry a workspace's data in bulk: each is a GET
    under /w/{ws} or the workspace API, so the 404 walk above covers it for workspace B."""
    assert {c.method for c in EXPORTS} == {"GET"}
    assert all("{ws}" in c.path and c in PARAM_CALLS for c in EXPORTS)
    pages = {c.path for c in EXPORTS if c.path.startswith("/w/")}
    for path in ("inbox", "mentions", "people", "problems", "feedback", "audit"):
        assert {f"/w/{{ws}}/{path}/export.csv", f"/w/{{ws}}/{path}/export.xlsx"} <= pages
