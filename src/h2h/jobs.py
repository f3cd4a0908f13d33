"""Background jobs: run a registered function now, later, or periodically.

Call sites only name a job and pass JSON-serialisable keyword arguments (ids, never ORM
objects); each run gets its own session and transaction. The default backend runs jobs in
a thread pool inside the current process; a broker-backed backend (Dramatiq on Redis or
RabbitMQ) can replace it without touching call sites, because only ``Backend`` knows how a
job travels.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from h2h.db import transaction, utcnow

log = logging.getLogger(__name__)

JobFunc = Callable[..., Any]
_REGISTRY: dict[str, JobFunc] = {}


def job(name: str) -> Callable[[JobFunc], JobFunc]:
    """Register a job handler ``handler(session, **kwargs)`` under a stable name."""

    def register(func: JobFunc) -> JobFunc:
        if name in _REGISTRY and _REGISTRY[name] is not func:
            raise ValueError(f"job {name!r} is registered twice")
        _REGISTRY[name] = func
        return func

    return register


def each_workspace(session: Session, name: str, work: Callable[[Session, Any], Any]) -> int:
    """Run ``work(session, workspace_id)`` for every workspace, each in its own transaction,
    so one workspace's bad row never stops the others (the next run tries again). Returns the
    sum of what ``work`` returned (a number, or the length of a collection)."""
    from sqlalchemy import select

    from h2h.accounts.models import Workspace

    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    total = 0
    for workspace_id in session.scalars(select(Workspace.id)).all():
        try:
            with transaction(factory) as own:
                result = work(own, workspace_id)
                total += result if isinstance(result, int) else len(result)
        except Exception:
            log.exception("%s failed for workspace %s", name, workspace_id)
    return total


def registered() -> dict[str, JobFunc]:
    return dict(_REGISTRY)


def _checked_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    if name not in _REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    # A round trip through JSON is what a broker would do; failing here keeps both paths equal.
    result: dict[str, Any] = json.loads(json.dumps(kwargs))
    return result


def run_now(factory: sessionmaker[Session], name: str, /, **kwargs: Any) -> Any:
    """Run a job synchronously in its own transaction."""
    kwargs = _checked_kwargs(name, kwargs)
    with transaction(factory) as session:
        return _REGISTRY[name](session, **kwargs)


class Backend(Protocol):
    def submit(self, name: str, kwargs: dict[str, Any], at: datetime | None) -> None: ...
    def every(self, interval: timedelta, name: str, kwargs: dict[str, Any]) -> None: ...
    def shutdown(self) -> None: ...


class ImmediateBackend:
    """Runs each job at once in the caller's thread (CLI, tests); periodic jobs are ignored."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def submit(self, name: str, kwargs: dict[str, Any], at: datetime | None) -> None:
        run_now(self.factory, name, **kwargs)

    def every(self, interval: timedelta, name: str, kwargs: dict[str, Any]) -> None:
        return None

    def shutdown(self) -> None:
        return None


@dataclass(order=True)
class _Scheduled:
    at: datetime
    seq: int
    name: str = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)
    interval: timedelta | None = field(compare=False, default=None)


class ThreadBackend:
    """A thread pool plus a scheduler thread, inside one process.

    Delayed and periodic jobs live in memory: a restart forgets delayed jobs, which is why
    jobs must be safe to run again and periodic jobs re-register at start-up.
    """

    def __init__(self, factory: sessionmaker[Session], workers: int = 4) -> None:
        self.factory = factory
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="h2h-job")
        self._queue: list[_Scheduled] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="h2h-scheduler", daemon=True)
        self._thread.start()

    def submit(self, name: str, kwargs: dict[str, Any], at: datetime | None) -> None:
        if at is None or at <= utcnow():
            self._run(name, kwargs)
        else:
            self._push(_Scheduled(at, next(self._seq), name, kwargs))

    def every(self, interval: timedelta, name: str, kwargs: dict[str, Any]) -> None:
        self._push(_Scheduled(utcnow() + interval, next(self._seq), name, kwargs, interval))

    def shutdown(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _push(self, item: _Scheduled) -> None:
        with self._wake:
            heapq.heappush(self._queue, item)
            self._wake.notify()

    def _run(self, name: str, kwargs: dict[str, Any]) -> Future[Any]:
        return self.pool.submit(self._guarded, name, kwargs)

    def _guarded(self, name: str, kwargs: dict[str, Any]) -> Any:
        try:
            return run_now(self.factory, name, **kwargs)
        except Exception:
            # A failing job must not kill the worker thread; the log carries the traceback.
            log.exception("job %s failed (kwargs=%s)", name, kwargs)
            return None

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._queue or self._queue[0].at > utcnow()):
                    timeout = (
                        (self._queue[0].at - utcnow()).total_seconds() if self._queue else None
                    )
                    self._wake.wait(timeout=timeout)
                if self._stopped:
                    return
                item = heapq.heappop(self._queue)
            self._run(item.name, item.kwargs)
            if item.interval is not None:
                item.at = utcnow() + item.interval
                item.seq = next(self._seq)
                self._push(item)


class Jobs:
    """What call sites use: ``jobs.enqueue(...)``, ``jobs.enqueue_after_commit(session, ...)``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def enqueue(self, name: str, /, *, at: datetime | None = None, **kwargs: Any) -> None:
        self.backend.submit(name, _checked_kwargs(name, kwargs), at)

    def every(self, interval: timedelta, name: str, /, **kwargs: Any) -> None:
        self.backend.every(interval, name, _checked_kwargs(name, kwargs))

    def enqueue_after_commit(self, session: Session, name: str, /, **kwargs: Any) -> None:
        """Enqueue once the session commits (and never if it rolls back)."""
        checked = _checked_kwargs(name, kwargs)
        if not session.in_transaction():
            session.begin()  # so that a rollback before any SQL still discards the job
        pending: list[tuple[Jobs, str, dict[str, Any]]] = session.info.setdefault("h2h_jobs", [])
        pending.append((self, name, checked))

    def shutdown(self) -> None:
        self.backend.shutdown()


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    for runner, name, kwargs in session.info.pop("h2h_jobs", []):
        try:
            runner.backend.submit(name, kwargs, None)
        except Exception:
            # The transaction is already committed; losing the side effect is logged, not raised.
            log.exception("could not enqueue job %s after commit", name)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # Soft rollbacks fire even when no SQL ran; only the outermost one ends the unit of work.
    if previous_transaction.parent is None:
        session.info.pop("h2h_jobs", None)
