"""Cell values for the CSV and XLSX exports: typed where the format has types, and never a
formula. A text cell starting with = + - @ (or a tab or carriage return) would run as a formula
in a spreadsheet (OWASP, CSV injection), so it is prefixed with a single quote."""

from datetime import date
from decimal import Decimal

from treatments.trd import format_dose

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_field(text: str) -> str:
    """`text` as csv.writer writes one field (excel dialect, QUOTE_MINIMAL): in double quotes,
    with its quotes doubled, when it holds a comma, a quote or a line break; else as it is.
    For code that writes CSV lines itself (the trials export)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralised(value)
    if isinstance(value, Decimal):
        return format_dose(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def xlsx_cell(value):
    """Text neutralised; dates, doses and counts stay typed for the spreadsheet."""
    return neutralised(value) if isinstance(value, str) else value


def dose_text(value) -> str:
    """A dose in mg/day as the exports write it; "" for none."""
    return format_dose(value) if value is not None else ""
