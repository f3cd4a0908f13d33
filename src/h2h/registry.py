"""Import every module that registers something at import time.

Jobs (``@job``), post-ingest steps (``@after_ingest``), connectors (``register``) and
navigation entries register themselves when their module is imported. Every entry point —
the web app, the CLI, a worker — calls ``load()`` so that all of them see the same set.
"""

from __future__ import annotations

import importlib

MODULES = (
    "h2h.accounts.tasks",
    "h2h.channels.tasks",
    "h2h.subjects.service",  # subject matching after ingest
    "h2h.nlp.service",  # analysis after ingest
    "h2h.nlp.tasks",
    "h2h.people.tasks",
    "h2h.people.profile",  # timeline sources: messages, replies, notes
    "h2h.people.linking",  # message authors → persons after ingest
    "h2h.people.suggestions",  # the "merge" timeline source and profile panel
    "h2h.people.consent",  # the "consent" timeline source and profile panel
    "h2h.people.events_timeline",  # the "event" timeline source
    "h2h.people.orders",  # the "order" timeline source and the purchases panel
    "h2h.inbox.threading",  # new messages → conversations, after NLP and people linking
    "h2h.inbox.tasks",
    "h2h.inbox.webhooks",  # conversation events → signed webhooks (event hook and jobs)
    "h2h.inbox.automation",  # conversation events → automation rules (event hook)
    "h2h.inbox.privacy",  # what an erasure removes from conversations
    "h2h.problems.detect",  # complaints → problems after ingest, after the inbox threads them
    "h2h.problems.tasks",
    "h2h.problems.privacy",  # what an erasure removes from problems and follow-ups
    "h2h.feedback.tasks",
    "h2h.feedback.privacy",  # what an erasure removes from survey answers
    "h2h.feedback.timeline",  # the "feedback" timeline source and the profile panel
    "h2h.advocacy.tasks",
    "h2h.advocacy.privacy",  # what an erasure removes from messages to advocates
    "h2h.reports.rollups",  # dashboard rollups (jobs)
    "h2h.reports.tasks",  # the scheduled digest (job)
    "h2h.reports.digest_service",  # what an erasure removes from digests
    "h2h.inbox.notify_out",  # staff notifications by email and Telegram (jobs, erasure)
    "h2h.channels.connectors.email",
    "h2h.channels.connectors.rss",
    "h2h.channels.connectors.telegram",
    "h2h.channels.connectors.vk",
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(name)
