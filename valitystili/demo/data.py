"""Fictional, reproducible people and plans for the demo (valid checksums, no real persons).

Identity codes are built with their check character from birth dates between 1963 and 2000
(so nobody is 65 or older), individual numbers 002–899 (900–999 are temporary codes). IBANs are
generated with their national check digit. Names are common Finnish first names and surnames.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from schwifty import IBAN

from valitystili.base.identifiers import make_reference, rf_from_finnish

FIRST = ("Aino", "Eino", "Helmi", "Väinö", "Elsa", "Onni", "Sofia", "Leevi", "Aada", "Eetu",
         "Kerttu", "Juho", "Siiri", "Matias", "Lilja", "Oskari", "Venla", "Aleksi", "Iida", "Lauri",
         "Pirjo", "Jorma", "Tuula", "Pentti", "Sari", "Jari", "Minna", "Timo", "Päivi", "Mikko")
LAST = ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
        "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen",
        "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen",
        "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen")
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
BANK_CODES = ("100", "500", "800", "340", "470")

LANDLORDS = (("Vaasan Asunnot Oy", "landlord"), ("Kiinteistö Oy Pohjanmaan Koti", "landlord"),
             ("Tukiasunnot / Vaasan kaupunki", "landlord"))
UTILITIES = (("Vaasan Sähkö Oy", "utility"), ("Pohjanmaan Energia Oy", "utility"))
CRITERIA = ("sublet", "housing_condition", "evictions", "other_weighty")
MOST_INSTALMENT_DAYS = 5       # weekly instalments: at most five Mondays in a month


def iban(rng: random.Random) -> str:
    return str(IBAN.generate("FI", bank_code=rng.choice(BANK_CODES),
                             account_code=f"{rng.randrange(1, 10**7):07d}"))


def name(rng: random.Random) -> str:
    """Two given names and a surname, as most Finns have: few enough look-alikes that the
    demo shows the matching rules at work rather than a crowd of namesakes."""
    first, second = rng.sample(FIRST, 2)
    return f"{first} {second} {rng.choice(LAST)}"


def hetu(rng: random.Random, used: set[str]) -> str:
    while True:
        born = date(1963, 1, 1) + timedelta(days=rng.randrange(0, 38 * 365))
        individual = rng.randrange(2, 900)
        sign = "-" if born.year < 2000 else "A"
        digits = f"{born:%d%m%y}{individual:03d}"
        code = f"{born:%d%m%y}{sign}{individual:03d}{CHECK[int(digits) % 31]}"
        if code not in used:
            used.add(code)
            return code


@dataclass(frozen=True)
class Person:
    hetu: str
    name: str
    iban: str
    language: str
    criterion: str
    assistance_cents: int      # basic social assistance, on the 1st
    allowance_cents: int       # general housing allowance, on the 1st
    rent_cents: int
    landlord: str
    rent_reference: str
    electricity_cents: int | None
    utility: str
    electricity_reference: str
    instalments: str           # "even" or a fixed amount in cents as text
    short_of_rent: bool        # deliberately short of money some months: arrears in the demo
    pays_with_reference: int   # cents a relative pays monthly with the client's reference (0: none)


def people(count: int, seed: int = 2026) -> list[Person]:
    rng = random.Random(seed)
    used: set[str] = set()
    result = []
    for n in range(count):
        rent = rng.randrange(380, 720) * 100
        allowance = min(rent * 70 // 100, rng.randrange(250, 480) * 100)
        assistance = max(rent - allowance + rng.randrange(300, 520) * 100, 20000)
        short = n % 37 == 5
        if short:
            assistance = rent - allowance - 5000    # 50,00 short of the rent
        landlord = LANDLORDS[n % len(LANDLORDS)][0]
        utility = UTILITIES[n % len(UTILITIES)][0]
        rent_reference = make_reference(str(rng.randrange(10**6, 10**9)))
        electricity_reference = rf_from_finnish(make_reference(str(rng.randrange(10**4, 10**8))))
        identity, full_name, account = hetu(rng, used), name(rng), iban(rng)
        electricity = None if n % 5 == 4 else rng.randrange(25, 70) * 100
        instalments = "even" if n % 4 else str(fixed_instalment(
            rng.randrange(40, 80) * 100, assistance + allowance - rent - (electricity or 0)))
        result.append(Person(
            hetu=identity, name=full_name, iban=account,
            language="sv" if n % 10 == 3 else "fi", criterion=CRITERIA[n % len(CRITERIA)],
            assistance_cents=assistance, allowance_cents=allowance, rent_cents=rent,
            landlord=landlord, rent_reference=rent_reference, electricity_cents=electricity,
            utility=utility, electricity_reference=electricity_reference, instalments=instalments,
            short_of_rent=short, pays_with_reference=2500 if n % 9 == 2 else 0))
    return result


def fixed_instalment(wanted_cents: int, left_cents: int) -> int:
    """The weekly amount a social worker would write: what was wanted, at most what is left
    each month after rent and electricity shared over a month's most Mondays, in whole euros,
    so the plan adds up. A client short of the rent has nothing left; their plan does not add
    up whatever the amount, and keeps the one wanted."""
    if left_cents <= 0:
        return wanted_cents
    return min(wanted_cents, left_cents // MOST_INSTALMENT_DAYS // 100 * 100)


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def plan_toml(person: Person, review: date) -> str:
    """The person's plan in the plan-file format (DESIGN §12)."""
    lines = [
        f"review = {review.isoformat()}",
        "",
        "[[income]]",
        'source = "Kela"',
        'kind = "basic_social_assistance"',
        f'amount = "{euros(person.assistance_cents)}"',
        'schedule = "FREQ=MONTHLY;BYMONTHDAY=1"',
        'route = "client_declared_account"',
        "",
        "[[income]]",
        'source = "Kela"',
        'kind = "housing_allowance"',
        f'amount = "{euros(person.allowance_cents)}"',
        'schedule = "FREQ=MONTHLY;BYMONTHDAY=1"',
        'route = "client_declared_account"',
        "",
        "[[pay]]",
        'kind = "rent"',
        f'payee = "{person.landlord}"',
        f'amount = "{euros(person.rent_cents)}"',
        'due = "FREQ=MONTHLY;BYMONTHDAY=2"',
        f'reference = "{person.rent_reference}"',
    ]
    if person.electricity_cents:
        lines += [
            "",
            "[[pay]]",
            'kind = "electricity"',
            f'payee = "{person.utility}"',
            f'amount = "{euros(person.electricity_cents)}"',
            'due = "FREQ=MONTHLY;BYMONTHDAY=15"',
            f'reference = "{person.electricity_reference}"',
        ]
    lines += ["", "[instalments]", 'schedule = "FREQ=WEEKLY;BYDAY=MO"']
    if person.instalments == "even":
        lines.append('mode = "even"')
    else:
        lines.append(f'amount = "{euros(int(person.instalments))}"')
    lines.append('keep = "0.00"')
    return "\n".join(lines) + "\n"
