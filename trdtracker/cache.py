"""Django's Redis cache, failing open: with Redis unreachable a read is a miss and a write is
skipped (and logged), so pages that cache (the dashboard) or keep sessions in the cache
(`cached_db`, backed by the database) keep working, only slower.

A skipped write or delete would leave an old value behind once Redis is back (a signed-out
session still cached, say), so the keys are remembered and deleted before the next command
that reaches Redis. `/readyz` pings Redis directly (`ping`), so an outage is still reported.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (ConnectionError, TimeoutError)


def _fail_open(fallback, written=None):
    """Wrap a client command: on an unreachable Redis return `fallback` (a value, or a function
    of the command's arguments); `written(*args)` names the keys a skipped command leaves stale."""

    def decorate(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                self._delete_stale_keys()
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                if written is not None:
                    self._stale_keys.update(written(*args, **kwargs))
                logger.warning("Cache unavailable, %s skipped: %s", method.__name__, error)
                return fallback(*args, **kwargs) if callable(fallback) else fallback

        return call

    return decorate


def _one_key(key, *args, **kwargs):
    return [key]


def _many_keys(keys, *args, **kwargs):
    return list(keys)


class FailOpenRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stale_keys: set = set()

    def _delete_stale_keys(self) -> None:
        if self._stale_keys:
            keys = list(self._stale_keys)
            RedisCacheClient.delete_many(self, keys)
            self._stale_keys.difference_update(keys)
            logger.info(
                "Cache reachable again: deleted %d keys written during the outage", len(keys)
            )

    add = _fail_open(False)(RedisCacheClient.add)
    get = _fail_open(lambda key, default: default)(RedisCacheClient.get)
    set = _fail_open(None, written=_one_key)(RedisCacheClient.set)
    touch = _fail_open(False)(RedisCacheClient.touch)
    delete = _fail_open(False, written=_one_key)(RedisCacheClient.delete)
    get_many = _fail_open(lambda *args, **kwargs: {})(RedisCacheClient.get_many)
    has_key = _fail_open(False)(RedisCacheClient.has_key)
    set_many = _fail_open(lambda *args, **kwargs: [], written=_many_keys)(RedisCacheClient.set_many)
    delete_many = _fail_open(None, written=_many_keys)(RedisCacheClient.delete_many)

    def ping(self) -> bool:
        """True when Redis answers; raises when it does not (used by the readiness check)."""
        return self.get_client(write=True).ping()


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient  # RedisCache sets its client class per instance

    def ping(self) -> bool:
        return self._cache.ping()
