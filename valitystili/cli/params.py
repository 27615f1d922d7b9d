"""What the command line accepts: parameter types and the options several commands share.

Rules of this module:

- Dates, months and amounts are parsed by click, through the service's one parser of each
  (``base/dates.py``, ``base/money.py``), so bad input is refused before the command runs: one
  line naming the option, exit 2 (``Invalid value for '--date': date 31.2.2026 does not exist``).
  Commands receive a ``date``, a ``(year, month)`` or integer cents, never the typed text.
- An optional date left empty (``--as-of ""``, as a script writes ``--as-of "$DAY"``) means the
  option's default, as when it is left out: :data:`OPTIONAL_DATE`. A date that must be given
  refuses an empty value: :data:`DATE`.
- Choices that the service defines (roles, criteria, payee kinds …) are read from the service
  only when a command's value or help needs them (:class:`ServiceChoice`), so loading a command
  module loads no service (fast start, STYLE 13).
- An option with the same meaning has the same name and help everywhere: :func:`as_of_option`.
"""

from __future__ import annotations

import importlib
from datetime import date
from functools import cached_property

import click

from valitystili.base.dates import parse_date, parse_month
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_

AS_OF_HELP = N_("At the end of this day (default today), e.g. 30.11.2026 or 2026-11-30.")


class DateParam(click.ParamType):
    """A day written 23.11.2026, 1.2.2026 or 2026-11-23, in 1.1.2000–31.12.2100."""

    name = "date"

    def __init__(self, *, blank_is_default: bool = False):
        self.blank_is_default = blank_is_default

    def convert(self, value, param, ctx) -> date | None:
        if isinstance(value, date):
            return value
        if self.blank_is_default and not value.strip():
            return None
        try:
            return parse_date(value)
        except ValidationError as error:
            self.fail(str(error), param, ctx)


class MonthParam(click.ParamType):
    """A month written 2026-11, in 2000–2100; the value is ``(year, month)``."""

    name = "month"

    def convert(self, value, param, ctx) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_month(value)
        except ValidationError as error:
            self.fail(str(error), param, ctx)


class AmountParam(click.ParamType):
    """A non-negative euro amount, 512,40 or 512.40; the value is integer cents."""

    name = "amount"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        # Loaded here: base.money loads Babel, needed only where amounts are typed.
        from valitystili.base.money import parse_amount

        try:
            return parse_amount(value)
        except ValidationError as error:
            self.fail(str(error), param, ctx)


class ServiceChoice(click.Choice):
    """One of the values a service module names (``"module:ATTRIBUTE"``), read when needed."""

    def __init__(self, target: str, case_sensitive: bool = True):
        # click.Choice's own __init__ would read the choices now; they are a property here.
        self.target = target
        self.case_sensitive = case_sensitive

    @cached_property
    def choices(self) -> tuple[str, ...]:
        module_name, attribute = self.target.split(":")
        return tuple(getattr(importlib.import_module(module_name), attribute))


DATE = DateParam()
OPTIONAL_DATE = DateParam(blank_is_default=True)
MONTH = MonthParam()
AMOUNT = AmountParam()


def as_of_option(help_text: str = AS_OF_HELP):
    """``--as-of DATE``: the day a report or check is made for (default today)."""
    return click.option("--as-of", "as_of", type=OPTIONAL_DATE, default=None, help=help_text)
