"""The daily batch on stored data, both backends: DESIGN §6's worked example end to end,
re-runs, concurrency, four-eyes, holidays, exports."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
from datetime import date

import pytest
from helpers import scenario
from helpers.pain001_tree import build_tree_pain001
from lxml import etree
from oversight.test_reports_world import Money
from sqlalchemy import func, select

import ledger
from valitystili import payments as batches
from valitystili.base.errors import Conflict, ValidationError
from valitystili.oversight import plan_check
from valitystili.payments import approval, pain001
from valitystili.payments.pain001 import make_id, order_id, validate_pain001
from valitystili.plans import plans
from valitystili.store.models import Obligation, PaymentBatch, PaymentOrder
from valitystili.trust.auth import Actor

WORKER = Actor("sanna", "social_worker")
HANNU = Actor("hannu", "handler")
HILLA = Actor("hilla", "handler")
FIONA = Actor("fiona", "finance")
CITY = scenario.CITY_IBAN
EXAMPLE = scenario.WORKED_EXAMPLE          # DESIGN §6: 560,00 + 380,00 in, rent, electricity


def world(session):
    scenario.world(session)


def open_with_plan(session, hetu=scenario.HETU, plan=EXAMPLE, start=date(2026, 11, 1)) -> int:
    number = scenario.client(session, scenario.world_actors(), hetu=hetu, start_on=start,
                             review_on=date(2027, 2, 1))
    scenario.plan(session, scenario.world_actors(), number, plan, effective_on=start, today=start)
    return number


def receive(session, number: int, cents: int, on: date, key: str) -> None:
    """Money in for the client as the import books it (a statement line and its posting), so
    the batch knows which expected income came; the worked example's 940,00 is Kela's two
    payments, 560,00 and 380,00. (``key`` names the money in the test only.)"""
    money = Money(session)
    for part in ((56000, 38000) if cents == 94000 else (cents,)):
        money.credit(number, part, on)


@pytest.fixture
def setup(session_factory):
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session)
    return number


def run_day(factory, day: date, approve: bool = True) -> dict:
    with factory() as session, session.begin():
        result = batches.run_batch(session, HANNU, day)
    if approve and result["orders"] and not result["dry_run"]:
        with factory() as session, session.begin():
            batches.approve_batch(session, HILLA, str(result["batch"]), today=day)
    return result


def stored(result: dict) -> list[dict]:
    """The orders a run stored (a run on a closed day is a dry run: it stores none)."""
    return [] if result["dry_run"] else result["order_rows"]


def test_the_worked_example_to_the_cent_and_the_day(session_factory, setup):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 56000, date(2026, 11, 2), "kela:1")
        receive(session, number, 38000, date(2026, 11, 2), "kela:2")
    paid = []
    for day in range(2, 31):
        result = run_day(session_factory, date(2026, 11, day))
        paid += [(r["execution_on"], r["kind"], r["amount_cents"], r["payee"], r["reference"])
                 for r in stored(result)]
    assert paid == [
        (date(2026, 11, 2), "rent", 52000, "Vaasan Asunnot Oy", "12345672"),
        (date(2026, 11, 2), "instalment", 7500, "Maija Meikäläinen", None),
        (date(2026, 11, 9), "instalment", 7500, "Maija Meikäläinen", None),
        (date(2026, 11, 13), "electricity", 4500, "Vaasan Sähkö Oy", "RF18539007547034"),
        (date(2026, 11, 16), "instalment", 7500, "Maija Meikäläinen", None),
        (date(2026, 11, 23), "instalment", 7500, "Maija Meikäläinen", None),
        (date(2026, 11, 30), "instalment", 7500, "Maija Meikäläinen", None),
    ]
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 0
        assert ledger.balance(session, "outgoing") == 94000
        assert ledger.verify(session) == []
        statuses = dict(session.execute(select(Obligation.key, Obligation.status)).all())
        assert statuses[f"rent:{number}:2026-11"] == "settled"
        assert statuses[f"electricity:{number}:2026-11"] == "settled"
        assert statuses[f"rent:{number}:2026-12"] == "open"


def test_a_weekend_batch_is_a_dry_run_of_mondays(session_factory, setup):
    """DESIGN §6: a batch run on a closed day is a dry run; it shows what the next banking
    day's run would pay and stores nothing."""
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 10, 30), "kela:1")
    result = run_day(session_factory, date(2026, 10, 31), approve=False)   # Saturday
    assert (result["execution_on"], result["closed_day"], result["dry_run"], result["batch"]) == (
        date(2026, 11, 2), True, True, None)
    assert [(r["kind"], r["amount_cents"]) for r in result["order_rows"]] == [
        ("rent", 52000), ("instalment", 7500)]
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(PaymentOrder)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(PaymentBatch)).scalar_one() == 0
    monday = run_day(session_factory, date(2026, 11, 2), approve=False)
    assert (monday["closed_day"], monday["dry_run"], monday["orders"]) == (False, False, 2)


