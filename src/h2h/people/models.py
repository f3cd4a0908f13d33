"""Tables of the people domain: persons, their identities, purchases, events, consent, merges.

Everything a person did reaches them through an **identity** (an email address, a phone,
a Telegram id, a shop's customer number, …): messages, orders and events point at the
identity, and the identity points at the person. Merging two persons therefore only moves
identities (plus the few rows that belong to the person itself: notes, consents, tags), and
undoing a merge moves exactly those back — activity that arrived in between follows its
identity to the right person.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


def _person_fk(column: str = "person_id", ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", column], ["persons.workspace_id", "persons.id"], ondelete=ondelete
    )


class LifecycleStage(enum.StrEnum):
    VISITOR = "visitor"
    LEAD = "lead"
    CUSTOMER = "customer"
    REPEAT = "repeat"
    ADVOCATE = "advocate"
    LAPSED = "lapsed"


STAGE_LABELS = {
    LifecycleStage.VISITOR: N_("Visitor"),
    LifecycleStage.LEAD: N_("Lead"),
    LifecycleStage.CUSTOMER: N_("Customer"),
    LifecycleStage.REPEAT: N_("Repeat customer"),
    LifecycleStage.ADVOCATE: N_("Advocate"),
    LifecycleStage.LAPSED: N_("Lapsed"),
}


class AccountKind(enum.StrEnum):
    """What an author looks like: a live person, or something that only posts like one."""

    PERSON = "person"
    BUSINESS = "business"  # "Натяжные потолки Ульяновск"
    BOT = "bot"
    FEED = "feed"  # reposts and links, no voice of its own
    UNKNOWN = "unknown"


ACCOUNT_KIND_LABELS = {
    AccountKind.PERSON: N_("Live person"),
    AccountKind.BUSINESS: N_("Business page"),
    AccountKind.BOT: N_("Bot"),
    AccountKind.FEED: N_("Repost feed"),
    AccountKind.UNKNOWN: N_("Not yet known"),
}


class Organization(TenantMixin, Base):
    """A company a person belongs to (B2B): employer, client organisation."""

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(255))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(TenantMixin, Base):
    """A human the workspace talks to, with what we know of them, across every channel."""

    __tablename__ = "persons"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "organization_id"],
            ["organizations.workspace_id", "organizations.id"],
            ondelete="SET NULL",
        ),
        Index("ix_persons_workspace_id_last_seen_at", "workspace_id", "last_seen_at"),
        Index("ix_persons_workspace_id_name_key", "workspace_id", "name_key"),
        Index("ix_persons_workspace_id_merged_into_id", "workspace_id", "merged_into_id"),
    )

    name: Mapped[str] = mapped_column(String(300))  # what we call them
    # Lower-cased, transliterated name for search and for blocking in identity resolution.
    name_key: Mapped[str] = mapped_column(String(300), default="")
    first_name: Mapped[str | None] = mapped_column(String(150))
    last_name: Mapped[str | None] = mapped_column(String(150))
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(150))
    organization_id: Mapped[uuid.UUID | None]
    # The named employee responsible for the relationship.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stage: Mapped[LifecycleStage] = mapped_column(
        str_enum(LifecycleStage), default=LifecycleStage.VISITOR
    )
    stage_manual: Mapped[bool] = mapped_column(default=False)  # set by a person, kept by jobs
    account_kind: Mapped[AccountKind] = mapped_column(
        str_enum(AccountKind), default=AccountKind.UNKNOWN
    )
    liveness: Mapped[float | None] = mapped_column(Float)  # 0..1: how likely a live person
    liveness_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # custom fields
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]  # last contact in any direction
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    # Money in minor units (kopecks, cents) of the workspace's currency: exact on both databases.
    lifetime_value: Mapped[int] = mapped_column(BigInteger, default=0)
    first_order_at: Mapped[datetime | None]
    last_order_at: Mapped[datetime | None]
    rfm_recency: Mapped[int | None] = mapped_column(SmallInteger)  # quintile scores 1..5
    rfm_frequency: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_monetary: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(String(32))
    # A person merged into another stays as a tombstone, so the merge can be undone exactly.
    merged_into_id: Mapped[uuid.UUID | None]
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdentityKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"  # E.164
    TELEGRAM = "telegram"  # numeric user id
    VK = "vk"  # numeric user id
    TWITTER = "twitter"
    SITE = "site"  # the workspace's own site or app user id
    CUSTOMER_ID = "customer_id"  # a shop's customer number (orders)
    WALKIN = "walkin"  # met offline, identified by staff
    HANDLE = "handle"  # a handle that means something only within one channel


IDENTITY_LABELS = {
    IdentityKind.EMAIL: N_("Email"),
    IdentityKind.PHONE: N_("Phone"),
    IdentityKind.TELEGRAM: N_("Telegram"),
    IdentityKind.VK: N_("VK"),
    IdentityKind.TWITTER: N_("Twitter / X"),
    IdentityKind.SITE: N_("Site user"),
    IdentityKind.CUSTOMER_ID: N_("Customer number"),
    IdentityKind.WALKIN: N_("Walk-in"),
    IdentityKind.HANDLE: N_("Handle"),
}


class Identity(TenantMixin, Base):
    """One way to reach or recognise a person: a channel and a handle, normalised."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "namespace", "value"),
        _person_fk(),
        Index("ix_identities_workspace_id_person_id", "workspace_id", "person_id"),
        # Search by an identity value of any kind ("anna@example.com", "+79161234567").
        Index("ix_identities_workspace_id_value", "workspace_id", "value"),
    )

    person_id: Mapped[uuid.UUID]
    kind: Mapped[IdentityKind] = mapped_column(str_enum(IdentityKind))
    # Where the value is unique: "" for global kinds (email, phone, Telegram, VK); the
    # channel id for HANDLE; the source name for CUSTOMER_ID and SITE.
    namespace: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[str] = mapped_column(String(320))  # normalised
    display: Mapped[str] = mapped_column(String(320))  # as the customer wrote it
    name: Mapped[str | None] = mapped_column(String(300))  # the name the channel gave
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(1000))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[uuid.UUID | None]  # where it was first seen
    verified: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonTag(TenantMixin, Base):
    __tablename__ = "person_tags"
    __table_args__ = (
        UniqueConstraint("workspace_id", "person_id", "tag"),
        _person_fk(),
        Index("ix_person_tags_workspace_id_tag", "workspace_id", "tag"),
    )

    person_id: Mapped[uuid.UUID]
    tag: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterestSource(enum.StrEnum):
    EXPLICIT = "explicit"  # the person said so, or staff recorded it
    INFERRED = "inferred"  # from the aspects and topics of their messages


