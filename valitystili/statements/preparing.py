"""Preparing an import: what one file's statements book, decided without writing (DESIGN §7).

:func:`prepare_import` reads the database (accounts, lines already stored, clients, plans,
orders: ``loading``) and returns the file's :class:`~valitystili.statements.bookings.Bookings`:
the ledger entries with their keys, the statement lines, the flags, the order changes. It
writes nothing; ``import --dry-run`` prints it, ``apply.book`` writes it.

Rules of this module:

- **Only booked entries** (``BOOK``) are posted; PDNG and INFO are counted as skipped.
- **Idempotency.** The bank's archive id is the key: an entry is ``bank:<IBAN>:<archive id>`` in
  the ledger and one ``statement_lines`` row (unique per bank account and archive id). The same
  file twice, or overlapping statements, find their lines stored and add nothing ("already
  present"). Items have their own lines (``reading.item_archive_ids``). An archive id already
  imported with another amount, or as an item, refuses the file.
- **The bank side comes from statements** (camt.053, the intraday camt.052, MT940, CSV,
  FinTS): only they move ``bank:<IBAN>``, so the ledger's bank balance is the bank's. A camt.054
  notification never touches the bank account; it *itemises* an entry.
- **The intraday report (camt.052)** is a statement like the others: its booked entries are
  keyed by their archive ids, which the next morning's camt.053 repeats, so the camt.053 finds
  them stored ("already present") and books only what the report did not carry; a camt.054
  itemising a lump the report carried is handled as for a camt.053 (below). Its pending
  entries are skipped like any unbooked entry. Its last balance is interim (ITBD): stored as
  the statement's closing (``reading.reported_balance``), shown in the summary, never checked
  as the day's closing.
- **camt.053 (or camt.052) lump sums itemised in camt.054** (same ``Ntry/AcctSvcrRef``) are booked once in
  either order, through the clearing account ``incoming:<IBAN>`` (liability: money the bank has
  moved or notified that is not yet both on a statement and attributed):

  * 054 first: its items post ``incoming:<IBAN>`` → client / suspense / outgoing (key
    ``itemise:<IBAN>:<archive id>``) at once, so the day's batch can use the money before the
    statement arrives next morning. ``incoming`` now shows the amount as owed by the bank.
    The 053 entry then posts only ``bank`` ↔ ``incoming`` (``bank:<IBAN>:<archive id>``, line
    state ``bank_only``), and ``incoming`` is back to zero.
  * 053 first: the entry is attributed from its own detail, like any statement entry. A lump
    without detail cannot be, so it goes to ``suspense`` with an ``unmatched_income`` flag.
    When the 054 arrives and finds the entry still in suspense, its items post ``suspense`` →
    clients (key ``itemise:…``), the entry line becomes ``bank_only`` and its flag resolves.
  * The first itemisation wins: an entry already attributed on the statement (to a client, an
    order, a handler's assignment) or already itemised leaves the other file's items unbooked
    ("already present"). Either order ends with the same balances; a camt.054 entry that no
    statement has carried yet leaves its amount in ``incoming`` until one does.
- **Opening balance.** The first statement with balances for an account books its opening
  balance ``bank`` → ``suspense`` (key ``opening:<IBAN>``, dated the day before an OPBD, or the
  PRCD day) and flags it ``unmatched_income``: money held but not yet attributed. Every later
  statement's opening balance is compared with the ledger's bank balance on that day; a
  difference is a warning in the summary (reconciliation proper is ``reconcile``'s), never an
  adjustment. Each statement's opening and closing balances are stored on ``statements``.
- **Where a line's money goes** (a client, a returned order's client, ``outgoing`` for a
  cleared order, else ``suspense`` and a flag) is decided by ``deciding``.
- Every line names the ledger transaction that booked it (``ledger_key``); an itemisation
  that leaves everything in suspense still posts (suspense to suspense), so ``reconcile`` finds
  every line booked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy.orm import Session

import ledger
from imports.records import Entry as BankEntry
from imports.records import Item
from imports.records import Statement as BankStatement
from valitystili.base.accounts import SUSPENSE, incoming_account
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import Message, _
from valitystili.base.money import format_fi
from valitystili.statements import loading
from valitystili.statements.bookings import (
    Bookings,
    Counts,
    LineChange,
    NewLine,
    NewStatement,
    entry_key,
    itemise_key,
    opening_key,
)
from valitystili.statements.deciding import Decider, Decision
from valitystili.statements.loading import StoredLine
from valitystili.statements.reading import (
    BOOKED,
    CityAccount,
    check_statements,
    item_archive_ids,
    reported_balance,
)
from valitystili.statements.sources import NOTIFICATION_SOURCES, STATEMENT_SOURCES
from valitystili.store.models import ASSIGNED, BANK_ONLY, IN_SUSPENSE, StatementLine

LINES = StatementLine.__table__
#: The longest text each line field stores (the ``statement_lines`` column); longer is cut.
LENGTHS = {name: LINES.c[name].type.length for name in (
    "counterparty_name", "counterparty_iban", "reference", "end_to_end_id", "bank_code",
    "return_reason")}


class _Preparer:
    """Walks the statements of one file in order and collects its bookings (reads, never writes)."""

    def __init__(self, session: Session, banks: dict[str, CityAccount], file_name: str, today: date,
                 calendar: BankingCalendar, progress: Callable[[int], None] | None):
        self.session = session
        self.banks = banks
        self.file_name = file_name
        self.today = today
        self.progress = progress
        self.statements: list[NewStatement] = []
        self._statement_index: dict[tuple[int, str, str], int] = {}
        self.entries: list[ledger.Entry] = []
        self.lines: list[NewLine] = []
        self.line_changes: list[LineChange] = []
        self.counts: dict[str, Counts] = {}
        self.known: dict[int, dict[str, StoredLine | NewLine]] = defaultdict(dict)
        self.itemised: dict[int, set[str]] = defaultdict(set)
        self.bank_moves: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self.has_opening: dict[int, bool] = {}
        self._e2e_ids: set[str] = set()
        self.decider = Decider(
            lambda: loading.load_directory(session, calendar),
            lambda: loading.load_orders(session, self._e2e_ids,
                                        [b.id for b in banks.values()], calendar))

    # --- loading what the file can touch (``loading``: one query per kind, chunked) ------------

    def preload(self, statements: Sequence[BankStatement]) -> None:
        wanted: dict[int, set[str]] = defaultdict(set)
        parents: dict[int, set[str]] = defaultdict(set)
        for statement in statements:
            bank = self.banks[statement.iban]
            for entry in statement.entries:
                if entry.status != BOOKED:
                    continue
                wanted[bank.id].add(entry.archive_id)
                parents[bank.id].add(entry.archive_id)
                if len(entry.items) > 1 or statement.source in NOTIFICATION_SOURCES:
                    wanted[bank.id].update(item_archive_ids(entry))
                for item in entry.items:
                    if item.end_to_end_id:
                        self._e2e_ids.add(item.end_to_end_id)
        self.known.update(loading.stored_lines(self.session, wanted))
        self.itemised.update(loading.itemised_entries(self.session, parents))

    # --- statements -------------------------------------------------------------------------------

    def statement(self, statement: BankStatement) -> None:
        bank = self.banks[statement.iban]
        counts = self.counts.setdefault(bank.iban, Counts())
        if statement.source not in counts.sources:
            counts.sources.append(statement.source)
        counts.statements += 1
        index, is_new = self._statement_row(bank, statement)
        if statement.opening is not None and counts.opening_cents is None:
            counts.opening_cents = statement.opening.amount_cents
        if statement.source in STATEMENT_SOURCES and is_new:
            self._opening(bank, statement, counts)
        closing = reported_balance(statement)
        if closing is not None:
            counts.closing_cents = closing.amount_cents
        notification = statement.source in NOTIFICATION_SOURCES
        for entry in statement.entries:
            counts.entries += 1
            if entry.status != BOOKED:
                counts.skipped += 1
            elif notification:
                self._notified_entry(index, bank, statement, entry, counts)
            else:
                self._statement_entry(index, bank, statement, entry, counts)
            if self.progress is not None:
                self.progress(1)

    def _statement_row(self, bank: CityAccount, statement: BankStatement) -> tuple[int, bool]:
        ident = (bank.id, statement.source, statement.statement_id)
        if ident in self._statement_index:
            return self._statement_index[ident], False
        existing = loading.stored_statement(self.session, bank.id, statement.source,
                                            statement.statement_id)
        opening, closing = statement.opening, reported_balance(statement)
        index = len(self.statements)
        self.statements.append(NewStatement(
            index=index, bank_account_id=bank.id, iban=bank.iban, source=statement.source,
            statement_id=statement.statement_id, existing_id=existing,
            from_on=statement.from_on, to_on=statement.to_on,
            opening_cents=opening.amount_cents if opening else None,
            opening_on=opening.on if opening else None,
            closing_cents=closing.amount_cents if closing else None,
            closing_on=closing.on if closing else None,
        ))
        self._statement_index[ident] = index
        return index, existing is None

    def _opening(self, bank: CityAccount, statement: BankStatement, counts: Counts) -> None:
        opening = statement.opening
        if opening is None:
            return
        day = opening.on - timedelta(days=1) if opening.code == "OPBD" else opening.on
        if bank.id not in self.has_opening:
            self.has_opening[bank.id] = loading.opening_known(self.session, bank)
        if not self.has_opening[bank.id]:
            self.has_opening[bank.id] = True
            if opening.amount_cents:
                key = opening_key(bank.iban)
                self.entries.append(ledger.Entry(
                    key, ((bank.ledger_code, opening.amount_cents),
                          (SUSPENSE, -opening.amount_cents)),
                    day, description=f"opening balance of {bank.iban} "
                                     f"(statement {statement.statement_id})"))
                self.bank_moves[bank.id].append((day, opening.amount_cents))
                self.decider.flag("unmatched_income", key, None, opening.amount_cents,
                                  Message("opening balance {amount} of the first statement is "
                                          "in suspense: money held before the ledger, not yet "
                                          "attributed to clients",
                                          amount=format_fi(opening.amount_cents)))
            return
        ledger_then = ledger.balance(self.session, bank.ledger_code, day) + sum(
            amount for booked_on, amount in self.bank_moves[bank.id] if booked_on <= day)
        if ledger_then != opening.amount_cents:
            counts.warnings.append(Message(
                "statement {statement} of {iban} opens with {opening} on {on}, the ledger has "
                "{ledger} (difference {difference})",
                statement=statement.statement_id, iban=bank.iban,
                opening=format_fi(opening.amount_cents), on=opening.on.isoformat(),
                ledger=format_fi(ledger_then),
                difference=format_fi(opening.amount_cents - ledger_then)))

    # --- entries ----------------------------------------------------------------------------------

    def _statement_entry(self, index: int, bank: CityAccount, statement: BankStatement,
                         entry: BankEntry, counts: Counts) -> None:
        archive_id = entry.archive_id
        known = self.known[bank.id].get(archive_id)
        if known is not None:
            self._same_entry(bank, entry, known)
            counts.already_present += 1
            return
        key = entry_key(bank.iban, archive_id)
        booked_on = entry.booked_on
        self.bank_moves[bank.id].append((booked_on, entry.amount_cents))
        legs: list[tuple[str, int]] = [(bank.ledger_code, entry.amount_cents)]
        if archive_id in self.itemised[bank.id]:
            # Itemised by a camt.054 already: its items hold the attribution.
            legs.append((incoming_account(bank.iban), -entry.amount_cents))
            self._line(index, bank, entry, entry.items[0] if len(entry.items) == 1 else None,
                       archive_id, None, "entry", entry.amount_cents,
                       Decision("", BANK_ONLY, None), key, counts)
        elif len(entry.items) == 1:
            item = entry.items[0]
            decision = self.decider.decide(archive_id, item, entry.amount_cents, booked_on,
                                           entry.reversal, counts, detail_hint=True)
            legs.append((decision.account, -entry.amount_cents))
            self._line(index, bank, entry, item, archive_id, None, "entry", entry.amount_cents,
                       decision, key, counts)
        else:
            self._line(index, bank, entry, None, archive_id, None, "entry", entry.amount_cents,
                       Decision("", BANK_ONLY, None), key, counts)
            legs.extend(self._items(index, bank, entry, key, counts))
            self.itemised[bank.id].add(archive_id)
        self._post(key, legs, booked_on, entry.value_on,
                   f"{statement.source} {statement.statement_id} entry {entry.position}")
        counts.posted += 1

    def _notified_entry(self, index: int, bank: CityAccount, statement: BankStatement,
                        entry: BankEntry, counts: Counts) -> None:
        archive_id = entry.archive_id
        if archive_id in self.itemised[bank.id]:
            counts.already_present += 1
            return
        known = self.known[bank.id].get(archive_id)
        if known is not None:
            self._same_entry(bank, entry, known)
            if known.state != IN_SUSPENSE or not isinstance(known, StoredLine):
                if known.state == ASSIGNED:
                    counts.warnings.append(Message(
                        "{line} was assigned by hand to client {client} before its {source} "
                        "itemisation arrived; the items are not booked",
                        line=archive_id, client=known.client_id, source=statement.source))
                counts.already_present += 1
                return
            # On a statement already, unattributed: the items take the money out of suspense.
            source = SUSPENSE
            self.line_changes.append(LineChange(known.id, archive_id, BANK_ONLY))
            known.state = BANK_ONLY
            self.decider.resolve(
                "unmatched_income" if entry.amount_cents > 0 else "unmatched_debit", archive_id)
        else:
            # Items the bank already booked as entries of their own are on clients already:
            # a notification made only of them adds nothing; one mixing them is not credible.
            known_ids = self.known[bank.id]
            booked = [aid for aid in item_archive_ids(entry)
                      if aid in known_ids and known_ids[aid].level == "entry"]
            if booked and len(booked) == len(entry.items):
                counts.already_present += 1
                return
            if booked:
                raise ValidationError(
                    _("{file}: entry {archive_id} itemises {item}, which the bank already booked "
                      "as an entry of its own; nothing was imported").format(
                        file=self.file_name, archive_id=entry.archive_id, item=booked[0]))
            source = incoming_account(bank.iban)
        key = itemise_key(bank.iban, archive_id)
        legs = [(source, entry.amount_cents)]
        legs.extend(self._items(index, bank, entry, key, counts))
        self.itemised[bank.id].add(archive_id)
        self._post(key, legs, entry.booked_on, entry.value_on,
                   f"{statement.source} {statement.statement_id} entry {entry.position}")
        counts.posted += 1

    def _items(self, index: int, bank: CityAccount, entry: BankEntry, key: str, counts: Counts
               ) -> list[tuple[str, int]]:
        legs = []
        single = len(entry.items) == 1
        for position, (item, archive_id) in enumerate(zip(entry.items, item_archive_ids(entry)),
                                                      start=1):
            amount = entry.amount_cents if single else item.amount_cents
            if archive_id in self.known[bank.id]:
                # The bank used this item id for another line too: number it under its entry.
                archive_id = f"{entry.archive_id}/{position}"
            if amount == 0:
                continue
            decision = self.decider.decide(archive_id, item, amount, entry.booked_on,
                                           entry.reversal, counts, detail_hint=False)
            legs.append((decision.account, -amount))
            self._line(index, bank, entry, item, archive_id, entry.archive_id, "item", amount,
                       decision, key, counts)
        return legs

    def _same_entry(self, bank: CityAccount, entry: BankEntry, known: StoredLine | NewLine) -> None:
        if known.level != "entry":
            raise ValidationError(
                _("{file}: entry {archive_id} has the archive id of an item already imported")
                .format(file=self.file_name, archive_id=entry.archive_id))
        if known.amount_cents != entry.amount_cents:
            raise ValidationError(
                _("{file}: entry {archive_id} was imported with amount {known}, this file says "
                  "{amount}").format(file=self.file_name, archive_id=entry.archive_id,
                                     known=format_fi(known.amount_cents),
                                     amount=format_fi(entry.amount_cents)))

    # --- collecting -------------------------------------------------------------------------------

    def _line(self, index: int, bank: CityAccount, entry: BankEntry, item: Item | None,
              archive_id: str, parent: str | None, level: str, amount: int,
              decision: Decision, key: str | None, counts: Counts) -> None:
        self.lines.append(NewLine(
            statement_index=index, bank_account_id=bank.id, archive_id=archive_id,
            parent_archive_id=parent, level=level, booked_on=entry.booked_on,
            value_on=entry.value_on, amount_cents=amount,
            counterparty_name=_cut(item.counterparty_name, "counterparty_name") if item else None,
            counterparty_iban=_cut(item.counterparty_iban, "counterparty_iban") if item else None,
            reference=_cut(item.reference, "reference") if item else None,
            message=item.message if item else None,
            end_to_end_id=_cut(item.end_to_end_id, "end_to_end_id") if item else None,
            bank_code=_cut(entry.bank_code, "bank_code"),
            return_reason=_cut(item.return_reason, "return_reason") if item else None,
            client_id=decision.client_id, order_id=decision.order_id,
            match_rule=decision.rule, state=decision.state, ledger_key=key,
        ))
        self.known[bank.id][archive_id] = self.lines[-1]
        counts.new_lines += 1

    def _post(self, key: str, legs: Iterable[tuple[str, int]], booked_on: date,
              value_on: date | None, description: str) -> None:
        # Legs are not merged: an itemisation from suspense back to suspense (nobody matched)
        # still posts, so every line names a ledger transaction (reconcile checks it).
        kept = tuple((code, amount) for code, amount in legs if amount)
        self.entries.append(ledger.Entry(key, kept, booked_on, value_on, description))

    # --- result -----------------------------------------------------------------------------------

    def result(self, file_sha256: str | None) -> Bookings:
        summaries = []
        for iban, counts in self.counts.items():
            bank = self.banks[iban]
            predicted = ledger.balance(self.session, bank.ledger_code) + sum(
                amount for _day, amount in self.bank_moves[bank.id])
            summaries.append(counts.summary(self.file_name, iban, predicted))
        return Bookings(
            file_name=self.file_name, file_sha256=file_sha256, today=self.today,
            statements=tuple(self.statements), entries=tuple(self.entries),
            lines=tuple(self.lines), line_changes=tuple(self.line_changes),
            flags=tuple(self.decider.flags.values()),
            resolved_flags=tuple(self.decider.resolved),
            order_changes=tuple(self.decider.order_changes.values()), summaries=tuple(summaries),
        )


def _cut(text: str | None, column: str) -> str | None:
    length = LENGTHS[column]
    return text if text is None or len(text) <= length else text[:length]


def prepare_import(session: Session, statements: Sequence[BankStatement], *, file_name: str,
                   file_sha256: str | None = None, today: date | None = None,
                   calendar: BankingCalendar = CALENDAR,
                   progress: Callable[[int], None] | None = None,
                   banks: dict[str, CityAccount] | None = None) -> Bookings:
    """What importing these statements would book (see the module rules); writes nothing.

    ``banks``: the accounts ``reading.check_statements`` returned for these statements, when
    the caller has checked them already."""
    if banks is None:
        banks = check_statements(session, statements, file_name)
    preparer = _Preparer(session, banks, file_name, today or date.today(), calendar, progress)
    preparer.preload(statements)
    for statement in statements:
        preparer.statement(statement)
    return preparer.result(file_sha256)
