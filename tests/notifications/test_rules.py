"""notifications.rules: which worklist findings become notifications, and the digest's words.
Pure Python: no database."""

from datetime import date

import pytest

from notifications import rules

MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)


@pytest.mark.parametrize(
    ("on", "due"),
    [
        (MONDAY, True),
        (MONDAY.replace(day=1), True),
        (date(2026, 2, 24), True),
        (date(2026, 2, 23), False),
        (date(2026, 3, 3), False),
    ],
    ids=["today", "yesterday", "six-days-ago", "seven-days-ago", "tomorrow"],
)
def test_a_review_mark_is_notified_from_its_day_for_a_week(on, due):
    assert rules.review_is_due_now(on, today=MONDAY) is due


def test_on_monday_last_week_is_checked_too():
    assert rules.review_days_to_check(MONDAY) == (date(2026, 2, 23), MONDAY)


def test_the_no_recent_score_key_is_the_same_all_week():
    keys = {rules.no_recent_score_key(7, date(2026, 3, day)) for day in range(2, 9)}

    assert keys == {"no_recent_score:patient:7:2026-03-02-week"}
    assert rules.no_recent_score_key(7, date(2026, 3, 9)) != keys.pop()


def test_the_review_key_names_the_trial_and_the_mark():
    assert rules.review_key(42, 6) == "review_due:trial:42:6w"


def test_the_digest_counts_without_naming_anyone():
    text = rules.digest_text(["review_due"] * 3 + ["no_recent_score"])

    assert text == "3 reviews due today, 1 patient without a recent score. Sign in to see them."


def test_the_digest_says_where_to_sign_in_and_uses_the_singular():
    text = rules.digest_text(
        ["review_due", "no_recent_score", "no_recent_score"], "https://trd.example.org"
    )

    assert text == (
        "1 review due today, 2 patients without a recent score. "
        "Sign in at https://trd.example.org to see them."
    )


def test_there_is_no_digest_without_notifications():
    assert rules.digest_text([]) is None
