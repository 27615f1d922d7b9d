"""Matching incoming money to clients (DESIGN §7). Pure: no database, no clock.

A :class:`Directory` is built once per imported file from the clients and the expected incomes
of the plans in force; :meth:`Directory.match` then decides each incoming credit by these rules,
in this order. The first rule that names exactly one client decides. A rule that names *several*
clients stops the search: the money goes to suspense with the reason (never a guess).

1. ``reference`` — the client's own reference number: the structured creditor reference
   (Finnish, leading zeros ignored as banks ignore them, or RF — an RF whose body is a client's
   Finnish reference counts as that reference). Without a structured reference, a client
   reference written as a whole word in the message counts too (its check digit makes a chance
   hit on another number unlikely). A reference that is not valid, or belongs to no client, does
   not stop the search.
2. ``hetu`` — a valid personal identity code in the message that belongs to a client. Identity
   codes of people who are not clients are ignored.
3. ``expected_income`` — an ``[[income]]`` of a plan in force on the booking date (open clients
   only) whose source is the payer (``Kela`` ~ ``KANSANELÄKELAITOS``; see :data:`PAYER_ALIASES`),
   whose amount is within that income's own tolerance (``ExpectedIncome.tolerance_cents``, from
   :func:`valitystili.plans.expected.income_tolerance_cents`) and whose arrival day (the
   schedule shifted by Kela's payment-day rules, :func:`valitystili.plans.expected.income_arrivals`) is within the window of
   the booking date. Several clients expect the same Kela payment on the same day, so the client's
   name in the message narrows the candidates: when the message names clients, only those count;
   a single candidate whom the message does not name while it names another client is not
   taken.
4. ``none`` — suspense; the caller raises an ``unmatched_income`` flag with :attr:`Match.reason`.

Names and payers are compared case- and accent-insensitively (banks often drop ä and ö), word
by word: a client's name is in a message when every word of the name is a word of the message.
Closed clients are still matched by rules 1 and 2 (the caller credits them and flags it); rule 3
looks only at open clients, whose plans are what is expected.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher
from functools import lru_cache

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, Message
from valitystili.base.identifiers import classify_reference, hetu_spans
from valitystili.plans.expected import income_arrivals

REFERENCE = "reference"
HETU = "hetu"
EXPECTED_INCOME = "expected_income"
NONE = "none"
RULES = (REFERENCE, HETU, EXPECTED_INCOME, NONE)

#: Payers known under several names. Each group is one payer; the words are already normalised
#: (lower case, no accents). Kela's payments carry its Finnish or Swedish name or an abbreviation.
PAYER_ALIASES: tuple[frozenset[str], ...] = (
    frozenset({"kela", "kela fpa", "fpa", "kansanelakelaitos", "folkpensionsanstalten",
               "the social insurance institution of finland"}),
    frozenset({"elaketurvakeskus", "etk", "pensionsskyddscentralen"}),
    frozenset({"tyollisyysrahasto", "sysselsattningsfonden"}),
)

#: How alike two payer names must be (difflib ratio) when neither contains the other.
PAYER_SIMILARITY = 0.85

_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# A reference written in a message: a whole word of 4-20 digits, or RF + check digits + body.
_MESSAGE_REFERENCE_RE = re.compile(
    r"(?<![0-9A-Za-z])(RF[0-9]{2}[0-9A-Za-z]{1,21}|[0-9]{4,20})(?![0-9A-Za-z])", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class KnownClient:
    """What matching needs to know of a client."""

    id: int
    name: str
    hetu: str
    reference: str
    rf_reference: str
    ledger_code: str
    open: bool = True


@dataclass(frozen=True, slots=True)
class ExpectedIncome:
    """One ``[[income]]`` of one plan version, with the days that version is in force."""

    client_id: int
    source: str
    kind: str
    amount_cents: int
    tolerance_cents: int       # how far a credit's amount may differ from ``amount_cents``
    schedule: str
    in_force_from: date
    in_force_until: date | None = None  # exclusive; None while no later version exists


@dataclass(frozen=True, slots=True)
class Credit:
    """An incoming credit as matching sees it (one statement entry or one camt.054 item)."""

    amount_cents: int
    booked_on: date
    reference: str | None = None
    message: str | None = None
    counterparty_name: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """The decision: which rule named which client, and in words why (or why nobody).

    ``why`` is the reason as a message, or as its template and values when a client was found:
    every matched line has one, few are read, so the message is made only when asked for."""

    rule: str
    client_id: int | None
    why: Message | tuple[str, dict]

    @property
    def reason(self) -> Message:
        if isinstance(self.why, Message):
            return self.why
        template, values = self.why
        return Message(template, **values)


#: Why a rule named its client (``Match.reason``).
BY_REFERENCE = N_("reference {reference}")
BY_REFERENCE_IN_MESSAGE = N_("reference {reference} in the message")
BY_HETU = N_("identity code in the message")
BY_INCOME_AND_NAME = N_("expected income from {payer}, client's name in the message")
BY_INCOME = N_("expected income from {payer}")


# --- normalisation ---------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents: ``HÄMÄLÄINEN`` → ``hamalainen``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str | None) -> tuple[str, ...]:
    """The folded words (letters only, at least two) of a text."""
    if not text:
        return ()
    return tuple(w for w in _WORD_RE.findall(fold(text)) if len(w) >= 2)


def payer_matches(source: str, payer: str | None) -> bool:
    """True when the plan's income source and the statement's payer name are the same payer."""
    if not payer:
        return False
    a, b = " ".join(words(source)), " ".join(words(payer))
    if not a or not b:
        return False
    if a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} ":
        return True
    for group in PAYER_ALIASES:
        if _names_group(a, group) and _names_group(b, group):
            return True
    return SequenceMatcher(None, a, b).ratio() >= PAYER_SIMILARITY


def _names_group(name: str, group: frozenset[str]) -> bool:
    padded = f" {name} "
    return any(f" {alias} " in padded for alias in group)


def normalise_reference(text: str | None) -> tuple[str | None, str]:
    """(lookup key, note): ``("F:12345672", "")`` for a valid Finnish reference (leading zeros
    dropped), ``("R:RF…", "")`` for a valid RF one; ``(None, why)`` when invalid or absent."""
    if not text or not text.strip():
        return None, ""
    try:
        kind, value = classify_reference(text)
    except ValidationError as error:
        return None, str(error)
    if kind == "SCOR":
        return "F:" + value.lstrip("0"), ""
    return "R:" + value, ""


def hetus_in(message: str | None) -> list[str]:
    """Every valid identity code in a message, upper case, in order, without repeats."""
    found: list[str] = []
    for _at, code in hetu_spans(message or ""):
        if code not in found:
            found.append(code)
    return found


# --- the directory ---------------------------------------------------------------------------


class Directory:
    """Clients and expected incomes indexed for matching; built once per imported file."""

    def __init__(
        self,
        clients: Iterable[KnownClient],
        expected: Iterable[ExpectedIncome] | Callable[[], Iterable[ExpectedIncome]] = (),
        *,
        window_days: int = 5,
        calendar: BankingCalendar = CALENDAR,
    ) -> None:
        self.clients: dict[int, KnownClient] = {}
        self._by_reference: dict[str, int] = {}
        self._by_hetu: dict[str, int] = {}
        self._by_word: dict[str, list[int]] = defaultdict(list)
        self._name_words: dict[int, frozenset[str]] = {}
        for client in clients:
            self.clients[client.id] = client
            if client.reference:
                self._by_reference["F:" + client.reference.lstrip("0")] = client.id
            if client.rf_reference:
                self._by_reference["R:" + client.rf_reference.upper()] = client.id
            if client.hetu:
                self._by_hetu[client.hetu.upper()] = client.id
        self._names_indexed = False
        # A callable is asked only when a credit gets as far as rule 3 (most never do).
        self._expected_source = expected
        self._expected_list: list[ExpectedIncome] | None = None
        self._expected_by_payer: dict[str, _PayerIncomes] = {}
        self.window_days = window_days
        self.calendar = calendar

    def client_by_reference(self, reference: str | None) -> int | None:
        key, _note = normalise_reference(reference)
        return None if key is None else self._lookup_reference(key)

    def _lookup_reference(self, key: str) -> int | None:
        found = self._by_reference.get(key)
        if found is None and key.startswith("R:"):
            # An RF reference made from a Finnish one: RF + 2 check digits + the Finnish reference.
            body = key[6:]
            if body.isdigit():
                found = self._by_reference.get("F:" + body.lstrip("0"))
        return found

    # --- the rules -----------------------------------------------------------------------------

    def match(self, credit: Credit) -> Match:
        """Decide one credit (see the module rules)."""
        notes: list[str] = []
        for rule in (self._by_reference_rule, self._by_hetu_rule, self._by_expected_income):
            decided = rule(credit, notes)
            if decided is not None:
                return decided
        return Match(NONE, None, Message.joined("; ", notes) if notes
                     else Message("nothing identifies a client"))

    def _by_reference_rule(self, credit: Credit, notes: list[str]) -> Match | None:
        if credit.reference:
            # Fast path: a stored client reference is valid by construction, so a reference
            # found as it stands needs no check-digit arithmetic (most credits, at 100 000 a file).
            compact = credit.reference.replace(" ", "")
            if compact.isascii() and compact.isdigit():
                found = self._by_reference.get("F:" + compact.lstrip("0"))
            elif compact[:2].upper() == "RF":
                found = self._by_reference.get("R:" + compact.upper())
            else:
                found = None
            if found is not None:
                return Match(REFERENCE, found, (BY_REFERENCE, {"reference": credit.reference}))
            key, _problem = normalise_reference(credit.reference)
            if key is None:
                notes.append(Message("reference {reference} is not valid",
                                     reference=credit.reference))
            else:
                client = self._lookup_reference(key)
                if client is not None:
                    return Match(REFERENCE, client, (BY_REFERENCE, {"reference": credit.reference}))
                notes.append(Message("reference {reference} is no client's",
                                     reference=credit.reference))
            return None
        if not credit.message:
            return None
        named: dict[int, str] = {}
        for token in _MESSAGE_REFERENCE_RE.findall(credit.message):
            key, _problem = normalise_reference(token)
            client = self._lookup_reference(key) if key else None
            if client is not None:
                named.setdefault(client, token)
        if len(named) == 1:
            [(client, token)] = named.items()
            return Match(REFERENCE, client, (BY_REFERENCE_IN_MESSAGE, {"reference": token}))
        if len(named) > 1:
            return Match(NONE, None, Message("the message has references of clients {clients}",
                                             clients=_ids(named)))
        return None

    def _by_hetu_rule(self, credit: Credit, notes: list[str]) -> Match | None:
        clients = sorted({self._by_hetu[h] for h in hetus_in(credit.message) if h in self._by_hetu})
        if len(clients) == 1:
            return Match(HETU, clients[0], (BY_HETU, {}))
        if len(clients) > 1:
            return Match(NONE, None, Message("the message has identity codes of clients "
                                             "{clients}", clients=_ids(clients)))
        return None

    def _by_expected_income(self, credit: Credit, notes: list[str]) -> Match | None:
        if not credit.counterparty_name or not self._expected:
            return None
        payer = credit.counterparty_name
        incomes = self._incomes_of_payer(payer)
        named = self.clients_named_in(credit.message)
        if named:
            # The named candidates first: a payer like Kela has an income near almost any
            # amount for thousands of clients, the message names one or two of them.
            chosen = {client for client in named if self._expects(incomes, client, credit)}
            if len(chosen) == 1:
                [client] = chosen
                return Match(EXPECTED_INCOME, client, (BY_INCOME_AND_NAME, {"payer": payer}))
            if chosen:
                return Match(NONE, None, Message(SEVERAL_EXPECTING, payer=payer,
                                                 clients=_ids(chosen)))
        candidates = self._candidates(incomes, credit)
        if not candidates:
            return None
        if named:
            return Match(NONE, None, Message("expected income from {payer} of clients "
                                             "{clients}, but the message names clients {named}",
                                             payer=payer, clients=_ids(candidates),
                                             named=_ids(named)))
        if len(candidates) == 1:
            [client] = candidates
            return Match(EXPECTED_INCOME, client, (BY_INCOME, {"payer": payer}))
        return Match(NONE, None, Message(SEVERAL_EXPECTING, payer=payer,
                                         clients=_ids(candidates)))

    def _candidates(self, incomes: _PayerIncomes, credit: Credit) -> set[int]:
        """The open clients expecting an income of this payer near the credit's amount, on
        its booking date."""
        candidates: set[int] = set()
        for income in incomes.near(credit.amount_cents):
            if income.client_id in candidates or not self._expected_on(income, credit.booked_on):
                continue
            client = self.clients.get(income.client_id)
            if client is not None and client.open:
                candidates.add(income.client_id)
        return candidates

    def _expects(self, incomes: _PayerIncomes, client_id: int, credit: Credit) -> bool:
        """Whether one client is a candidate of :meth:`_candidates` (the same test, for one)."""
        client = self.clients.get(client_id)
        if client is None or not client.open:
            return False
        return any(self._expected_on(income, credit.booked_on)
                   for income in incomes.of_client(client_id, credit.amount_cents))

    @property
    def _expected(self) -> list[ExpectedIncome]:
        if self._expected_list is None:
            source = self._expected_source
            self._expected_list = list(source() if callable(source) else source)
        return self._expected_list

    def _incomes_of_payer(self, payer: str) -> _PayerIncomes:
        cached = self._expected_by_payer.get(payer)
        if cached is None:
            cached = _PayerIncomes([i for i in self._expected if payer_matches(i.source, payer)])
            self._expected_by_payer[payer] = cached
        return cached

    def _expected_on(self, income: ExpectedIncome, booked_on: date) -> bool:
        if booked_on < income.in_force_from:
            return False
        if income.in_force_until is not None and booked_on >= income.in_force_until:
            return False
        return bool(_arrivals(income.kind, income.schedule, booked_on, self.window_days,
                              self.calendar))

    # --- names ---------------------------------------------------------------------------------

    def clients_named_in(self, message: str | None) -> set[int]:
        """Clients whose every name word is a word of the message."""
        tokens = set(words(message))
        if not tokens:
            return set()
        if not self._names_indexed:
            for client in self.clients.values():
                name_words = frozenset(words(client.name))
                if name_words:
                    self._name_words[client.id] = name_words
                    self._by_word[min(name_words)].append(client.id)
            self._names_indexed = True
        found: set[int] = set()
        for token in tokens:
            for client_id in self._by_word.get(token, ()):
                if self._name_words[client_id] <= tokens:
                    found.add(client_id)
        return found


class _PayerIncomes:
    """One payer's expected incomes by amount: those a credit's amount is within the tolerance
    of, found by bisection over the widest tolerance, then each income's own."""

    def __init__(self, incomes: list[ExpectedIncome]) -> None:
        self.incomes = sorted(incomes, key=lambda i: i.amount_cents)
        self.amounts = [i.amount_cents for i in self.incomes]
        self.widest = max((i.tolerance_cents for i in self.incomes), default=0)
        self._by_client: dict[int, list[ExpectedIncome]] | None = None

    def of_client(self, client_id: int, amount_cents: int) -> list[ExpectedIncome]:
        """One client's incomes among :meth:`near` ``(amount_cents)`` (indexed on first use)."""
        if self._by_client is None:
            self._by_client = defaultdict(list)
            for income in self.incomes:
                self._by_client[income.client_id].append(income)
        return [i for i in self._by_client.get(client_id, ())
                if abs(amount_cents - i.amount_cents) <= i.tolerance_cents]

    def near(self, amount_cents: int) -> list[ExpectedIncome]:
        low = bisect_left(self.amounts, amount_cents - self.widest)
        high = bisect_right(self.amounts, amount_cents + self.widest)
        return [i for i in self.incomes[low:high]
                if abs(amount_cents - i.amount_cents) <= i.tolerance_cents]


@lru_cache(maxsize=65536)
def _arrivals(kind: str, schedule: str, booked_on: date, window_days: int,
              calendar: BankingCalendar) -> tuple:
    window = timedelta(days=window_days)
    try:
        return tuple(income_arrivals(kind, schedule, booked_on - window, booked_on + window,
                                     calendar))
    except ValidationError:
        return ()  # a schedule the plan check let through but the calendar cannot place


#: Why a credit is not attributed: several clients expect such an income from its payer.
SEVERAL_EXPECTING = N_("expected income from {payer} of several clients: {clients}")


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids))
