"""The fail-open Redis cache: misses and skipped writes while Redis is away, nothing stale after."""

import time

import pytest
import redis

from trdtracker.cache import FailOpenRedisCache

pytestmark = pytest.mark.services


def make_cache(url: str) -> FailOpenRedisCache:
    return FailOpenRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


def test_with_redis_stopped_reads_miss_and_writes_are_skipped(redis_server):
    cache = make_cache(redis_server.url)
    cache.set("figures", {"patients": 3})
    assert cache.get("figures") == {"patients": 3}
    redis_server.stop()

    assert cache.get("figures", "computed") == "computed"
    assert cache.get_many(["figures", "other"]) == {}
    assert cache.add("figures", 1) is False and cache.has_key("figures") is False
    cache.set("figures", {"patients": 4})
    cache.set_many({"a": 1, "b": 2})
    cache.delete("figures")
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.ping()


def test_a_delete_missed_during_an_outage_is_applied_when_redis_answers_again(redis_server):
    cache = make_cache(redis_server.url)
    cache.set("session", "signed in")
    cache.set("other", "kept")
    pause = 1500
    redis.Redis.from_url(redis_server.url).execute_command("CLIENT", "PAUSE", pause, "ALL")
    paused_until = time.monotonic() + pause / 1000

    cache.delete("session")  # times out: Redis is paused, so the old value is still there

    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.2)
    assert redis.Redis.from_url(redis_server.url).exists(cache.make_key("session")) == 1
    assert cache.get("session") is None  # the missed delete ran first
    assert cache.get("other") == "kept"
