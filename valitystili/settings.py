"""Deployment settings: defaults here, overrides stored in the ``settings`` table.

Everything a county may need to tune lives in ``DEFAULTS`` with its meaning; nothing else in
the code hard-codes these values.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .models import Setting

DEFAULTS: dict[str, tuple[str, str]] = {
    "four_eyes": ("true", "a batch must be approved by another handler than the one who ran it"),
    "debtor_name": ("Välitystili", "payer name in payment files (the city or county)"),
    "initiating_party_id": ("", "service id / Y-tunnus for pain.001 InitgPty (empty: none)"),
    "pain_version": ("09", "pain.001 version: 09 or 03"),
    "uncleared_after_banking_days": ("3", "an exported order not seen leaving the bank by then is flagged"),
    "suspense_flag_after_days": ("5", "unattributed money older than this is a reconciliation finding"),
    "income_amount_tolerance_cents": ("500", "expected income matches within this many cents"),
    "income_window_days": ("5", "expected income matches within this many days of its date"),
    "income_missing_after_banking_days": ("2", "an expected income not seen by then is flagged"),
    "funds_accumulating_cents": ("200000", "a client balance above this raises a flag"),
    "review_warning_days": ("14", "plans due for review within this many days are flagged"),
    "fixed_term_warning_days": ("30", "fixed-term services ending within this many days are flagged"),
    "lease_warning_days": ("60", "leases ending within this many days are flagged"),
    "free_text_max_chars": ("2000", "comments, reasons and other free texts are at most this long"),
}


def get(session: Session, key: str) -> str:
    if key not in DEFAULTS:
        raise ValidationError(f"unknown setting {key!r}")
    stored = session.execute(select(Setting.value).where(Setting.key == key)).scalar_one_or_none()
    return DEFAULTS[key][0] if stored is None else stored


def get_int(session: Session, key: str) -> int:
    return int(get(session, key))


def get_bool(session: Session, key: str) -> bool:
    return get(session, key).lower() in ("1", "true", "yes", "on")


def put(session: Session, key: str, value: str) -> None:
    if key not in DEFAULTS:
        raise ValidationError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()


def all_settings(session: Session) -> list[dict]:
    stored = dict(session.execute(select(Setting.key, Setting.value)).all())
    return [{"key": k, "value": stored.get(k, default), "default": default, "meaning": meaning}
            for k, (default, meaning) in DEFAULTS.items()]
