"""Operations of the accounts domain; the only writer of its tables."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import CursorResult, Select, delete, func, select
from sqlalchemy.orm import Session

from h2h.accounts import security
from h2h.accounts.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    LoginAttempt,
    Membership,
    Role,
    User,
    UserSession,
    Workspace,
)
from h2h.db import get_in_workspace, utcnow
from h2h.errors import (
    N_,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
)
from h2h.i18n import LANGUAGES

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256
INVITATION_DAYS = 7
AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Actor:
    """Who performs an operation, for permission checks and the audit log."""

    user_id: uuid.UUID | None
    role: Role | None = None
    ip: str | None = None

    def require(self, role: Role) -> None:
        if self.role is None or not self.role.at_least(role):
            raise PermissionDenied(N_("Your role does not allow this."))


SYSTEM = Actor(user_id=None, role=Role.OWNER)


# --- validation -------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(
            N_("“{email}” is not a valid email address."), field="email", email=email[:100]
        ) from exc


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            N_("The password must be at least {n} characters long."),
            field="password",
            n=PASSWORD_MIN_LENGTH,
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            N_("The password must be at most {n} characters long."),
            field="password",
            n=PASSWORD_MAX_LENGTH,
        )


def check_name(name: str, *, field: str = "name", max_length: int = 200) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(N_("The name must not be empty."), field=field)
    if len(name) > max_length:
        raise InvalidInput(
            N_("The name must be at most {n} characters long."), field=field, n=max_length
        )
    return name


def check_language(language: str, *, field: str = "language") -> str:
    if language not in LANGUAGES:
        raise InvalidInput(N_("Unknown language."), field=field)
    return language


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(N_("Unknown role."), field="role") from None


def check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("“{zone}” is not a known time zone (for example Europe/Moscow)."),
            field="timezone",
            zone=timezone[:64],
        ) from None
    return timezone


_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)


def slugify(text: str) -> str:
    """A URL-safe slug; Cyrillic is transliterated so Russian names give readable slugs."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:48] or "workspace"


# --- audit ------------------------------------------------------------------------------------


def record(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event; every other domain records through this function."""
    event = AuditEvent(
        workspace_id=workspace_id,
        actor_id=actor.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        details=details or {},
        ip=actor.ip,
    )
    session.add(event)
    session.flush()
    return event


def list_audit(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, page: int = 1
) -> tuple[list[AuditEvent], int]:
    """Audit events, newest first, with the total count; owners and admins only."""
    actor.require(Role.ADMIN)
    query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        audit_statement(workspace_id=workspace_id, actor=actor)
        .offset((max(page, 1) - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    ).all()
    return list(rows), total


def audit_statement(*, workspace_id: uuid.UUID, actor: Actor) -> Select[AuditEvent]:
    """Every audit event in the log's order, newest first (the export reads it in pages)."""
    actor.require(Role.ADMIN)
    return (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )


def redact_audit(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    entity_type: str,
    entity_ids: list[str],
    redact: Callable[[str | None, dict[str, Any]], dict[str, Any]],
) -> int:
    """Rewrite the details of these records' audit events; returns how many changed.

    Only for a data-subject erasure: the events stay (who did what, when), and ``redact``
    (entity id, details) -> details removes what identified the person.
    """
    changed = 0
    for start in range(0, len(entity_ids), 500):
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id.in_(entity_ids[start : start + 500]),
            )
        )
        for event in events:
            details = redact(event.entity_id, dict(event.details or {}))
            if details != event.details:
                event.details = details
                changed += 1
    session.flush()
    return changed


