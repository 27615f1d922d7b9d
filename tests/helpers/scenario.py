"""Small builders for tests: a world of users, the city's account and payees; clients; plans.

    w = world(session)
    number = client(session, w)    # Maija, opened 1.10.2026, evictions
    plan(session, w, number)       # DESIGN §12 plan, effective 1.11.2026, approved

Service-level helpers take a SQLAlchemy session and call the real service functions (so every
rule and audit entry applies); ``cli_world`` builds the same world through the command line for
CLI tests. Dates are fixed (November 2026, the worked example of DESIGN §6) so that tests do not
depend on the day they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.oversight import plan_check
from valitystili.people import banks, clients, payees
from valitystili.plans import plans
from valitystili.store.models import User
from valitystili.trust import users
from valitystili.trust.auth import Actor

CITY_IBAN = "FI7433010001222090"
LANDLORD = "Vaasan Asunnot Oy"
LANDLORD_IBAN = "FI2112345600000785"
UTILITY = "Vaasan Sähkö Oy"
UTILITY_IBAN = "FI4950009420028730"      # OP (OKOYFIHH); national check digit valid

#: Valid identity codes (check characters verified by stdnum); none of them is 65 or older in 2026
#: except ELDERLY_HETU.
HETU = "010594Y123W"            # born 1.5.1994
HETU_2 = "150705B247K"          # born 15.7.2005
ELDERLY_HETU = "131052-308T"    # born 13.10.1952: 74 in 2026
CLIENT_IBAN = "FI5542345670000081"

START = date(2026, 10, 1)       # the default client's start
EFFECTIVE = date(2026, 11, 1)   # the default plan's effective date
TODAY = date(2026, 10, 20)      # "today" for the helpers: before the plan takes effect
REVIEW = date(2027, 2, 1)       # the default client's review date (as in the plan files)
#: ``client open --review`` for CLI tests: the CLI works on the real date, so keep it ahead.
CLI_REVIEW = f"1.2.{max(date.today().year + 1, 2027)}"

USERS = (("admin", "admin"), ("sanna", "social_worker"), ("hannu", "handler"),
         ("hilla", "handler"), ("fiona", "finance"), ("aune", "auditor"))

#: DESIGN §12, as written there.
DESIGN_EXAMPLE = """\
review = 2027-02-01                  # next review of the need for the service

[[income]]                           # what is expected to arrive, for matching and reserves
source = "Kela"
kind = "basic_social_assistance"     # housing_allowance, labour_market_subsidy, pension, ...
amount = "560.00"
schedule = "FREQ=MONTHLY;BYMONTHDAY=1"   # banking-day shift comes from the calendar
route = "client_declared_account"    # or agreement, payment_demand_ev241n

[[pay]]
kind = "rent"                        # rent, electricity, other
payee = "Vaasan Asunnot Oy"          # payee name or id
amount = "520.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
reference = "12345672"               # Finnish or RF reference; or message = "..."
paid_by = "account"                  # account (default), kela_direct, client

[[pay]]
kind = "electricity"
payee = "Vaasan Sähkö Oy"
amount = "45.00"                     # or bills = true: pay the bills entered with `bill add`
due = "FREQ=MONTHLY;BYMONTHDAY=15"
reference = "RF18539007547034"

[instalments]
schedule = "FREQ=WEEKLY;BYDAY=MO"
mode = "even"                        # or: amount = "100.00"
keep = "0.00"                        # buffer that always stays on the account
"""

#: The worked example of DESIGN §6: as §12, plus housing allowance 380,00 € on the 1st.
WORKED_EXAMPLE = DESIGN_EXAMPLE.replace(
    '[[pay]]\nkind = "rent"',
    '[[income]]\nsource = "Kela"\nkind = "housing_allowance"\namount = "380.00"\n'
    'schedule = "FREQ=MONTHLY;BYMONTHDAY=1"\nroute = "client_declared_account"\n\n'
    '[[pay]]\nkind = "rent"',
    1,
)

#: DESIGN §12 as written there now, every key shown (``tolerance``, ``paid_directly``,
#: ``partial``, ``minimum`` at their defaults): the same plan as ``DESIGN_EXAMPLE``.
DESIGN_FULL_EXAMPLE = """\
review = 2027-02-01                  # next review of the need for the service

