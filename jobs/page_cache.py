"""What a page needs that does not change per request, cached for a few seconds on the shared
cache (Redis; a miss when it is down): a user's permissions, the user row itself, and a kind's
sync header (its latest sweep and whether one runs). Each entry is dropped when what it holds
is written (signals, connected in jobs.apps), and expires on its own anyway, so a write that
sends no signal (a lease taken by a conditional UPDATE, a group's permissions edited) shows
within the TTL.

The profile of a list page at 100k jobs (bench/web_load.py, issue 12) had the session user,
the permission queries, the sync banner and the task lock at about a quarter of a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from jobs.models import SyncRun, TaskLock

USER_TTL = 30
HEADER_TTL = 5


def _user_key(user_id: object) -> str:
    return f"auth:user:{user_id}"


def _perms_key(user_id: object) -> str:
    return f"auth:perms:{user_id}"


def _header_key(kind: str) -> str:
    return f"sync-header:{kind}"


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend, with the session's user row and the user's permission set read
    from the cache (USER_TTL) instead of three queries per request. Saving the user or
    changing their groups or permissions drops both entries at once."""

    def get_user(self, user_id):
        key = _user_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, USER_TTL)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return super().get_all_permissions(user_obj, obj=obj)
        if not hasattr(user_obj, "_perm_cache"):
            key = _perms_key(user_obj.pk)
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, perms, USER_TTL)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


def forget_user(user_id: object) -> None:
    cache.delete_many([_user_key(user_id), _perms_key(user_id)])


@dataclass(frozen=True)
class Header:
    run: SyncRun | None  # the latest finished sweep
    running: bool


# A second, in-process layer for the few entries every page reads: no Redis round trip at all
# within LOCAL_TTL (keyed by the cache's key prefix too, so tests never share entries).
LOCAL_TTL = 1.0
_local: dict[tuple[str, str], tuple[float, object]] = {}


def local_get(key: str):
    entry = _local.get((cache.key_prefix, key))
    if entry is not None and entry[0] > time.monotonic():
        return entry[1]
    return None


def local_set(key: str, value: object) -> None:
    _local[(cache.key_prefix, key)] = (time.monotonic() + LOCAL_TTL, value)


def local_forget(*keys: str) -> None:
    for key in keys:
        _local.pop((cache.key_prefix, key), None)


def sync_header(*, kind: str, read) -> Header:
    """A kind's header state: `read()` -> (run, running) on a miss (jobs.sync's sync_state and
    sync_running), cached HEADER_TTL seconds (and LOCAL_TTL in the process)."""
    key = _header_key(kind)
    header = local_get(key)
    if header is not None:
        return header
    header = cache.get(key)
    if header is None:
        run, running = read()
        header = Header(run=run, running=running)
        cache.set(key, header, HEADER_TTL)
    local_set(key, header)  # from its first read: at most LOCAL_TTL old in this process
    return header


def _on_user_saved(sender, instance, **kwargs) -> None:
    forget_user(instance.pk)


def _on_user_m2m(sender, instance, action, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, get_user_model()):
        forget_user(instance.pk)
    elif pk_set:  # from the other side: group.user_set.add(...)
        for pk in pk_set:
            forget_user(pk)


def _on_sync_run(sender, instance, **kwargs) -> None:
    local_forget(_header_key(instance.kind))
    cache.delete(_header_key(instance.kind))


def _on_lock(sender, instance, **kwargs) -> None:
    # Lock names start with the kind ("sync:evaluation_jobs" ...): drop every kind's header.
    from jobs.sync import KINDS

    keys = [_header_key(kind) for kind in KINDS]
    local_forget(*keys)
    cache.delete_many(keys)


def connect() -> None:
    """Called once from jobs.apps.JobsConfig.ready (every process: web, worker, beat)."""
    user = get_user_model()
    post_save.connect(_on_user_saved, sender=user, dispatch_uid="page_cache.user")
    for through in (user.groups.through, user.user_permissions.through):
        m2m_changed.connect(_on_user_m2m, sender=through, dispatch_uid=f"page_cache.{through}")
    post_save.connect(_on_sync_run, sender=SyncRun, dispatch_uid="page_cache.syncrun")
    for signal in (post_save, post_delete):
        signal.connect(_on_lock, sender=TaskLock, dispatch_uid=f"page_cache.lock.{signal}")