# --- users ------------------------------------------------------------------------------------


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def create_user(
    session: Session, *, email: str, name: str, password: str, language: str | None = None
) -> User:
    """Create a login; the email must be new."""
    email = normalize_email(email)
    check_password(password)
    if get_user_by_email(session, email=email) is not None:
        raise Conflict(N_("A user with this email already exists."), field="email")
    user = User(
        email=email,
        name=check_name(name),
        password_hash=security.hash_password(password),
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def update_profile(
    session: Session, *, user: User, name: str | None = None, language: str | None = None
) -> User:
    if name is not None:
        user.name = check_name(name)
    if language is not None:
        user.language = check_language(language) if language else None
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    """Set a password (administrative path: CLI). Ends every session of the user."""
    check_password(password)
    user.password_hash = security.hash_password(password)
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()


def change_password(
    session: Session, *, user: User, current: str, new: str, keep_session_id: uuid.UUID | None
) -> None:
    """Change one's own password; other sessions are logged out."""
    if not security.verify_password(user.password_hash, current):
        raise InvalidInput(N_("The current password is wrong."), field="current_password")
    check_password(new)
    user.password_hash = security.hash_password(new)
    session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.id != keep_session_id)
    )
    session.flush()


# --- authentication -----------------------------------------------------------------------------


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    max_failures: int,
    window_minutes: int,
) -> User:
    """Check a password login, throttling repeated failures per email."""
    email = email.strip().lower()[:320]
    since = utcnow() - timedelta(minutes=window_minutes)
    failures = session.scalars(
        select(LoginAttempt.created_at)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at >= since,
        )
        .order_by(LoginAttempt.created_at)
    ).all()
    if len(failures) >= max_failures:
        retry = failures[-max_failures] + timedelta(minutes=window_minutes) - utcnow()
        minutes = max(1, int(retry.total_seconds() // 60) + 1)
        raise TooManyAttempts(
            N_("Too many failed logins. Try again in {minutes} min."),
            retry_after=minutes * 60,
            minutes=minutes,
        )
    user = get_user_by_email(session, email=email)
    ok = security.verify_password(user.password_hash if user else None, password)
    session.add(LoginAttempt(email=email, ip=ip, succeeded=ok and bool(user and user.is_active)))
    session.flush()
    if user is None or not ok or not user.is_active:
        raise Unauthenticated(N_("Wrong email or password."))
    if user.password_hash and security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.last_login_at = utcnow()
    return user


def start_session(
    session: Session, *, user: User, days: int, ip: str | None, user_agent: str | None
) -> tuple[str, UserSession]:
    """Open a browser session; returns the raw cookie value (never stored) and the row."""
    raw = security.new_token("h2hs")
    row = UserSession(
        user_id=user.id,
        token_hash=security.hash_token(raw),
        expires_at=utcnow() + timedelta(days=days),
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(row)
    session.flush()
    return raw, row


def resolve_session(session: Session, *, raw: str, days: int) -> UserSession | None:
    """The live session for a cookie value, extended on use; None if unknown or expired."""
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == security.hash_token(raw))
    ).one_or_none()
    now = utcnow()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    # Touch at most once a minute so that reads do not turn every request into a write.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        row.expires_at = now + timedelta(days=days)
    return row


def end_session(session: Session, *, raw: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == security.hash_token(raw)))


def create_api_token(session: Session, *, user: User, name: str) -> tuple[str, ApiToken]:
    """Issue a token; the raw value is returned once and only its hash is kept."""
    name = check_name(name, max_length=100)
    raw = security.new_token("h2h")
    token = ApiToken(
        user_id=user.id, name=name, prefix=raw[:10], token_hash=security.hash_token(raw)
    )
    session.add(token)
    session.flush()
    return raw, token


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_api_token(session: Session, *, user: User, token_id: uuid.UUID) -> ApiToken:
    token = session.scalars(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).one_or_none()
    if token is None:
        raise NotFound()
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
    return token


def resolve_api_token(session: Session, *, raw: str) -> User | None:
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == security.hash_token(raw))
    ).one_or_none()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


def purge_expired(session: Session, *, keep_attempts_days: int = 7) -> int:
    """Delete expired sessions and old login attempts; returns how many rows went."""
    now = utcnow()
    sessions = session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    attempts = session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.created_at < now - timedelta(days=keep_attempts_days)
        )
    )
    # DML statements return a CursorResult, which carries the row count.
    return sum(cast(CursorResult[Any], r).rowcount for r in (sessions, attempts))


