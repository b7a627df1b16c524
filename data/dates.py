"""Dates as journals write them: ISO 8601, numeric day/month/year in either order, English month
names, and date headings in plain-text journals. Parsing only; deciding which order a whole file's
numeric dates follow is the caller's (`unstuck.data.batch_output.assign_dates`).
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime

MONTHS = {name.lower(): i for names in (calendar.month_name, calendar.month_abbr)
          for i, name in enumerate(names) if name} | {"sept": 9}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_TIME = r"(?:(?:\s+|\s*,\s*|T)\d{1,2}[:.]\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]\.?m\.?)?)?\s*$"
NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME, re.I)
YEAR_FIRST = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME, re.I)
MONTH_FIRST = re.compile(_WEEKDAY + r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME, re.I)
DAY_FIRST = re.compile(_WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{4})" + _TIME, re.I)
EXPECTED = "expected a date such as 2026-03-04, 04/03/2026, March 4, 2026 or 4 Mar 2026"
# A heading line in a plain-text journal: a date alone, perhaps as a Markdown heading, between rules
# (=== 4 Mar 2026 ===) or brackets, or followed by a colon.
HEADING = re.compile(r"\s*(?:#{1,6}\s+)?[=*_\-\[(]*\s*(?P<date>[^\[\]()=*_#]{6,40}?)\s*[=*_\-\])]*\s*:?\s*$")


class AmbiguousDate(ValueError):
    """A numeric date whose day and month could be read either way (04/03/2026), with no order given."""


def parse_date(value, dayfirst: bool | None = None) -> date:
    """The calendar date of `value`, as written (a time zone offset does not move it to another day).

    Numeric dates are day first if `dayfirst`, month first if it is False; if it is None, a date that
    can only be read one way (13/03/2026) is read that way and one that could be either raises
    AmbiguousDate. Raises ValueError for anything else that is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("no date")
    if not isinstance(value, str):
        raise ValueError(f"not text but {json.dumps(value)[:20]}; {EXPECTED}")
    text = value.strip()
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text).date()
    except ValueError:
        pass
    if match := YEAR_FIRST.match(text):
        return _make(int(match[1]), int(match[2]), int(match[3]))
    if match := NUMERIC.match(text):
        return _numeric(int(match[1]), int(match[2]), int(match[3]), dayfirst)
    for pattern, month_at, day_at in ((MONTH_FIRST, 1, 2), (DAY_FIRST, 2, 1)):
        match = pattern.match(text)
        if match and match[month_at].lower() in MONTHS:
            return _make(int(match[3]), MONTHS[match[month_at].lower()], int(match[day_at]))
    raise ValueError(f"not a date unstuck can read; {EXPECTED}")


def _numeric(first: int, second: int, year: int, dayfirst: bool | None) -> date:
    if dayfirst is None:
        order = implied_order(f"{first}/{second}/{year}")
        if order is None and first != second and first <= 12 and second <= 12:
            raise AmbiguousDate(f"{first:02}/{second:02}/{year} could be day first or month first; "
                                "say which with --dayfirst or --monthfirst")
        dayfirst = bool(order)
    day, month = (first, second) if dayfirst else (second, first)
    swapped_is_real = month > 12 and 1 <= day <= 12 and month <= calendar.monthrange(year, day)[1]
    if swapped_is_real:
        order_name, hint = ("month", "use --monthfirst") if dayfirst else ("day", "use --dayfirst")
        raise ValueError(f"there is no month {month}; if these dates are {order_name} first, {hint}")
    return _make(year, month, day)


def implied_order(value) -> bool | None:
    """For a numeric date that can only be read one way: True if that way is day first (13/03/2026),
    False if month first (03/13/2026); None for anything else."""
    match = NUMERIC.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    first, second = int(match[1]), int(match[2])
    if first > 12 >= second:
        return True
    if second > 12 >= first:
        return False
    return None


def heading_date(line: str) -> str | None:
    """The date a plain-text journal's heading line names ("## Monday, March 4, 2026", "04/03/2026:",
    "=== 4 Mar 2026 ==="), as written; None if the line is not a date heading."""
    match = HEADING.fullmatch(line) if len(line) <= 60 else None
    if not match:
        return None
    written = match["date"].strip()
    for dayfirst in (False, True):
        try:
            parse_date(written, dayfirst)
            return written
        except ValueError:
            continue
    return None


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as err:
        raise ValueError(f"not a real date ({err})") from None