[[income]]                           # what is expected to arrive, for matching and reserves
source = "Kela"
kind = "basic_social_assistance"     # housing_allowance, labour_market_subsidy, pension, ...
amount = "560.00"
tolerance = "20%"                    # or "5.00"; for matching and the income-changed flag
schedule = "FREQ=MONTHLY;BYMONTHDAY=1"   # banking-day shift comes from the calendar
route = "client_declared_account"    # or agreement, payment_demand_ev241n

[[pay]]
kind = "rent"                        # rent, electricity, other
payee = "Vaasan Asunnot Oy"          # payee name or id
amount = "520.00"                    # the whole rent
paid_directly = "0.00"               # the part Kela usually pays the landlord; the account pays the rest
due = "FREQ=MONTHLY;BYMONTHDAY=2"
reference = "12345672"               # Finnish or RF reference; or message = "..."
partial = true                       # rent may be paid in part when money is short (default)
paid_by = "account"                  # account (default); kela_direct or client: recorded, not paid

[[pay]]
kind = "electricity"
payee = "Vaasan Sähkö Oy"
amount = "45.00"                     # or bills = true: pay the bills entered with `bill add`
due = "FREQ=MONTHLY;BYMONTHDAY=15"
reference = "RF18539007547034"

[instalments]
schedule = "FREQ=WEEKLY;BYDAY=MO"
mode = "even"                        # or: amount = "100.00"
keep = "0.00"                        # buffer that always stays on the account
minimum = "0.00"                     # paid to the client on each instalment day, before reserves and rent
"""

#: ``docs/examples/plan.toml``: the full file with the worked example's housing allowance.
WORKED_FULL_EXAMPLE = DESIGN_FULL_EXAMPLE.replace(
    '[[pay]]\nkind = "rent"',
    '[[income]]\nsource = "Kela"\nkind = "housing_allowance"\namount = "380.00"\n'
    'schedule = "FREQ=MONTHLY;BYMONTHDAY=1"\nroute = "client_declared_account"\n\n'
    '[[pay]]\nkind = "rent"',
    1,
)

#: A plan whose electricity is paid by bills (``bill add``) instead of a fixed amount.
BILLS_EXAMPLE = """\
review = 2027-02-01

[[income]]
source = "Kela"
kind = "basic_social_assistance"
amount = "560.00"
schedule = "FREQ=MONTHLY;BYMONTHDAY=1"

[[pay]]
kind = "rent"
payee = "Vaasan Asunnot Oy"
amount = "520.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
reference = "12345672"

