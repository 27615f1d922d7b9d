"""The plan file: TOML as DESIGN §12 writes it, parsed and checked (no database writes).

Rules of this module:

- The file has exactly the keys of DESIGN §12; any other key is an error, so a typo
  (``amout``) never silently drops a line. Every error is one line naming the place:
  ``plan: pay 2: reference 12345673 has a wrong check digit (expected 12345672)``.
- Amounts are TOML strings in euros (``"520.00"`` or ``"520,00"``), never TOML numbers: a float
  would already have lost the cents. Schedules are RFC 5545 rules (``schedules.parse_rule``).
- A ``[[pay]]`` item is paid by the account (default), by Kela directly (``kela_direct``, from
  2026 Kela pays the rent share of basic social assistance itself) or by the client. An item paid
  by the account needs a ``reference`` (Finnish or RF, check digits checked; stored with its
  ISO 20022 kind SCOR or ISO) or a ``message`` — never both, as EPC rules require. A message
  is stored in its payment form (``text.payment_form``: one line, ISO-8859-15, transliterated
  where needed, at most 140 characters) and never holds a henkilötunnus. ``bills = true``
  items have no amount: they pay the bills entered with ``bill add``, each carrying its own
  amount, due date and reference. A rent item's ``amount`` is the whole rent; ``paid_directly``
  is the part Kela (or another payer) usually pays the landlord itself, and the account pays
  the rest (DESIGN §2). It may not reach the whole rent.
- Two items of one kind paid by the account are told apart by a ``tag``: at most one of them
  goes without; the tag, not the item's place in the file, keeps their obligation keys the
  same across plan versions (a paid obligation is never made again under another key).
- ``review`` (the next review of the need for the service) is required in every version.
- ``first_period = "2026-12"`` names the month of the first obligations when they should not
  start from the first expected income routed to the account (DESIGN §5).
- An income's ``tolerance`` is ``"20%"`` or an amount (``"5.00"``); without it, the larger of
  5,00 € and 20 % of the amount.
- A fixed instalment may not exceed the expected monthly income: the incomes' amounts over the
  twelve months from the effective date, divided by twelve (floored to cents).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from valitystili.base.dates import check_range, format_fi_date, parse_date
from valitystili.base.errors import NotFound, ValidationError
from valitystili.base.i18n import N_, _
from valitystili.base.identifiers import classify_reference, find_hetu
from valitystili.base.money import format_fi, parse_amount
from valitystili.base.schedules import occurrences, parse_rule
from valitystili.base.text import MAX_MESSAGE_CHARS, clean_line, payment_form
from valitystili.people.payees import resolve_payee
from valitystili.store.models import (
    ITEM_KINDS,
    PAID_BY,
    Payee,
)

TOP_KEYS = ("review", "first_period", "income", "pay", "instalments")
PAY_KEYS = ("kind", "payee", "amount", "paid_directly", "due", "reference", "message", "paid_by",
            "partial", "allow_partial", "bills", "tag")
INCOME_KEYS = ("source", "kind", "amount", "tolerance", "schedule", "route")
INSTALMENT_KEYS = ("schedule", "mode", "amount", "keep", "minimum")
ROUTES = ("client_declared_account", "agreement", "payment_demand_ev241n")
INSTALMENT_MODES = ("even", "fixed")
_INCOME_KIND_RE = re.compile(r"[a-z][a-z0-9_]*")
_TAG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_PERIOD_RE = re.compile(r"(\d{4})-(\d{2})")
_PERCENT_RE = re.compile(r"(\d{1,3})\s*%")

#: What ``plan edit`` opens for a client who has no plan yet.
PLAN_TEMPLATE = """\
# Payment plan (DESIGN §12). Lines starting with # are ignored; save an empty file to abort.
#
review = 2027-02-01
#
# [[income]]
# source = "Kela"
# kind = "basic_social_assistance"
# amount = "560.00"
# schedule = "FREQ=MONTHLY;BYMONTHDAY=1"
# route = "client_declared_account"
#
# [[pay]]
# kind = "rent"
# payee = "Vaasan Asunnot Oy"
# amount = "520.00"
# due = "FREQ=MONTHLY;BYMONTHDAY=2"
# reference = "12345672"
#
# [instalments]
# schedule = "FREQ=WEEKLY;BYDAY=MO"
# mode = "even"
# keep = "0.00"
# minimum = "0.00"
"""


# --- the parsed file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedItem:
    position: int
    kind: str
    payee_id: int
    amount_cents: int | None
    bills: bool
    schedule: str | None
    reference: str | None
    reference_kind: str | None
    message: str | None
    paid_by: str
    allow_partial: bool
    paid_directly_cents: int = 0
    tag: str | None = None


@dataclass(frozen=True)
class ParsedIncome:
    position: int
    source: str
    kind: str
    amount_cents: int
    schedule: str
    route: str
    tolerance_cents: int | None = None
    tolerance_percent: int | None = None


@dataclass(frozen=True)
class ParsedPlan:
    review_on: date
    items: tuple[ParsedItem, ...]
    incomes: tuple[ParsedIncome, ...]
    instalment_schedule: str | None
    instalment_mode: str
    instalment_cents: int | None
    keep_cents: int
    minimum_cents: int
    monthly_income_cents: int
    #: Lines for the person: messages stored in another form for the payment file.
    notes: tuple[str, ...] = ()
    first_period: str | None = None


def parse_plan(session: Session, text: str, *, effective_on: date, today: date,
               payee: Callable[[Session, str | int], Payee] = resolve_payee) -> ParsedPlan:
    """Check a plan file and return its rows; raises ``ValidationError`` with one line.

    ``payee`` finds an item's payee (``resolve_payee``; a caller checking many plans passes one
    that remembers what it found)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(_("plan: not valid TOML: {error}").format(error=error)) from None
    if not document:
        raise ValidationError(_("plan: the file is empty"))
    _known_keys(document, TOP_KEYS, _("plan"))
    review_on = _review(document.get("review"), today)
    incomes = tuple(_income(table, n, _("plan: income {number}").format(number=n))
                    for n, table in enumerate(_tables(document, "income"), start=1))
    notes: list[str] = []
    items = tuple(_item(session, table, n, _("plan: pay {number}").format(number=n), notes, payee)
                  for n, table in enumerate(_tables(document, "pay"), start=1))
    items = _tagged(items)
    monthly = monthly_income_cents(incomes, effective_on)
    schedule, mode, amount, keep, minimum = _instalments(document.get("instalments"), monthly)
    return ParsedPlan(review_on, items, incomes, schedule, mode, amount, keep, minimum, monthly,
                      tuple(notes), _first_period(document.get("first_period")))