def test_the_command_says_a_closed_day_is_a_dry_run(cli):
    scenario.cli_world(cli)
    result = cli("batch", "run", "--date", "1.5.2026", user="hannu")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "1.5.2026 is not a banking day: a dry run, nothing stored; run the batch on 4.5.2026",
        "would order 0 payments, 0,00\u00a0€, executing 2026-05-04"]
    listed = cli("batch", "list", user="hannu")
    assert listed.exit_code == 0 and "2026-05-04" not in listed.stdout


@pytest.mark.parametrize("run_on, executes_on", [
    (date(2026, 12, 24), date(2026, 12, 28)),   # Christmas Eve, Christmas, Boxing Day, Sunday
    (date(2026, 6, 19), date(2026, 6, 22)),     # Midsummer Eve
    (date(2026, 4, 3), date(2026, 4, 7)),       # Good Friday to Easter Monday
])
def test_batch_on_a_bank_holiday_executes_on_the_next_banking_day(session_factory, setup, run_on,
                                                                  executes_on):
    result = run_day(session_factory, run_on, approve=False)
    assert result["execution_on"] == executes_on


def test_running_twice_the_same_day_orders_nothing_new(session_factory, setup):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    first = run_day(session_factory, date(2026, 11, 2), approve=False)
    second = run_day(session_factory, date(2026, 11, 2), approve=False)
    assert (first["orders"], second["orders"]) == (2, 0)
    assert second["batch"] == first["batch"]        # still the same draft batch
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(PaymentOrder)).scalar_one() == 2


def test_dry_run_prints_the_orders_and_writes_nothing(session_factory, setup):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    with session_factory() as session, session.begin():
        result = batches.run_batch(session, HANNU, date(2026, 11, 2), dry_run=True)
    assert result["dry_run"] is True and result["batch"] is None
    assert [(r["kind"], r["amount_cents"], r["key"]) for r in result["order_rows"]] == [
        ("rent", 52000, f"order:rent:{number}:2026-11"),
        ("instalment", 7500, f"order:inst:{number}:2026-11-02")]
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(PaymentOrder)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Obligation)).scalar_one() == 0


def test_four_eyes_refuses_approval_by_the_handler_who_ran_it(session_factory, setup):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2), approve=False)
    with session_factory() as session, session.begin(), pytest.raises(Conflict) as refused:
        batches.approve_batch(session, HANNU, str(result["batch"]), today=date(2026, 11, 2))
    assert str(refused.value) == (f"four-eyes: batch {result['batch']} was run by hannu; "
                                  "another handler must approve it")
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 94000


