"""Request budgets kept in the cache: so many requests per key in a window.

With the cache unreachable the budget is not enforced (it fails open, like the cache itself):
the lockout, kept in the database, still guards the passwords.
"""

import hashlib

from django.core.cache import cache


def allow(scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one request for `key` and say whether it is within `limit` per window."""
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    name = f"ratelimit:{scope}:{digest}"
    try:
        cache.add(name, 0, window_seconds)
        return cache.incr(name) <= limit
    except ValueError:  # the key expired (or the cache skipped the add) between the two calls
        return True
    except Exception:  # noqa: BLE001 - an unreachable cache must not refuse a request
        return True
