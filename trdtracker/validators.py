"""The old home of core.dates, kept because applied migrations import it from here."""

from core.dates import EARLIEST_DATE, today, validate_not_future, validate_recorded_date

__all__ = ["EARLIEST_DATE", "today", "validate_not_future", "validate_recorded_date"]