class InterestKind(enum.StrEnum):
    INTEREST = "interest"  # what they like or follow: a product, a topic, a hobby
    VALUE = "value"  # what matters to them in dealing with us: price, quality, speed …


INTEREST_KIND_LABELS = {
    InterestKind.INTEREST: N_("Interest"),
    InterestKind.VALUE: N_("Value"),
}


class PersonInterest(TenantMixin, Base):
    """An interest or a value of a person; inferred ones are marked as such.

    An inferred one that staff dismissed stays, with ``dismissed_at``, so the next inference
    does not bring it back; one they confirmed becomes explicit and inference leaves it alone.
    """

    __tablename__ = "person_interests"
    __table_args__ = (UniqueConstraint("workspace_id", "person_id", "label"), _person_fk())

    person_id: Mapped[uuid.UUID]
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[InterestKind] = mapped_column(
        str_enum(InterestKind), default=InterestKind.INTEREST
    )
    source: Mapped[InterestSource] = mapped_column(str_enum(InterestSource))
    dismissed_at: Mapped[datetime | None]
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class FieldDefinition(TenantMixin, Base):
    """A custom field of a workspace's persons; values live in ``persons.attributes``."""

    __tablename__ = "person_fields"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(TenantMixin, Base):
    __tablename__ = "person_notes"
    __table_args__ = (
        _person_fk(),
        Index("ix_person_notes_workspace_id_person_id", "workspace_id", "person_id"),
    )

    person_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- purchases and events ----------------------------------------------------------------------


class Product(TenantMixin, Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("workspace_id", "sku"),)

    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(500))
    unit_price: Mapped[int | None] = mapped_column(BigInteger)  # minor units, the latest seen
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(TenantMixin, Base):
    """A purchase (or a cancellation, with negative lines); anonymous when no customer is known."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        Index("ix_orders_workspace_id_identity_id", "workspace_id", "identity_id", "placed_at"),
        Index("ix_orders_workspace_id_placed_at", "workspace_id", "placed_at"),
    )

    external_id: Mapped[str] = mapped_column(String(200))  # invoice number
    identity_id: Mapped[uuid.UUID | None]  # the customer, if known
    placed_at: Mapped[datetime]
    is_cancellation: Mapped[bool] = mapped_column(default=False)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units, negative if refund
    currency: Mapped[str | None] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(100))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(TenantMixin, Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("workspace_id", "order_id", "line_key"),
        ForeignKeyConstraint(
            ["workspace_id", "order_id"], ["orders.workspace_id", "orders.id"], ondelete="CASCADE"
        ),
        Index("ix_order_lines_workspace_id_product_id", "workspace_id", "product_id"),
    )

    order_id: Mapped[uuid.UUID]
    line_key: Mapped[str] = mapped_column(String(100))  # stable within the order, for re-imports
    product_id: Mapped[uuid.UUID | None]
    sku: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)  # minor units
    amount: Mapped[int] = mapped_column(BigInteger)  # quantity × unit price, minor units


class Event(TenantMixin, Base):
    """Something a person did elsewhere: a page view, a search, an app event."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        Index("ix_events_workspace_id_identity_id", "workspace_id", "identity_id", "occurred_at"),
    )

    external_id: Mapped[str] = mapped_column(String(200))  # given, or a digest of the event
    identity_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(100))  # "page_view", "search", "app_open", …
    occurred_at: Mapped[datetime]
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[uuid.UUID | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataImportKind(enum.StrEnum):
    ORDERS = "orders"
    EVENTS = "events"


class DataImportStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DataImport(TenantMixin, Base):
    """One file of orders or events brought in, with its counts."""

    __tablename__ = "data_imports"

    kind: Mapped[DataImportKind] = mapped_column(str_enum(DataImportKind))
    filename: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[DataImportStatus] = mapped_column(
        str_enum(DataImportStatus), default=DataImportStatus.RUNNING
    )
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class DataImportRejection(TenantMixin, Base):
    __tablename__ = "data_import_rejections"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "import_id"],
            ["data_imports.workspace_id", "data_imports.id"],
            ondelete="CASCADE",
        ),
        Index("ix_data_import_rejections_workspace_id_import_id", "workspace_id", "import_id"),
    )

    import_id: Mapped[uuid.UUID]
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)