# --- workspaces and members --------------------------------------------------------------------


def get_workspace(session: Session, *, slug: str) -> Workspace:
    workspace = session.scalars(select(Workspace).where(Workspace.slug == slug)).one_or_none()
    if workspace is None:
        raise NotFound()
    return workspace


def get_membership(session: Session, *, user: User, workspace: Workspace) -> Membership | None:
    return session.scalars(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    ).one_or_none()


def list_memberships_of(session: Session, *, user: User) -> list[Membership]:
    """The workspaces a user belongs to, by name."""
    return list(
        session.scalars(
            select(Membership)
            .join(Workspace, Workspace.id == Membership.workspace_id)
            .where(Membership.user_id == user.id)
            .order_by(Workspace.name)
        )
    )


def _unique_slug(session: Session, base: str) -> str:
    slug, n = base, 1
    while session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        n += 1
        slug = f"{base[:44]}-{n}"
    return slug


def create_workspace(
    session: Session,
    *,
    name: str,
    owner: User,
    slug: str | None = None,
    language: str = "ru",
    timezone: str = "Europe/Moscow",
    ip: str | None = None,
) -> Workspace:
    """Create a workspace with its first owner."""
    name = check_name(name)
    if slug:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?", slug):
            raise InvalidInput(
                N_("Use lowercase Latin letters, digits and hyphens for the address."),
                field="slug",
            )
        if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
            raise Conflict(N_("This address is taken."), field="slug")
    workspace = Workspace(
        name=name,
        slug=slug or _unique_slug(session, slugify(name)),
        language=check_language(language),
        timezone=check_timezone(timezone),
    )
    session.add(workspace)
    session.flush()
    membership = Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.OWNER)
    session.add(membership)
    session.flush()
    actor = Actor(user_id=owner.id, role=Role.OWNER, ip=ip)
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action="workspace.create",
        entity_type="workspace",
        entity_id=workspace.id,
        details={"name": name},
    )
    return workspace


def update_workspace(
    session: Session,
    *,
    workspace: Workspace,
    actor: Actor,
    name: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
) -> Workspace:
    actor.require(Role.ADMIN)
    changes: dict[str, Any] = {}
    if name is not None and check_name(name) != workspace.name:
        changes["name"] = workspace.name = check_name(name)
    if language is not None and language != workspace.language:
        changes["language"] = workspace.language = check_language(language)
    if timezone is not None and timezone != workspace.timezone:
        changes["timezone"] = workspace.timezone = check_timezone(timezone)
    if changes:
        record(
            session,
            workspace_id=workspace.id,
            actor=actor,
            action="workspace.update",
            entity_type="workspace",
            entity_id=workspace.id,
            details=changes,
        )
    return workspace


def list_members(session: Session, *, workspace_id: uuid.UUID) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(User.name)
        )
    )


def _count_owners(session: Session, workspace_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Membership.workspace_id == workspace_id, Membership.role == Role.OWNER
            )
        )
        or 0
    )


def _check_can_manage(actor: Actor, target_role: Role, new_role: Role | None = None) -> None:
    """Admins manage agents and viewers; only owners touch owners and admins."""
    actor.require(Role.ADMIN)
    for role in (target_role, new_role):
        if role is not None and role.at_least(Role.ADMIN) and actor.role is not Role.OWNER:
            raise PermissionDenied(N_("Only an owner can grant or change this role."))


def change_role(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, membership_id: Any, role: Role
) -> Membership:
    membership = get_in_workspace(session, Membership, workspace_id=workspace_id, id=membership_id)
    _check_can_manage(actor, membership.role, role)
    demoting_owner = membership.role is Role.OWNER and role is not Role.OWNER
    if demoting_owner and _count_owners(session, workspace_id) <= 1:
        raise Conflict(N_("A workspace must keep at least one owner."))
    old = membership.role
    membership.role = role
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="member.role_change",
        entity_type="membership",
        entity_id=membership.id,
        details={"user": membership.user.email, "from": old.value, "to": role.value},
    )
    return membership