def test_worked_example_2_may_rent_waits_for_may_money_and_april_is_paid_out(session_factory):
    """DESIGN §6 worked example 2: 1.5.2026 is May Day, 2.-3.5. a weekend; May's benefits and
    May's rent both fall on Monday 4.5., so April's instalments share all of April's money."""
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session, start=date(2026, 4, 1))
        receive(session, number, 94000, date(2026, 4, 1), "kela:april")
    paid = []
    for day in range(1, 31):
        paid += [(r["execution_on"], r["kind"], r["amount_cents"])
                 for r in stored(run_day(session_factory, date(2026, 4, day)))]
    with session_factory() as session, session.begin():
        due = session.execute(select(Obligation.agreed_on, Obligation.due_on, Obligation.pay_on)
                              .where(Obligation.key == f"rent:{number}:2026-05")).one()
        assert tuple(due) == (date(2026, 5, 2), date(2026, 5, 4), date(2026, 5, 4))
        assert ledger.balance(session, f"client:{number}") == 0
        receive(session, number, 94000, date(2026, 5, 4), "kela:may")
    paid += [(r["execution_on"], r["kind"], r["amount_cents"])
             for r in run_day(session_factory, date(2026, 5, 4))["order_rows"]]
    assert paid == [
        (date(2026, 4, 2), "rent", 52000),
        (date(2026, 4, 7), "instalment", 9375),      # Easter Monday 6.4. paid on Tuesday
        (date(2026, 4, 13), "instalment", 9375),
        (date(2026, 4, 15), "electricity", 4500),
        (date(2026, 4, 20), "instalment", 9375),
        (date(2026, 4, 27), "instalment", 9375),
        (date(2026, 5, 4), "rent", 52000),
        (date(2026, 5, 4), "instalment", 9375),
    ]


def test_short_money_pays_rent_in_part_and_the_rest_when_money_arrives(session_factory, setup):
    """DESIGN §6 step 1: rent is paid partially with all there is, the rest stays open."""
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 50000, date(2026, 11, 2), "kela:1")
    first = run_day(session_factory, date(2026, 11, 2))
    assert [(r["kind"], r["amount_cents"], r["key"]) for r in first["order_rows"]] == [
        ("rent", 50000, f"order:rent:{number}:2026-11")]
    assert [(n["kind"], n["amount_cents"]) for n in first["notices"]] == [("insufficient_funds", 2000)]
    late = run_day(session_factory, date(2026, 11, 4))
    assert late["orders"] == 0
    assert sorted((n["kind"], n["amount_cents"]) for n in late["notices"]) == [
        ("arrears", 2000), ("insufficient_funds", 2000)]
    with session_factory() as session, session.begin():
        receive(session, number, 2500, date(2026, 11, 5), "relative:1")
    caught_up = run_day(session_factory, date(2026, 11, 5))
    assert [(r["kind"], r["amount_cents"], r["key"]) for r in caught_up["order_rows"]] == [
        ("rent", 2000, f"order:rent:{number}:2026-11:1")]
    from valitystili.store.models import Flag
    with session_factory() as session:
        open_flags = session.execute(select(Flag.kind).where(Flag.resolved_at.is_(None))).scalars().all()
        assert open_flags == []
        assert ledger.balance(session, f"client:{number}") == 500


def test_export_is_valid_pain001_identical_on_re_export_and_marks_orders(session_factory, setup, tmp_path):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2))
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    with session_factory() as session, session.begin():
        exported = batches.export_batch(session, FIONA, str(result["batch"]), first,
                                        today=date(2026, 11, 2))
    with session_factory() as session, session.begin():
        again = batches.export_batch(session, FIONA, str(result["batch"]), second, again=True,
                                     today=date(2026, 11, 2))
    assert (exported["first_export"], again["first_export"]) == (True, False)
    assert first.read_bytes() == second.read_bytes()
    validate_pain001(first.read_bytes(), "09")
    root = etree.fromstring(first.read_bytes())
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "595.00"
    assert root.findtext(".//p:ReqdExctnDt/p:Dt", namespaces=ns) == "2026-11-02"
    ids = root.xpath(".//p:EndToEndId/text()", namespaces=ns)
    assert ids == [order_id(f"order:rent:{number}:2026-11", date(2026, 11, 2)),
                   order_id(f"order:inst:{number}:2026-11-02", date(2026, 11, 2))]
    assert "Maija Meikäläinen" in first.read_text("utf-8")
    with session_factory() as session:
        statuses = set(session.execute(select(PaymentOrder.status)).scalars())
        assert statuses == {"exported"}