# --- consent -----------------------------------------------------------------------------------


class ConsentPurpose(enum.StrEnum):
    SERVICE = "service"  # answers and notices about what they bought or asked
    MARKETING = "marketing"
    SURVEYS = "surveys"
    RESEARCH = "research"


class ConsentStatus(enum.StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


ANY_CHANNEL = "any"


class Consent(TenantMixin, Base):
    """A consent given or withdrawn; append-only, the latest per channel and purpose counts."""

    __tablename__ = "consents"
    __table_args__ = (
        _person_fk(),
        Index("ix_consents_workspace_id_person_id", "workspace_id", "person_id", "recorded_at"),
    )

    person_id: Mapped[uuid.UUID]
    channel: Mapped[str] = mapped_column(String(16))  # a ChannelKind value or "any"
    purpose: Mapped[ConsentPurpose] = mapped_column(str_enum(ConsentPurpose))
    status: Mapped[ConsentStatus] = mapped_column(str_enum(ConsentStatus))
    source: Mapped[str] = mapped_column(String(200))  # "widget form", "call with Anna", "import"
    evidence: Mapped[str | None] = mapped_column(Text)  # the words, a URL, a document number
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ContactBlock(TenantMixin, Base):
    """Do not contact this person on this channel (or on any), whatever the consents say."""

    __tablename__ = "contact_blocks"
    __table_args__ = (UniqueConstraint("workspace_id", "person_id", "channel"), _person_fk())

    person_id: Mapped[uuid.UUID]
    channel: Mapped[str] = mapped_column(String(16))  # a ChannelKind value or "any"
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


# --- identity resolution -----------------------------------------------------------------------


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # "these are two people": never proposed again
    MERGED = "merged"


class MergeSuggestion(TenantMixin, Base):
    """Two persons that may be one human, with a score and the evidence; a human decides."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "person_a_id", "person_b_id"),
        _person_fk("person_a_id"),
        _person_fk("person_b_id"),
        Index("ix_merge_suggestions_workspace_id_status", "workspace_id", "status", "score"),
    )

    person_a_id: Mapped[uuid.UUID]  # the smaller id of the two, so a pair is stored once
    person_b_id: Mapped[uuid.UUID]
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus), default=SuggestionStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Merge(TenantMixin, Base):
    """A merge of ``loser`` into ``winner``, with what moved, so that it can be undone exactly."""

    __tablename__ = "merges"
    __table_args__ = (
        _person_fk("winner_id"),
        _person_fk("loser_id"),
        Index("ix_merges_workspace_id_winner_id", "workspace_id", "winner_id"),
        Index("ix_merges_workspace_id_loser_id", "workspace_id", "loser_id"),
    )

    winner_id: Mapped[uuid.UUID]
    loser_id: Mapped[uuid.UUID]
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Both persons' fields before the merge and the ids of every row moved to the winner.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    automatic: Mapped[bool] = mapped_column(default=False)
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class PersonMatchKey(TenantMixin, Base):
    """A blocking key of a person (a canonical name, phone, email, avatar …) for resolution.

    Persons that share a key are compared; persons that share none never are, so finding
    candidates costs a lookup per key instead of a comparison of every pair.
    """

    __tablename__ = "person_match_keys"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key", "person_id"),
        _person_fk(),
        Index("ix_person_match_keys_workspace_id_person_id", "workspace_id", "person_id"),
    )

    person_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(400))


# --- segments and settings ---------------------------------------------------------------------


class Segment(TenantMixin, Base):
    """A saved filter over persons; its count is refreshed by a job and on demand."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    member_count: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class PeopleSettings(TenantMixin, Base):
    """A workspace's policy for people: when to merge on its own, when a customer lapses."""

    __tablename__ = "people_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    # Merge without asking at or above this score; None (the default) never merges on its own.
    auto_merge_threshold: Mapped[float | None] = mapped_column(Float)
    suggest_threshold: Mapped[float] = mapped_column(Float, default=0.5)
    # Persons changed after this were not yet looked at by identity resolution.
    resolved_at: Mapped[datetime | None]
    # Persons changed after this were not yet looked at by the profile refresh (liveness, …).
    profiles_refreshed_at: Mapped[datetime | None]
    lapsed_after_days: Mapped[int] = mapped_column(Integer, default=365)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
