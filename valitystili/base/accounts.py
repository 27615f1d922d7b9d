"""The chart of accounts: the ledger account codes the service uses (DESIGN §4).

Rules of this module:

- Every code the service posts to is named here and nowhere else: one asset account per city
  bank account (``bank:<IBAN>``), one liability per client (``client:<number>``), and the pooled
  liabilities ``outgoing`` (payments ordered, not yet cleared), ``suspense`` (money received, not
  yet attributed to a client) and ``incoming:<IBAN>`` (notified or booked by the bank, not yet
  both on a statement and attributed: the clearing account of camt.053 lump sums itemised in
  camt.054, DESIGN §7).
- Names only: opening the accounts is the work of ``people.banks`` (bank and pooled accounts)
  and ``people.clients`` (client accounts).
"""

from __future__ import annotations

SUSPENSE = "suspense"
OUTGOING = "outgoing"
BANK_PREFIX = "bank:"
CLIENT_PREFIX = "client:"
INCOMING_PREFIX = "incoming:"

#: The names the pooled accounts are opened with (``incoming:<IBAN>`` has one for every IBAN).
POOLED_NAMES = {
    OUTGOING: "payments ordered, not yet cleared",
    SUSPENSE: "money not yet attributed",
}
INCOMING_NAME = "notified or booked by the bank, not yet both on a statement and attributed"


def bank_account(iban: str) -> str:
    """The asset account of one of the city's bank accounts."""
    return f"{BANK_PREFIX}{iban}"


def client_account(client_id: int) -> str:
    """The liability account holding one client's money."""
    return f"{CLIENT_PREFIX}{client_id}"


def incoming_account(iban: str) -> str:
    """The clearing account of one bank account's itemised lump sums."""
    return f"{INCOMING_PREFIX}{iban}"


def is_pooled(code: str) -> bool:
    """``outgoing``, ``suspense`` or an ``incoming:<IBAN>``: the service opens them itself."""
    return code in POOLED_NAMES or code.startswith(INCOMING_PREFIX)


def pooled_name(code: str) -> str:
    return POOLED_NAMES.get(code, INCOMING_NAME)
