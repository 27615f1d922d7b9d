"""The flag a closing leaves: Kela must be told that its payment demand ends (DESIGN §1, §2).

Rules of this module:

- **payment_demand_ends** (subject ``ev241n:<client>:<record>``): a closed client still has a
  Kela payment demand (EV 241N) with no end recorded (``people.records.open_payment_demands``:
  not superseded, no ``--ended``). Kela pays the benefits it covers to the city until told, so
  a handler tells Kela and records the end (``client record CLIENT ev241n --ended DATE``); the
  flag then resolves. Raised at closing (``raise_for``) and judged every
  night (``conditions``, in ``flags.conditions.refresh_flags``); a reopened client's open
  demand is no longer a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date
from valitystili.base.i18n import Message
from valitystili.flags.raising import FlagRaised, raise_flags
from valitystili.store.models import Client, ClientRecord

PAYMENT_DEMAND_ENDS = "payment_demand_ends"
KINDS = (PAYMENT_DEMAND_ENDS,)


def conditions(session: Session, on: date | None = None,
               client_ids: Iterable[int] | None = None) -> list[FlagRaised]:
    """Closed clients' payment demands with no end recorded (``on`` is not needed: the
    condition holds until the record says otherwise)."""
    query = (select(ClientRecord, Client.closed_on)
             .join(Client, Client.id == ClientRecord.client_id)
             .where(Client.status == "closed",
                    ClientRecord.kind == "ev241n"))
    if client_ids is not None:
        query = query.where(ClientRecord.client_id.in_(list(client_ids)))
    rows = session.execute(query.order_by(ClientRecord.id)).all()
    superseded = {record.supersedes_id for record, _ in rows if record.supersedes_id is not None}
    found = []
    for record, closed_on in rows:
        if record.id in superseded or record.end_on is not None:
            continue
        benefits = (record.detail or {}).get("benefits") or Message("the benefits it names")
        found.append(FlagRaised(
            PAYMENT_DEMAND_ENDS, f"ev241n:{record.client_id}:{record.id}", record.client_id,
            None, Message("client {client} was closed on {day}: tell Kela that the payment "
                          "demand (EV 241N, record {record}: {benefits}) ends, then record its "
                          "end: client record {client} ev241n --ended DATE",
                          client=record.client_id, day=format_fi_date(closed_on),
                          record=record.id, benefits=benefits)))
    return found


def raise_for(session: Session, client_id: int, on: date) -> list[FlagRaised]:
    """Raise the flags of one client just closed; returns them (for the closing's result)."""
    found = conditions(session, on, [client_id])
    raise_flags(session, found, on)
    return found
