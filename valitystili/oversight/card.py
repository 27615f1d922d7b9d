"""The client's card (``client show``): who the client is, their service, money and plan.

It reads across the service (the client, the ledger balance, the plan version in force and
any version waiting for a decision), so it sits above them; the view is in the access log.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.identifiers import format_iban, format_reference, mask_hetu
from valitystili.people.clients import (
    EXCLUSIONS,
    answer_text,
    format_rf,
    resolve_client,
)
from valitystili.people.payees import shown_payment_name
from valitystili.plans.versions import plan_in_force
from valitystili.store.models import Plan
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def show_client(session: Session, actor: Actor, client: str | int, *, show_hetu: bool = False,
                today: date | None = None) -> dict:
    """One client's card with balance and plan; the view is audited."""
    actor.require("client.read")
    if show_hetu:
        actor.require("client.hetu")
    today = today or date.today()
    found = resolve_client(session, client)
    in_force = plan_in_force(session, found.id, today)
    latest = session.execute(
        select(Plan).where(Plan.client_id == found.id).order_by(Plan.version.desc()).limit(1)
    ).scalar_one_or_none()
    pending = latest.version if latest is not None and latest.approved_by is None else None
    answers = found.exclusions or {}
    review_on = found.review_on
    if in_force is not None and in_force.review_on is not None:
        review_on = in_force.review_on
    row = {
        "client": found.id,
        "name": found.name,
        "payment_name": shown_payment_name(found.name, found.payment_name),
        "hetu": found.hetu if show_hetu else mask_hetu(found.hetu),
        "reference": format_reference(found.reference),
        "rf_reference": format_rf(found.rf_reference),
        "status": found.status,
        "criterion": found.criterion,
        "worker": found.worker,
        "language": found.language,
        "iban": format_iban(found.iban),
        "bic": found.bic,
        "start_on": found.start_on,
        "until_on": found.until_on,
        "review_on": review_on,
        "closed_on": found.closed_on,
        "final_payout": found.final_payout,
        **{key: answer_text(answers.get(key)) for key in EXCLUSIONS},
        "despite": answers.get("despite"),
        "balance_cents": ledger.balance(session, found.ledger_code),
        "plan_in_force": in_force.version if in_force is not None else None,
        "plan_effective_on": in_force.effective_on if in_force is not None else None,
        "plan_pending": pending,
        "opened_by": found.created_by,
    }
    audit.record(session, actor.name, "client.view_hetu" if show_hetu else "client.view",
                 client_id=found.id, subject=f"client:{found.id}",
                 detail={"hetu_shown": show_hetu})
    return row
