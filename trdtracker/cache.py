"""Django's Redis cache, failing open: with Redis unreachable a read is a miss and a write is
skipped (and logged), so pages that cache (the dashboard) or keep sessions in the cache
(`cached_db`, backed by the database) keep working, only slower.

`/readyz` pings Redis directly (`ping`), so an outage is still reported.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (ConnectionError, TimeoutError)


def _fail_open(fallback):
    def decorate(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                logger.warning("Cache unavailable, %s skipped: %s", method.__name__, error)
                return fallback(*args, **kwargs) if callable(fallback) else fallback

        return call

    return decorate


class FailOpenRedisCacheClient(RedisCacheClient):
    add = _fail_open(False)(RedisCacheClient.add)
    get = _fail_open(lambda key, default: default)(RedisCacheClient.get)
    set = _fail_open(None)(RedisCacheClient.set)
    touch = _fail_open(False)(RedisCacheClient.touch)
    delete = _fail_open(False)(RedisCacheClient.delete)
    get_many = _fail_open(lambda *args, **kwargs: {})(RedisCacheClient.get_many)
    has_key = _fail_open(False)(RedisCacheClient.has_key)
    set_many = _fail_open(lambda *args, **kwargs: [])(RedisCacheClient.set_many)
    delete_many = _fail_open(None)(RedisCacheClient.delete_many)
    clear = _fail_open(False)(RedisCacheClient.clear)

    def ping(self) -> bool:
        """True when Redis answers; raises when it does not (used by the readiness check)."""
        return self.get_client(write=True).ping()


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient  # RedisCache sets its client class per instance

    def ping(self) -> bool:
        return self._cache.ping()
