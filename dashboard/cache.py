"""The cache: Redis, where a Redis that is down or slow is a miss, never an error.

Sessions are cached_db (read from the cache, written to both), so with Redis down every page
still works from the database; permission and banner caches simply recompute. After a failure
the cache is skipped for a few seconds, so a dead Redis costs one short timeout per process and
interval, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How long to skip Redis after it failed.
PAUSE_SECONDS = 5.0


class ResilientRedisCache(RedisCache):
    _paused_until = 0.0
    _lock = threading.Lock()

    def _guard(self, name: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._paused_until:
            return fallback
        try:
            return getattr(super(), name)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            with self._lock:
                if time.monotonic() >= self._paused_until:
                    logger.warning(
                        "cache unavailable, going without for %ss: %s", PAUSE_SECONDS, exc
                    )
                type(self)._paused_until = time.monotonic() + PAUSE_SECONDS
            return fallback

    def get(self, key, default=None, version=None):
        return self._guard("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._guard("has_key", False, key, version)

    def add(self, key, value, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        return self._guard("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        return self._guard("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        return self._guard("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        return self._guard("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._guard("delete_many", None, keys, version)

    def incr(self, key, delta=1, version=None):
        return self._guard("incr", None, key, delta, version)

    def clear(self):
        return self._guard("clear", None)
