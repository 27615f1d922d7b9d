"""``audit log`` shows each entry in words (issue 13): the subject and what the detail says, money
as ``1 234,56 €``, counts as ``39 orders``, digests and hashes left out, nothing said twice."""

from __future__ import annotations

import pytest

from valitystili.trust.audit_words import summary

NBSP = "\u00a0"

BATCH_STATE = {"approved_by": "hilla", "approved_digest": "d616" * 16, "created_by": "hannu",
               "orders": 39, "status": "approved", "total_cents": 1175440}


@pytest.mark.parametrize(("action", "subject", "detail", "words"), [
    ("user.add", "user:sanna", {"full_name": "", "state": {"role": "social_worker"}},
     "user:sanna: role social_worker"),
    ("batch.approve", "batch-2026-11-02-1-1",
     {"orders": 39, "state": BATCH_STATE, "total_cents": 1175440,
      "transactions": {"count": 39, "first_id": 2, "keys_digest": "9097" * 16, "last_id": 40}},
     (f"batch-2026-11-02-1-1: 39 orders, total 11{NBSP}754,40{NBSP}€, status approved, "
     "approved by hilla, created by hannu, 39 transactions")),
    ("plan.approve", "plan:9:1",
     {"despite": None, "effective_on": "2026-11-01", "problems": [], "version": 1,
      "new": {"approved_at": "2026-11-30 01:35:13", "approved_by": "hannu"},
      "old": {"approved_at": None, "approved_by": None}},
     "plan:9:1: effective on 2026-11-01, version 1, approved by hannu"),
    ("plan.kela_share", "rent:1:2026-11",
     {"old": {"amount_cents": 15000}, "new": {"amount_cents": 17500}},
     f"rent:1:2026-11: amount 150,00{NBSP}€ → 175,00{NBSP}€"),
    ("import", "camt053.xml",
     {"accounts": [{"posted": 10, "already_present": 2, "in_suspense": 1, "returned": 0},
                   {"posted": 5, "already_present": 0, "in_suspense": 0, "returned": 1}],
      "flags": 1, "orders": 0, "sha256": "a445" * 16},
     "camt053.xml: posted 15, already present 2, in suspense 1, returned 1, 0 orders, 1 flag"),
    ("reconcile", "as of 2026-11-30",
     {"as_of": "2026-11-30", "by_check": {}, "fail_on": [], "findings": 0},
     "as of 2026-11-30: 0 findings"),
    ("audit.view", "audit_log", {"entries": 8}, "audit_log: 8 entries"),
    ("batch.view", "", {"clients": 1}, "1 client"),
])
def test_an_entry_in_words(action, subject, detail, words):
    assert summary(action, subject, detail) == words