def test_the_file_carries_each_order_s_stored_id_old_shape_or_new(session_factory, setup,
                                                                  tmp_path):
    """An order stored before ids began with their day keeps its id: the bank's statement
    names it by that id, and clearing and returns look orders up by the stored id."""
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2), approve=False)
    rent_key = f"order:rent:{number}:2026-11"
    with session_factory() as session, session.begin():
        rent = session.execute(select(PaymentOrder).where(PaymentOrder.key == rent_key)
                               ).scalar_one()
        rent.end_to_end_id = make_id(rent_key)
    with session_factory() as session, session.begin():
        batches.approve_batch(session, HILLA, str(result["batch"]), today=date(2026, 11, 2))
    with session_factory() as session, session.begin():
        batches.export_batch(session, FIONA, str(result["batch"]), tmp_path / "a.xml",
                             today=date(2026, 11, 2))
        stored_ids = dict(session.execute(select(PaymentOrder.key, PaymentOrder.end_to_end_id)).all())
    root = etree.fromstring((tmp_path / "a.xml").read_bytes())
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert root.xpath(".//p:EndToEndId/text()", namespaces=ns) == [
        make_id(rent_key), order_id(f"order:inst:{number}:2026-11-02", date(2026, 11, 2))]
    assert stored_ids == {rent_key: make_id(rent_key),
                          f"order:inst:{number}:2026-11-02": order_id(
                              f"order:inst:{number}:2026-11-02", date(2026, 11, 2))}


def test_the_exported_file_is_what_the_whole_tree_gave(session_factory, setup, tmp_path,
                                                      monkeypatch):
    """Written into the staged file a transfer at a time, published after the commit: the
    file holds the bytes the tree builder makes of the same orders and debtor."""
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2))
    given = []

    def spy(out, **inputs):
        given.append(inputs)
        return pain001.write_pain001(out, **inputs)

    monkeypatch.setattr(approval, "write_pain001", spy)
    out = tmp_path / "out"
    out.mkdir()
    with session_factory() as session, session.begin():
        exported = batches.export_batch(session, FIONA, str(result["batch"]), out / "a.xml",
                                        today=date(2026, 11, 2))

    (inputs,) = given
    assert [t.key for t in inputs["transfers"]] == [f"order:rent:{number}:2026-11",
                                                    f"order:inst:{number}:2026-11-02"]
    written = (out / "a.xml").read_bytes()
    assert written == build_tree_pain001(**inputs)
    assert exported["sha256"] == hashlib.sha256(written).hexdigest()
    assert [f.name for f in out.iterdir()] == ["a.xml"]


def test_a_file_that_fails_the_schema_is_not_exported(session_factory, setup, tmp_path,
                                                      monkeypatch):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2))
    made = pain001._transaction

    def without_amount(E, bic_tag, transfer):
        element = made(E, bic_tag, transfer)
        element.remove(element.find("Amt"))
        return element

    monkeypatch.setattr(pain001, "_transaction", without_amount)
    out = tmp_path / "out"
    out.mkdir()
    refused = (r"^pain\.001\.001\.09 schema: line 47: Element 'CdtrAgt': This element is not "
               r"expected\.")
    with (pytest.raises(ValidationError, match=refused), session_factory() as session,
          session.begin()):
        batches.export_batch(session, FIONA, str(result["batch"]), out / "a.xml",
                             today=date(2026, 11, 2))

    assert list(out.iterdir()) == []
    with session_factory() as session:
        assert session.get(PaymentBatch, result["batch"]).status == "approved"
        assert set(session.execute(select(PaymentOrder.status)).scalars()) == {"approved"}


