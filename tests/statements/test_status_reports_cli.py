"""``import pain002`` end to end: output, idempotence, and refusals (hostile, huge, foreign or
unknown reports: one line on stderr, exit 2, nothing written). Both backends.

The world is DESIGN §6's worked example with the batch of 2.11.2026 exported
(``test_status_reports.exported``); the commands run as fiona (finance).
"""

from __future__ import annotations

import json

import pytest
from helpers.pain002 import BILLION_LAUGHS, XXE, payment, report, tx, write
from helpers.statements import snapshot
from statements.test_status_reports import exported  # noqa: F401 - a fixture

from valitystili.statements.status_reports import MAX_REPORT_BYTES


def rejection(message_id: str, info_id: str, e2e: dict, version: str = "03") -> str:
    return report(message_id, "PART", payment(
        info_id, tx(e2e["rent"], "RJCT", "AC04"), tx(e2e["instalment"], "ACCP")),
        version=version)


@pytest.mark.parametrize("version", ["03", "10"])
def test_import_pain002_rejects_one_payment_once(cli, exported, tmp_path, version):  # noqa: F811
    number, message_id, info_id, e2e = exported
    path = write(tmp_path, "status.xml", rejection(message_id, info_id, e2e, version))
    result = cli("--format", "json", "import", "pain002", str(path), user="fiona")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert {k: row[k] for k in ("file", "report", "batch", "group_status", "bank_status",
                                "rejected", "rejected_cents", "already_rejected", "accepted",
                                "dry_run")} == {
        "file": "status.xml", "report": "STS-1", "batch": 1, "group_status": "PART",
        "bank_status": "partly_accepted", "rejected": 1, "rejected_cents": 52000,
        "already_rejected": 0, "accepted": 1, "dry_run": False}
    assert [r["reason_words"] for r in row["rejections"]] == ["AC04: the account is closed"]
    assert result.stderr == (
        "status.xml: batch 1: bank status partly_accepted; rejected 1, already rejected 0, "
        "accepted 1\n"
        f"rejected: order:rent:{number}:2026-11 (rent, client {number}): "
        "AC04: the account is closed\n")
    again = cli("import", "pain002", str(path), user="fiona")
    assert (again.exit_code, again.stderr) == (0, (
        "status.xml: batch 1: bank status partly_accepted; rejected 0, already rejected 1, "
        "accepted 1\n"))
    shown = cli("batch", "show", "1", user="hannu")
    assert shown.stdout.startswith("batch 1: exported, partly accepted by the bank, 2 payments")
    listed = cli.json("batch", "list", user="hannu")
    assert [b["bank_status"] for b in listed] == ["partly_accepted"]
    flags = cli.json("flags", "--kind", "payment_rejected", user="hannu")
    assert [f["detail"] for f in flags] == [
        (f"payment order:rent:{number}:2026-11 of 520,00\xa0€ to Vaasan Asunnot Oy was rejected "
        f"by the bank (AC04: the account is closed); 520,00\xa0€ returned to client {number}")]


def test_dry_run_writes_nothing(cli, exported, session_factory, tmp_path):  # noqa: F811
    _number, message_id, info_id, e2e = exported
    path = write(tmp_path, "status.xml", rejection(message_id, info_id, e2e))
    with session_factory() as session:
        before = snapshot(session)
    result = cli("--format", "json", "import", "pain002", "--dry-run", str(path), user="fiona")
    assert result.exit_code == 0, result.stderr
    assert [(r["rejected"], r["dry_run"]) for r in json.loads(result.stdout)] == [(1, True)]
    with session_factory() as session:
        assert snapshot(session) == before


def test_only_finance_imports_reports(cli, exported, tmp_path):  # noqa: F811
    _number, message_id, _, _ = exported
    path = write(tmp_path, "status.xml", report(message_id, "ACCP"))
    result = cli("import", "pain002", str(path), user="sanna")
    assert result.exit_code != 0
    assert cli("import", "pain002", str(path), user="fiona").exit_code == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m, i, e: XXE,
         "status.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
        (lambda m, i, e: BILLION_LAUGHS,
         "status.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
        (lambda m, i, e: report(m, "ACCP").replace(
            "<CstmrPmtStsRpt>", "<CstmrPmtStsRpt><!-- " + "x" * MAX_REPORT_BYTES + " -->"),
         "status.xml: file is {size} bytes, over the limit of 16777216 bytes"),
        (lambda m, i, e: report(
            m, "ACCP", namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"),
         ("status.xml: not a pain.002.001.03/.10 document "
         "(namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.02)")),
        (lambda m, i, e: report(m, "ACCP").replace("</Document>", ""),
         ("status.xml: malformed or truncated XML at line 3: Premature end of data in tag "
         "Document line 2")),
        (lambda m, i, e: report("NOT-OURS", "ACCP"),
         ("status.xml: the report answers payment file NOT-OURS, which is no file exported "
         "here; nothing was imported")),
        (lambda m, i, e: report(m, "PART", payment(i, tx("E2E-UNKNOWN", "RJCT", "AC04"))),
         ("status.xml: payment E2E-UNKNOWN is none of the payments of batch 1; nothing was "
         "imported")),
    ],
    ids=["xxe", "billion-laughs", "huge", "wrong-namespace", "truncated", "unknown-message",
         "unknown-end-to-end"],
)
def test_refused_with_one_line_and_nothing_written(cli, exported, session_factory,  # noqa: F811
                                                   tmp_path, make, message):
    _number, message_id, info_id, e2e = exported
    good = write(tmp_path, "good.xml", rejection(message_id, info_id, e2e))
    path = write(tmp_path, "status.xml", make(message_id, info_id, e2e))
    with session_factory() as session:
        before = snapshot(session)
    # A good report given with a bad one is not imported either: every file is checked first.
    result = cli("import", "pain002", str(good), str(path), user="fiona")
    expected = message.format(size=path.stat().st_size)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {expected}\n")
    with session_factory() as session:
        assert snapshot(session) == before
