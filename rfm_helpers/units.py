"""Values as every report writes them: the one home of number formatting (pure Python, so that
text modules and the runner format without importing matplotlib; charts, tables and sentences
all call it).

A page says what a number counts: ``92,007,710 messages``, ``2,003 accounts``, ``1,191.5
campaigns`` (a mean), money in the run's currency (``report.currency``: ``IDR 3.57B``,
``£12.3k``) and durations in days (``10.5 days``) — never a count as money (``£92,007,710``),
never a whole number with decimals (``239.00``). One currency rule everywhere
(:func:`currency_prefix`): a symbol attaches (``£950``), an alphabetic code takes a space
(``IDR 950``). Axis ticks are compact (``1k``, ``10M``) so that neighbouring labels never run
together.
"""

from __future__ import annotations

import math

PLURALS = {
    "campaign": "campaigns",
    "message": "messages",
    "account": "accounts",
    "row": "rows",
    "day": "days",
}
"""Units in the singular, and their plural."""
FEATURE_UNITS = {
    "recency": "day",
    "frequency_broadcast": "campaign",
    "frequency_charged": "message",
    "monetary": "money",
}
"""The unit of each account feature (``money``: the run's currency)."""
FEATURE_LABELS = {
    "recency": "Recency (days since the last campaign)",
    "frequency_broadcast": "Campaigns (finished broadcasts)",
    "frequency_charged": "Charged messages",
    "monetary": "Revenue",
}
"""What each account feature is called on a page."""


def number(value: float) -> str:
    """A whole number as ``46,829``; a mean below 10,000 with one decimal (``10.5``,
    ``1,191.5``), above it whole (``65,475``); never ``239.00``."""
    rounded = round(float(value), 1)
    return f"{rounded:,.0f}" if rounded.is_integer() or abs(rounded) >= 10_000 else f"{rounded:,.1f}"


def integer(value: float) -> str:
    """A count written whole: ``46,829`` (never ``46,829.00``)."""
    return f"{value:,.0f}"


def count(value: float, unit: str) -> str:
    """``92,007,710 messages``, ``1 account``, a mean ``1,191.5 campaigns`` (``unit`` singular)."""
    text = number(value)
    return f"{text} {unit if text == '1' else PLURALS.get(unit, unit + 's')}"


def days(value: float) -> str:
    """``10.5 days``, ``1 day``."""
    return count(value, "day")


def currency_prefix(currency: str) -> str:
    """What stands before an amount: a symbol attaches (``£``: ``£950``), an alphabetic code
    takes a space (``IDR``: ``IDR 950``); no currency, nothing."""
    return f"{currency} " if currency[-1:].isalpha() else currency


def _short(size: float) -> str | None:
    """``size`` (not negative) in three significant digits with its suffix: ``43k``,
    ``4.59M``, ``3.57B``, ``1M`` for 999,999; None below a thousand."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if round(size / scale, 2) >= 1:
            scaled = size / scale
            decimals = min(2, max(0, 2 - math.floor(math.log10(scaled))))
            text = f"{scaled:.{decimals}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    return None


def compact(value: float, currency: str = "") -> str:
    """Short form for axis ticks and narrow labels, three significant digits from a thousand
    on: ``950``, ``1k``, ``2.5k``, ``4.59M``, ``3.57B``, below one ``0.5``; with ``currency``
    (money ticks): ``£200k``, ``IDR 10M``."""
    sign, size = ("-" if value < 0 else ""), abs(value)
    short = _short(size) or (number(size) if size >= 1 or size == 0 else f"{size:g}")
    return f"{sign}{currency_prefix(currency)}{short}"


def money(value: float, currency: str) -> str:
    """Money in a sentence or a label: whole below 10,000 (``£950``, ``£9,999``, ``IDR
    1,800``), from there compact (``£12.3k``, ``£4.56M``, ``IDR 3.57B``)."""
    if round(abs(value)) >= 10_000:
        return compact(value, currency)
    text = f"{abs(value):,.0f}"
    return f"{'-' if value < 0 and text != '0' else ''}{currency_prefix(currency)}{text}"


def full_money(value: float, currency: str, cents: bool) -> str:
    """Money in a table cell, every digit: ``£1,234.50`` (``cents``), ``IDR 26,456,802``."""
    return f"{'-' if value < 0 else ''}{currency_prefix(currency)}{abs(value):,.{2 if cents else 0}f}"


def count_tick(value: float) -> str:
    """Axis tick of a count: ``2,500``; from a million on ``1.5M`` (short enough never to touch)."""
    return compact(value) if abs(value) >= 1e6 else integer(value)


def percent(share: float) -> str:
    """A share (0..1) as an axis tick: ``20%``, ``2.5%`` (a decimal only where it needs one)."""
    rounded = round(share * 100, 1)
    return f"{rounded:.0f}%" if rounded == round(rounded) else f"{rounded:.1f}%"


def feature_value(feature: str, value: float, currency: str) -> str:
    """A value of an account feature in its unit (:data:`FEATURE_UNITS`); blank if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    unit = FEATURE_UNITS.get(feature)
    if unit == "money":
        return money(value, currency)
    return count(value, unit) if unit else number(value)


def feature_label(feature: str) -> str:
    """The page's name for an account feature (``frequency_charged`` → "Charged messages")."""
    return FEATURE_LABELS.get(feature, feature.replace("_", " ").capitalize())