[[pay]]
kind = "electricity"
payee = "Vaasan Sähkö Oy"
bills = true
"""

MONTHLY = "FREQ=MONTHLY;BYMONTHDAY="


def pay_text(kind: str, amount: str, due: str, *, payee: str = LANDLORD, tag: str | None = None,
             reference: str | None = None, message: str | None = None) -> str:
    """One ``[[pay]]`` table of a plan file (``due`` an RFC 5545 rule)."""
    return ('\n[[pay]]\n'
            f'kind = "{kind}"\n' + (f'tag = "{tag}"\n' if tag else "")
            + f'payee = "{payee}"\namount = "{amount}"\ndue = "{due}"\n'
            + (f'reference = "{reference}"\n' if reference else "")
            + (f'message = "{message}"\n' if message else ""))


def plan_text(*incomes: tuple[str, str, str], rent: str = "520.00", rent_due: str = MONTHLY + "2",
              items: str = "", instalments: str = 'mode = "even"\n') -> str:
    """A plan: the given ``[[income]]`` (kind, amount, schedule) from Kela, the rent (520,00 by
    default) to Vaasan Asunnot Oy, any further ``[[pay]]`` text (``pay_text``), and instalments
    every Monday (an even split unless ``instalments`` says otherwise); review 31.1.2028."""
    text = "review = 2028-01-31\n"
    for kind, amount, schedule in incomes:
        text += (f'\n[[income]]\nsource = "Kela"\nkind = "{kind}"\namount = "{amount}"\n'
                 f'schedule = "{schedule}"\n')
    text += pay_text("rent", rent, rent_due, reference="12345672")
    return (text + items + '\n[instalments]\nschedule = "FREQ=WEEKLY;BYDAY=MO"\n'
            + instalments)


@dataclass
class World:
    admin: Actor
    sanna: Actor     # social worker
    hannu: Actor     # handler
    hilla: Actor     # handler (the second pair of eyes)
    fiona: Actor     # finance
    aune: Actor      # auditor
    bank: dict = field(default_factory=dict)
    landlord: int = 0          # payee id of Vaasan Asunnot Oy
    utility: int = 0           # payee id of Vaasan Sähkö Oy


def world(session: Session) -> World:
    """Users, the city's account FI7433010001222090 and two payees, through the services."""
    actors = {}
    for name, role in USERS:
        if session.execute(select(User.id).where(User.name == name)).first() is None:
            # Through the service: each registration is an audit entry holding the role.
            if not (role == "admin" and users.bootstrap_admin(session, name)):
                users.add_user(session, Actor("admin", "admin"), name, role)
        actors[name] = Actor(name, role)
    w = World(**actors)
    w.bank = banks.add_bank_account(session, w.admin, iban=CITY_IBAN, name="Välitystili")
    w.landlord = payees.add_payee(session, w.hannu, name=LANDLORD, iban=LANDLORD_IBAN,
                                  kind="landlord")["payee"]
    w.utility = payees.add_payee(session, w.hannu, name=UTILITY, iban=UTILITY_IBAN,
                                 kind="utility")["payee"]
    return w


def world_actors() -> World:
    """The world's users as actors, for helpers called after ``world()`` ran in another session."""
    return World(**{name: Actor(name, role) for name, role in USERS})


def client(session: Session, w: World, *, hetu: str = HETU, name: str = "Maija Meikäläinen",
           iban: str = CLIENT_IBAN, criterion: str = "evictions", worker: str = "sanna",
           start_on: date = START, today: date | None = None, **options) -> int:
    """Open a client with every exclusion answered "no"; returns the client number."""
    options.setdefault("exclusions", {"guardianship_need": False, "subsidy_against_will": False,
                                      "kela_pays_landlord": False})
    options.setdefault("review_on", max(REVIEW, today or start_on))   # opening needs one
    opened = clients.open_client(session, w.sanna, hetu=hetu, name=name, iban=iban,
                                 criterion=criterion, worker=worker, start_on=start_on,
                                 today=today or start_on, **options)
    return opened["client"]


#: The reason a scenario's plan is approved even where it does not add up (DESIGN §12's own
#: example file expects 560,00 a month and pays 565,00).
AS_WRITTEN = "approved as written for the scenario"


def plan(session: Session, w: World, client_no: int, toml_text: str = DESIGN_EXAMPLE, *,
         effective_on: date = EFFECTIVE, approve: bool = True, today: date | None = None,
         despite: str | None = AS_WRITTEN) -> int:
    """Set a plan version (by sanna) and approve it (by hannu); returns the version."""
    version = plans.set_plan(session, w.sanna, str(client_no), toml_text,
                             effective_on=effective_on, today=today or TODAY)["version"]
    if approve:
        plan_check.approve_plan(session, w.hannu, str(client_no), version, despite=despite)
    return version


def cli_world(cli) -> None:
    """The same world through the command line (``cli`` is the conftest fixture)."""
    for name, role in USERS[1:]:
        cli.ok("user", "add", name, "--role", role)
    cli.ok("bank", "add", "--iban", CITY_IBAN, "--name", "Välitystili")
    cli.ok("payee", "add", "--name", LANDLORD, "--iban", LANDLORD_IBAN, "--kind", "landlord",
           user="hannu")
    cli.ok("payee", "add", "--name", UTILITY, "--iban", UTILITY_IBAN, "--kind", "utility",
           user="hannu")
