"""Unsaved input survives the end of a session.

A clinician who fills in a form for longer than the practice's idle timeout (or whose session
ended in another tab) and then presses Save is signed out by IdleTimeoutMiddleware. If the
form's view is marked `@restorable`, what they typed is kept instead of lost:

- server-side, in the cache for 30 minutes under a random token that goes into the new
  anonymous session (never in a cookie), with the id of the user it belongs to;
- without the CSRF token or any field with "password" in its name, and only up to 64 KB;
- only when the POST passes the CSRF check, so another site cannot plant input.

After the same user signs in again, their next GET of that same path binds the view's forms
to the kept input (once: it is then deleted) and says so. Nothing is saved by that: the view
still sees a GET, shows the filled-in form, and the clinician checks it and presses Save, which
goes through the normal services. Another user signing in on that browser never sees it.
"""

import json
import secrets
import time
from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.http import QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, resolve

MAX_BYTES = 64 * 1024
LIFETIME_SECONDS = 30 * 60
PENDING_KEY = "form_recovery_token"  # session: the token of the kept input
SIGNED_OUT_KEY = "form_recovery_user"  # session: who the idle timeout signed out
MARK = "restores_form_input"
CACHE_PREFIX = "form-recovery:"
STRIPPED_FIELDS = {"csrfmiddlewaretoken"}

KEPT_MESSAGE = "Your session ended; sign in again and your form will be shown filled in."
RESTORED_MESSAGE = "Restored your unsaved input: check it and save."


def restorable(view):
    """Mark a form view whose input is kept when its session ended before Save.

    On the GET that restores it, the view finds the kept input in `request.POST` while
    `request.method` stays "GET": its `Form(request.POST or None)` shows the values (and any
    errors), and its `if request.method == "POST"` branch, the save, does not run. Put it under
    the access decorator, so that the restore happens only once access has been granted.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "GET":
            data = take(request)
            if data is not None:
                request.POST = data
                messages.info(request, RESTORED_MESSAGE)
        return view(request, *args, **kwargs)

    setattr(wrapper, MARK, True)
    return wrapper


def is_restorable(view_func) -> bool:
    return getattr(view_func, MARK, False) is True


def is_restorable_path(path_info: str) -> bool:
    try:
        return is_restorable(resolve(path_info).func)
    except Resolver404:
        return False


def kept_fields(post: QueryDict) -> list[list[str]]:
    """The fields worth keeping: never a CSRF token or anything named like a password."""
    return [
        [name, value]
        for name, values in post.lists()
        if name not in STRIPPED_FIELDS and "password" not in name.lower()
        for value in values
    ]


def _csrf_passes(request) -> bool:
    """Django's own CSRF check (the idle timeout answers before CsrfViewMiddleware runs)."""
    rejected = CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})
    return rejected is None


def keep(request, user_id) -> bool:
    """Keep this POST's input for `user_id` if its view restores input; True if it was kept."""
    if request.method != "POST" or user_id is None or not is_restorable_path(request.path_info):
        return False
    if not _csrf_passes(request):
        return False
    payload = json.dumps(
        {
            "user_id": user_id,
            "path": request.path,
            "saved_at": time.time(),
            "fields": kept_fields(request.POST),
        }
    )
    if len(payload.encode()) > MAX_BYTES:
        return False
    token = secrets.token_urlsafe(32)
    if not cache.add(CACHE_PREFIX + token, payload, LIFETIME_SECONDS):
        return False
    request.session[PENDING_KEY] = token
    return True


def remember_signed_out(request, user) -> None:
    """In the fresh session after an idle sign-out: whose input a later POST from another tab
    of this browser would be (the user is anonymous by then)."""
    request.session[SIGNED_OUT_KEY] = user.pk


def signed_out_user_id(request):
    return request.session.get(SIGNED_OUT_KEY)


def _pending(request) -> tuple[str | None, dict | None]:
    token = request.session.get(PENDING_KEY)
    if not token:
        return None, None
    raw = cache.get(CACHE_PREFIX + token)
    entry = json.loads(raw) if raw else None
    if entry is not None and time.time() - entry["saved_at"] > LIFETIME_SECONDS:
        entry = None
    return token, entry


def _drop(request, token) -> None:
    cache.delete(CACHE_PREFIX + token)
    request.session.pop(PENDING_KEY, None)


def signed_in(request, user) -> None:
    """After a sign-in: kept input belongs to this user or is dropped."""
    request.session.pop(SIGNED_OUT_KEY, None)
    token, entry = _pending(request)
    if token and (entry is None or entry["user_id"] != user.pk):
        _drop(request, token)


def take(request) -> QueryDict | None:
    """The input kept for this user and this path, once; None if there is none."""
    token, entry = _pending(request)
    if token is None:
        return None
    if entry is None or entry["user_id"] != request.user.pk:
        _drop(request, token)
        return None
    if entry["path"] != request.path:
        return None  # kept for the page it came from
    _drop(request, token)
    data = QueryDict(mutable=True)
    for name, value in entry["fields"]:
        data.appendlist(name, value)
    data._mutable = False
    return data
