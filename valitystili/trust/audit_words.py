"""An audit entry in a few words, for ``audit log`` (the trail itself is ``trust.audit``).

Rules of this module:

- One line per entry: the subject, then what changed (``old → new``), counts as ``39 orders``,
  money in the one format (``11 754,40 €``); digests, hashes and times are left out, and what
  the subject already says is not said again.
"""

from __future__ import annotations

from valitystili.base.money import format_count, format_fi

#: Keys a summary names first, in this order (the rest follow alphabetically, as stored).
SUMMARY_FIRST = ("name", "role", "status", "orders", "total_cents", "amount_cents",
                 "execution_on", "effective_on", "version", "file", "entries", "clients",
                 "lines", "flags", "findings", "comment", "reason", "despite")
#: Keys that count things: a summary says ``39 orders``, not ``orders 39``.
COUNTED = {"orders": "order", "entries": "entry", "clients": "client", "lines": "line",
           "flags": "flag", "findings": "finding", "bills": "bill", "leases": "lease",
           "accounts": "account", "statements": "statement"}
#: What an import's per-account counts add up to in its summary.
_IMPORT_COUNTS = ("posted", "already_present", "in_suspense", "returned")


def summary(action: str, subject: str, detail: dict) -> str:
    """An entry in a few words for ``audit log``: ``batch-2026-11-02-1-1: status approved,
    39 orders, total 11 754,40 €, approved by hilla``."""
    parts: list[str] = []
    if action == "import" and isinstance(detail.get("accounts"), list):
        totals = {key: sum(a.get(key) or 0 for a in detail["accounts"] if isinstance(a, dict))
                  for key in _IMPORT_COUNTS}
        parts = [f"{key.replace('_', ' ')} {format_count(n)}" for key, n in totals.items()]
        detail = {k: v for k, v in detail.items() if k != "accounts"}
    old = detail.get("old") if isinstance(detail.get("old"), dict) else {}
    seen: set[str] = set()
    for key, value in _summary_items(detail):
        if key == "old":
            continue
        if key in ("new", "state") and isinstance(value, dict):
            for inner, shown in _summary_items(value):
                before = old.get(inner)
                if before is not None and before != shown and not isinstance(shown, (dict, list)):
                    _add(parts, seen, inner, f"{_words(inner, before)} → {_value(inner, shown)}")
                elif before != shown or key == "state":
                    _add(parts, seen, inner, _words(inner, shown))
        elif key == "transactions" and isinstance(value, dict):
            _add(parts, seen, key, _counted(value.get("count") or 0, "transaction"))
        else:
            _add(parts, seen, key, _words(key, value))
    # What the subject already says is not said again ("as of 2026-11-30: as of 2026-11-30").
    text = ", ".join(part for part in parts if part and part not in subject)
    return f"{subject}: {text}" if subject and text else subject or text


def _summary_items(detail: dict):
    def order(item):
        key = item[0]
        return (SUMMARY_FIRST.index(key) if key in SUMMARY_FIRST else len(SUMMARY_FIRST), key)

    return sorted(((key, value) for key, value in detail.items()
                   if value not in (None, "", [], {})
                   and not key.endswith(("sha256", "digest", "_at"))), key=order)


def _add(parts: list[str], seen: set[str], key: str, text: str) -> None:
    if key not in seen and text and text not in parts:
        seen.add(key)
        parts.append(text)


def _counted(n: int, noun: str) -> str:
    return f"{format_count(n)} {noun if n == 1 else noun + 's'}"


def _value(key: str, value) -> str:
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_fi(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(str(v) for v in value)
        return format_count(len(value))
    if isinstance(value, dict):
        return ", ".join(_words(k, v) for k, v in _summary_items(value)
                         if not isinstance(v, (dict, list)))
    return str(value)


def _words(key: str, value) -> str:
    """``total 11 754,40 €``, ``execution on 2026-11-02``, ``2 incomes``."""
    name = key.removesuffix("_cents").replace("_", " ")
    if key in COUNTED and isinstance(value, int) and not isinstance(value, bool):
        return f"{format_count(value)} {COUNTED[key] if value == 1 else key}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return f"{format_count(len(value))} {name}"
    if isinstance(value, dict):
        shown = _value(key, value)
        return f"{name}: {shown}" if shown else ""
    return f"{name} {_value(key, value)}"