def test_draft_batches_cannot_be_exported(session_factory, setup, tmp_path):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2), approve=False)
    with session_factory() as session, session.begin(), pytest.raises(Conflict, match="is draft"):
        batches.export_batch(session, FIONA, str(result["batch"]), tmp_path / "x.xml")
    assert not (tmp_path / "x.xml").exists()


def test_items_paid_by_kela_directly_are_never_ordered(session_factory):
    assert EXAMPLE.count('paid_by = "account"') == 1          # the rent item
    plan = EXAMPLE.replace('paid_by = "account"', 'paid_by = "kela_direct"')
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session, plan=plan)
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2), approve=False)
    assert "rent" not in [r["kind"] for r in result["order_rows"]]


def _concurrent_run(url: str, barrier, results) -> None:
    from valitystili.store import db as storage
    engine = storage.make_engine(url)
    factory = storage.session_factory(engine)
    barrier.wait()
    with factory() as session, session.begin():
        result = batches.run_batch(session, HANNU, date(2026, 11, 2))
    engine.dispose()
    results.put(result["orders"])


def test_two_handlers_running_at_once_order_each_payment_once(session_factory, setup, db_url):
    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_concurrent_run, args=(db_url, barrier, results))
                 for _ in range(2)]
    for process in processes:
        process.start()
    counts = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert counts == [0, 2]
    with session_factory() as session:
        keys = session.execute(select(PaymentOrder.key).order_by(PaymentOrder.key)).scalars().all()
        assert keys == [f"order:inst:{number}:2026-11-02", f"order:rent:{number}:2026-11"]


def test_a_later_correction_supersedes_an_approved_version_with_a_later_date(session_factory):
    """v1 (rent 520,00) from 1.12.; v2 corrects it from 1.11. (rent 530,00): v2 governs December."""
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session, start=date(2026, 11, 1))
        plans.set_plan(session, WORKER, str(number), EXAMPLE, effective_on=date(2026, 12, 1),
                       today=date(2026, 11, 1))
        plan_check.approve_plan(session, HANNU, str(number))            # v2 from 1.12.
        corrected = EXAMPLE.replace('amount = "520.00"', 'amount = "530.00"')
        plans.set_plan(session, WORKER, str(number), corrected, effective_on=date(2026, 11, 1),
                       today=date(2026, 11, 1))
        plan_check.approve_plan(session, HANNU, str(number))            # v3 from 1.11.
        receive(session, number, 200000, date(2026, 11, 30), "kela:1")
    result = run_day(session_factory, date(2026, 12, 2), approve=False)
    rents = [(r["key"], r["amount_cents"]) for r in result["order_rows"] if r["kind"] == "rent"]
    assert rents == [(f"order:rent:{number}:2026-11", 53000), (f"order:rent:{number}:2026-12", 53000)]


def test_a_returned_rent_payment_reopens_the_rent_and_the_next_batch_pays_it_again(
        session_factory, setup, tmp_path):
    """Orders → pain.001 → the simulated bank (landlord's account closed) → camt.053 → import:
    the money is back on the client, the rent is open again, and is paid again under a new key."""
    from valitystili.demo.bank import SimulatedBank
    from valitystili.statements import service

    number = setup
    with session_factory() as session, session.begin():
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    result = run_day(session_factory, date(2026, 11, 2))
    path = tmp_path / "pain.xml"
    with session_factory() as session, session.begin():
        batches.export_batch(session, FIONA, str(result["batch"]), path, today=date(2026, 11, 2))
    bank = SimulatedBank(CITY, "ESSEFIHX", opening_cents=94000)
    bank.execute_pain001(path.read_bytes(), frozenset({scenario.LANDLORD_IBAN}))
    statement = tmp_path / "camt053.xml"
    statement.write_bytes(bank.camt053(date(2026, 11, 2)))
    for _ in range(2):   # the same statement twice changes nothing the second time
        with session_factory() as session, session.begin():
            service.import_file(session, FIONA, statement, today=date(2026, 11, 3))
    with session_factory() as session:
        orders = dict(session.execute(select(PaymentOrder.key, PaymentOrder.status)).all())
        assert orders == {f"order:rent:{number}:2026-11": "returned",
                          f"order:inst:{number}:2026-11-02": "cleared"}
        rent = session.execute(select(Obligation.status, Obligation.paid_cents)
                               .where(Obligation.key == f"rent:{number}:2026-11")).one()
        assert tuple(rent) == ("open", 0)
        assert ledger.balance(session, f"client:{number}") == 94000 - 7500
        assert ledger.balance(session, "outgoing") == 0
    again = run_day(session_factory, date(2026, 11, 3), approve=False)
    assert [(r["key"], r["amount_cents"]) for r in again["order_rows"]] == [
        (f"order:rent:{number}:2026-11:1", 52000)]


