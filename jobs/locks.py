"""Named leases that keep periodic work from overlapping (two beats, or a Refresh during a sweep).

One lock in the database rather than Redis `SET NX PX`: the dashboard runs on Redis or on
Celery's filesystem transport (what `make run` falls back to without Redis), and on SQLite or
PostgreSQL; a row with a primary key works on all four with one code path, needs no service
besides the database the work writes to anyway, and costs nothing at a few sweeps a minute.
Mutual exclusion comes from the primary key (one INSERT wins) and a conditional UPDATE that
takes over only an expired lease; a random token makes renewal and release safe (a holder
whose lease expired and was taken over cannot release or extend the new holder's lease).

Take leases outside any transaction (autocommit): a lease created inside an open transaction
is invisible to other connections until it commits.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.models import TaskLock


class LockHeld(Exception):
    """Someone else holds the lease."""


class LockLost(Exception):
    """Our lease expired and another holder took it: stop before writing more."""


class Lease:
    """A held lock. Renew it while working past a third of its time to live."""

    def __init__(self, name: str, token: str, ttl: float) -> None:
        self.name = name
        self.token = token
        self.ttl = ttl
        self._renewed = time.monotonic()

    def renew(self) -> None:
        expires = timezone.now() + timedelta(seconds=self.ttl)
        if not TaskLock.objects.filter(name=self.name, token=self.token).update(expires_at=expires):
            raise LockLost(f"lost the {self.name} lock (it expired and was taken over)")
        self._renewed = time.monotonic()

    def keep_alive(self) -> None:
        """Renew when a third of the time to live has passed: cheap to call often."""
        if time.monotonic() - self._renewed > self.ttl / 3:
            self.renew()

    def release(self) -> None:
        TaskLock.objects.filter(name=self.name, token=self.token).delete()


def acquire(name: str, *, ttl: float) -> Lease | None:
    """Take the lock for `ttl` seconds, or return None if someone holds an unexpired lease."""
    token = secrets.token_hex(16)
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    # An expired lease (its holder crashed) is taken over in place.
    if TaskLock.objects.filter(name=name, expires_at__lte=now).update(
        token=token, expires_at=expires
    ):
        return Lease(name, token, ttl)
    try:
        with transaction.atomic():
            TaskLock.objects.create(name=name, token=token, expires_at=expires)
    except IntegrityError:
        return None
    return Lease(name, token, ttl)


def is_held(name: str) -> bool:
    return TaskLock.objects.filter(name=name, expires_at__gt=timezone.now()).exists()


@contextmanager
def held(name: str, *, ttl: float) -> Iterator[Lease]:
    """`with held("x", ttl=60) as lease:` runs the block under the lock or raises LockHeld."""
    lease = acquire(name, ttl=ttl)
    if lease is None:
        raise LockHeld(name)
    try:
        yield lease
    finally:
        lease.release()