def remove_member(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, membership_id: Any
) -> None:
    membership = get_in_workspace(session, Membership, workspace_id=workspace_id, id=membership_id)
    if membership.user_id != actor.user_id:
        _check_can_manage(actor, membership.role)
    if membership.role is Role.OWNER and _count_owners(session, workspace_id) <= 1:
        raise Conflict(N_("A workspace must keep at least one owner."))
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="member.remove",
        entity_type="membership",
        entity_id=membership.id,
        details={"user": membership.user.email, "role": membership.role.value},
    )
    session.delete(membership)
    session.flush()


def add_member(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, user: User, role: Role
) -> Membership:
    """Give an existing user a role (CLI and invitations)."""
    _check_can_manage(actor, role)
    existing = session.scalars(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user.id
        )
    ).one_or_none()
    if existing is not None:
        raise Conflict(N_("{email} is already a member of this workspace."), email=user.email)
    membership = Membership(workspace_id=workspace_id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="member.add",
        entity_type="membership",
        entity_id=membership.id,
        details={"user": user.email, "role": role.value},
    )
    return membership


# --- invitations ------------------------------------------------------------------------------


def invite(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, email: str, role: Role
) -> tuple[str, Invitation]:
    """Invite someone by email; returns the raw token for the link (shown once)."""
    _check_can_manage(actor, role)
    email = normalize_email(email)
    member = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, User.email == email)
    )
    if member is not None:
        raise Conflict(N_("{email} is already a member of this workspace."), email=email)
    raw = security.new_token("h2hi")
    invitation = Invitation(
        workspace_id=workspace_id,
        email=email,
        role=role,
        token_hash=security.hash_token(raw),
        invited_by_id=actor.user_id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="invitation.create",
        entity_type="invitation",
        entity_id=invitation.id,
        details={"email": email, "role": role.value},
    )
    return raw, invitation


def list_invitations(session: Session, *, workspace_id: uuid.UUID) -> list[Invitation]:
    """Invitations not yet accepted or revoked, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.workspace_id == workspace_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def revoke_invitation(
    session: Session, *, workspace_id: uuid.UUID, actor: Actor, invitation_id: Any
) -> Invitation:
    invitation = get_in_workspace(session, Invitation, workspace_id=workspace_id, id=invitation_id)
    _check_can_manage(actor, invitation.role)
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = utcnow()
        record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action="invitation.revoke",
            entity_type="invitation",
            entity_id=invitation.id,
            details={"email": invitation.email},
        )
    return invitation


def get_open_invitation(session: Session, *, raw: str) -> Invitation:
    """The invitation behind a link, if it can still be accepted."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == security.hash_token(raw))
    ).first()
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound(N_("This invitation does not exist or was withdrawn."))
    if invitation.accepted_at is not None:
        raise Conflict(N_("This invitation has already been used."))
    if invitation.expires_at <= utcnow():
        raise Conflict(N_("This invitation has expired; ask for a new one."))
    return invitation


def accept_invitation(
    session: Session,
    *,
    raw: str,
    user: User | None,
    name: str | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> tuple[User, Membership]:
    """Join the workspace: as the logged-in user, or as a new user with a password."""
    invitation = get_open_invitation(session, raw=raw)
    if user is None:
        user = create_user(
            session, email=invitation.email, name=name or "", password=password or ""
        )
    existing = get_membership(session, user=user, workspace=invitation.workspace)
    if existing is not None:
        raise Conflict(N_("{email} is already a member of this workspace."), email=user.email)
    membership = Membership(
        workspace_id=invitation.workspace_id, user_id=user.id, role=invitation.role
    )
    session.add(membership)
    invitation.accepted_at = utcnow()
    session.flush()
    actor = Actor(user_id=user.id, role=invitation.role, ip=ip)
    record(
        session,
        workspace_id=invitation.workspace_id,
        actor=actor,
        action="invitation.accept",
        entity_type="membership",
        entity_id=membership.id,
        details={"email": user.email, "role": invitation.role.value},
    )
    return user, membership