def monthly_income_cents(incomes: tuple[ParsedIncome, ...], start: date) -> int:
    """Expected income per month: the twelve months from ``start``, divided by twelve."""
    end = start + relativedelta(years=1) - timedelta(days=1)
    total = sum(i.amount_cents * len(occurrences(i.schedule, start, end)) for i in incomes)
    return total // 12


def _known_keys(table: dict, known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise ValidationError(_("{where}: unknown key {key!r} (known: {known})").format(
                where=where, key=key, known=", ".join(sorted(known))))


def _tables(document: dict, key: str) -> list[dict]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ValidationError(_("plan: {key} must be written as [[{key}]] tables").format(
            key=key))
    return value


def _wrapped(where: str, function, *args):
    """Run a checker and put the place in the file in front of its error."""
    try:
        return function(*args)
    except (ValidationError, NotFound) as error:
        raise ValidationError(f"{where}: {error}") from None


def _string(table: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ValidationError(_("{where}: {key} is missing").format(where=where, key=key))
        return None
    if not isinstance(value, str):
        raise ValidationError(_("{where}: {key} must be a string").format(where=where, key=key))
    value = value.strip()
    if not value:
        raise ValidationError(_("{where}: {key} is empty").format(where=where, key=key))
    return value


def _choice(table: dict, key: str, choices: tuple[str, ...], where: str,
            default: str | None = None) -> str:
    value = _string(table, key, where, required=default is None) or default
    if value not in choices:
        raise ValidationError(_("{where}: {key} {value!r} is not one of {choices}").format(
            where=where, key=key, value=value, choices=", ".join(choices)))
    return value


def _flag(table: dict, key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(_("{where}: {key} must be true or false").format(where=where,
                                                                                key=key))
    return value


def _amount(table: dict, key: str, where: str, *, required: bool = True,
            zero_ok: bool = False) -> int | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ValidationError(_("{where}: {key} is missing").format(where=where, key=key))
        return None
    if not isinstance(value, str):
        raise ValidationError(_('{where}: {key} must be a string in euros, e.g. {key} = "520.00"')
                              .format(where=where, key=key))
    cents = _wrapped(where, parse_amount, value)
    if cents == 0 and not zero_ok:
        raise ValidationError(_("{where}: {key} must be more than {zero}").format(
            where=where, key=key, zero=format_fi(0)))
    return cents


def _schedule(table: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = _string(table, key, where, required=required)
    if value is not None:
        _wrapped(where, parse_rule, value)
    return value


def _review(value: Any, today: date) -> date:
    if value is None:
        raise ValidationError(_("plan: review is missing: every plan names the next review of "
                                "the need for the service (review = 2027-02-01)"))
    if isinstance(value, datetime):
        raise ValidationError(_("plan: review must be a date (review = 2027-02-01), without a "
                                "time"))
    if isinstance(value, date):
        review = check_range(value, _("plan: review date"))
    elif isinstance(value, str):
        review = _wrapped(_("plan: review"), parse_date, value)
    else:
        raise ValidationError(_("plan: review must be a date (review = 2027-02-01)"))
    if review < today:
        raise ValidationError(_("plan: review date {day} is in the past").format(
            day=format_fi_date(review)))
    return review


def _income(table: dict, position: int, where: str) -> ParsedIncome:
    _known_keys(table, INCOME_KEYS, where)
    source = _string(table, "source", where)
    kind = _string(table, "kind", where)
    if not _INCOME_KIND_RE.fullmatch(kind):
        raise ValidationError(_("{where}: kind {kind!r} must be lower-case letters, digits and _ "
                                "(e.g. housing_allowance)").format(where=where, kind=kind))
    amount = _amount(table, "amount", where)
    tolerance_cents, tolerance_percent = _tolerance(table.get("tolerance"), where)
    schedule = _schedule(table, "schedule", where)
    route = _choice(table, "route", ROUTES, where, default="client_declared_account")
    if kind == "housing_allowance" and route == "payment_demand_ev241n":
        raise ValidationError(_("{where}: general housing allowance cannot be demanded with "
                                "EV 241N; use route client_declared_account or agreement")
                              .format(where=where))
    source = clean_line(source, f"{where}: source", max_chars=140)
    return ParsedIncome(position, source, kind, amount, schedule, route, tolerance_cents,
                        tolerance_percent)


def _tolerance(value: Any, where: str) -> tuple[int | None, int | None]:
    """``"20%"`` → (None, 20); ``"5.00"`` → (500, None); absent → (None, None)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise ValidationError(_('{where}: tolerance must be a string, e.g. tolerance = "20%" or '
                                'tolerance = "5.00"').format(where=where))
    percent = _PERCENT_RE.fullmatch(value.strip())
    if percent:
        share = int(percent.group(1))
        if share > 100:
            raise ValidationError(_("{where}: tolerance {value} is over 100 %").format(
                where=where, value=value.strip()))
        return None, share
    return _wrapped(where, parse_amount, value), None


def _first_period(value: Any) -> str | None:
    if value is None:
        return None
    found = _PERIOD_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2099:
        raise ValidationError(_('plan: first_period must be a month, e.g. first_period = '
                                '"2026-12"'))
    return value.strip()


def _item(session: Session, table: dict, position: int, where: str,
          notes: list[str], resolve: Callable[[Session, str | int], Payee]) -> ParsedItem:
    _known_keys(table, PAY_KEYS, where)
    kind = _choice(table, "kind", ITEM_KINDS, where)
    payee_text = table.get("payee")
    if payee_text is None:
        raise ValidationError(_("{where}: payee is missing").format(where=where))
    if isinstance(payee_text, bool) or not isinstance(payee_text, (str, int)):
        raise ValidationError(_("{where}: payee must be a payee's name or id").format(
            where=where))
    payee: Payee = _wrapped(where, resolve, session, payee_text)
    bills = _flag(table, "bills", where)
    allow_partial = _partial(table, kind, where)
    paid_by = _choice(table, "paid_by", PAID_BY, where, default="account")
    if bills and "amount" in table:
        raise ValidationError(_("{where}: give amount or bills = true, not both").format(
            where=where))
    amount = None if bills else _amount(table, "amount", where)
    paid_directly = _amount(table, "paid_directly", where, required=False, zero_ok=True) or 0
    if paid_directly and kind != "rent":
        raise ValidationError(_("{where}: paid_directly is the part of the rent Kela pays the "
                                "landlord; only a rent item has one").format(where=where))
    if paid_directly and amount is not None and paid_directly >= amount:
        raise ValidationError(_("{where}: paid_directly {paid_directly} is not less than the "
                                "rent {rent}; an item the account does not pay at all is "
                                'paid_by = "kela_direct"').format(
            where=where, paid_directly=format_fi(paid_directly), rent=format_fi(amount)))
    tag = _string(table, "tag", where, required=False)
    if tag is not None and not _TAG_RE.fullmatch(tag):
        raise ValidationError(_("{where}: tag {tag!r} must be lower-case letters, digits, - and "
                                "_ (at most 40)").format(where=where, tag=tag))
    # Bills carry their own due dates; a schedule on a bills item is allowed but optional.
    schedule = _schedule(table, "due", where, required=not bills)
    reference_text = _string(table, "reference", where, required=False)
    message = _string(table, "message", where, required=False)
    if reference_text is not None and message is not None:
        raise ValidationError(_("{where}: give reference or message, not both").format(
            where=where))
    reference = reference_kind = None
    if reference_text is not None:
        reference_kind, reference = _wrapped(where, classify_reference, reference_text)
    if message is not None:
        message = check_message(message, where, notes)
    if reference is None and message is None and paid_by == "account" and not bills:
        raise ValidationError(_("{where}: give reference or message, so that {payee} can tell "
                                "what the payment is for").format(where=where, payee=payee.name))
    return ParsedItem(position, kind, payee.id, amount, bills, schedule, reference,
                      reference_kind, message, paid_by, allow_partial, paid_directly, tag)


def check_message(message: str, where: str, notes: list[str] | None = None) -> str:
    """A payment message in the form it is stored and paid with (``text.payment_form``).

    When that form differs from what was typed, ``notes`` gets a line saying so.
    """
    line = clean_line(message, f"{where}: message")
    form = payment_form(line, f"{where}: message")
    if len(form) > MAX_MESSAGE_CHARS:
        raise ValidationError(_("{where}: message has {count} characters; at most {most}")
                              .format(where=where, count=len(form), most=MAX_MESSAGE_CHARS))
    if find_hetu(form) is not None:
        raise ValidationError(_("{where}: message contains a henkilötunnus; never put one in a "
                                "payment message").format(where=where))
    if form != line and notes is not None:
        notes.append(_("{where}: message stored as {form!r} for the payment file").format(
            where=where, form=form))
    return form


#: Two account-paid items of a kind that cannot be told apart (one whole sentence each).
SAME_TAG = N_('plan: pay {first} and pay {second} are both {kind} with tag {tag!r}; give one a '
              'tag of its own (tag = "storage"), and keep it in later versions, so that each is '
              "paid once a period")
NO_TAG = N_('plan: pay {first} and pay {second} are both {kind} without a tag; give one a tag '
            'of its own (tag = "storage"), and keep it in later versions, so that each is paid '
            "once a period")


def _tagged(items: tuple[ParsedItem, ...]) -> tuple[ParsedItem, ...]:
    """Check that the account-paid items of one kind can be told apart across plan versions:
    at most one of them without a ``tag`` (it keeps the plain key ``other:<client>:<period>``),
    the others each with a tag of their own (``other-storage:<client>:<period>``)."""
    by_kind: dict[str, list[ParsedItem]] = {}
    for item in items:
        if item.paid_by == "account" and not item.bills:
            by_kind.setdefault(item.kind, []).append(item)
    for kind, same in by_kind.items():
        seen: dict[str | None, int] = {}
        for item in same:
            if item.tag in seen:
                first = seen[item.tag]
                raise ValidationError(_(SAME_TAG if item.tag else NO_TAG).format(
                    first=first, second=item.position, kind=kind, tag=item.tag))
            seen[item.tag] = item.position
    return items


def _partial(table: dict, kind: str, where: str) -> bool:
    """May the item be paid in part when money is short? ``partial`` (DESIGN §12; the older
    spelling ``allow_partial`` is read too): rent by default, nothing else unless it says so."""
    if "partial" in table and "allow_partial" in table:
        raise ValidationError(_("{where}: give partial or allow_partial, not both").format(
            where=where))
    key = "allow_partial" if "allow_partial" in table else "partial"
    if key not in table:
        return kind == "rent"
    return _flag(table, key, where)


def _instalments(table: Any, monthly: int) -> tuple[str | None, str, int | None, int, int]:
    if table is None:
        return None, "even", None, 0, 0
    where = _("plan: instalments")
    if not isinstance(table, dict):
        raise ValidationError(_("{where} must be written as an [instalments] table").format(
            where=where))
    _known_keys(table, INSTALMENT_KEYS, where)
    schedule = _schedule(table, "schedule", where)
    mode = _string(table, "mode", where, required=False)
    if mode is not None and mode not in INSTALMENT_MODES:
        raise ValidationError(_("{where}: mode {mode!r} is not one of {modes}").format(
            where=where, mode=mode, modes=", ".join(INSTALMENT_MODES)))
    amount = _amount(table, "amount", where, required=False)
    if amount is not None:
        if mode == "even":
            raise ValidationError(_('{where}: mode = "even" splits what is left; give it or '
                                    "amount, not both").format(where=where))
        mode = "fixed"
        if amount > monthly:
            raise ValidationError(_("{where}: amount {amount} is larger than the expected "
                                    "monthly income {monthly}").format(
                where=where, amount=format_fi(amount), monthly=format_fi(monthly)))
    elif mode == "fixed":
        raise ValidationError(_('{where}: mode = "fixed" needs amount').format(where=where))
    keep = _amount(table, "keep", where, required=False, zero_ok=True) or 0
    minimum = _amount(table, "minimum", where, required=False, zero_ok=True) or 0
    return schedule, mode or "even", amount, keep, minimum