def test_a_partial_payment_and_its_rest_on_the_same_execution_day(session_factory):
    """Monday's first run pays part of the rent; its second run, after more money came, pays
    the rest — two orders, one obligation, no key clash."""
    plan = EXAMPLE.replace('reference = "12345672"', 'reference = "12345672"\nallow_partial = true')
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session, plan=plan)
        receive(session, number, 20000, date(2026, 10, 30), "in:1")
    morning = run_day(session_factory, date(2026, 11, 2), approve=False)
    with session_factory() as session, session.begin():
        receive(session, number, 40000, date(2026, 11, 2), "in:2")
    afternoon = run_day(session_factory, date(2026, 11, 2), approve=False)
    keys = [(r["key"], r["amount_cents"]) for r in morning["order_rows"] + afternoon["order_rows"]
            if r["kind"] == "rent"]
    assert keys == [(f"order:rent:{number}:2026-11", 20000), (f"order:rent:{number}:2026-11:1", 32000)]
    with session_factory() as session:
        assert session.execute(select(Obligation.status).where(
            Obligation.key == f"rent:{number}:2026-11")).scalar_one() == "settled"


def test_a_new_version_moving_rent_to_kela_cancels_the_generated_rent(session_factory):
    """v1 pays rent from the account; v2 (from 1.12.) has Kela pay it: December's rent, already
    generated under v1, is cancelled and never paid; moving the due day regenerates cleanly."""
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session)
        receive(session, number, 94000, date(2026, 11, 2), "kela:1")
    run_day(session_factory, date(2026, 11, 2))            # generates December's rent too
    kela = EXAMPLE.replace('paid_by = "account"', 'paid_by = "kela_direct"')
    with session_factory() as session, session.begin():
        scenario.plan(session, scenario.world_actors(), number, kela,
                      effective_on=date(2026, 12, 1), today=date(2026, 11, 3))
        receive(session, number, 94000, date(2026, 12, 1), "kela:2")
    december = run_day(session_factory, date(2026, 12, 2), approve=False)
    assert "rent" not in [r["kind"] for r in december["order_rows"]]
    with session_factory() as session:
        assert session.execute(select(Obligation.status).where(
            Obligation.key == f"rent:{number}:2026-12")).scalar_one() == "cancelled"


def test_moving_the_due_day_in_a_new_version_updates_the_unpaid_obligation(session_factory):
    with session_factory() as session, session.begin():
        world(session)
        number = open_with_plan(session)
    run_day(session_factory, date(2026, 11, 2), approve=False)
    later = EXAMPLE.replace('due = "FREQ=MONTHLY;BYMONTHDAY=2"', 'due = "FREQ=MONTHLY;BYMONTHDAY=5"')
    with session_factory() as session, session.begin():
        scenario.plan(session, scenario.world_actors(), number, later,
                      effective_on=date(2026, 12, 1), today=date(2026, 11, 3))
    run_day(session_factory, date(2026, 11, 20), approve=False)
    with session_factory() as session:
        due = session.execute(select(Obligation.due_on, Obligation.pay_on).where(
            Obligation.key == f"rent:{number}:2026-12")).one()
        assert tuple(due) == (date(2026, 12, 7), date(2026, 12, 4))   # 5.12. is a Saturday
