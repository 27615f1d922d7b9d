"""The README's walkthrough and routines in Finnish and Swedish: the same run, the same money.

The README's blocks run three times on a fresh database each (``helpers.readme.run_readme``),
in English, with ``VALITYSTILI_LANG=fi`` and with ``VALITYSTILI_LANG=sv``, followed by a few
commands of our own (the ``languages`` block of ``helpers.readme.AFTER``: a role refusal, a validation error, ``batch run --help``, and
JSON and CSV written to files). Against the English run, each language must

- stop nowhere else: every block ends with the same exit status, and every ``exit N`` a block
  echoes is the same;
- print the same money in the same order, block by block, on stdout and on stderr (amounts as
  people read them, ``1 234,56 €`` or a table's ``1 234,56``), and write the same ``*_cents`` in
  JSON and ``*_eur`` in CSV. In a table row only an amount cell counts: a text cell (a flag's
  detail, an audit summary) is cut with ``…`` to fit 100 characters, and the translated headers
  are wider, so a cut text shows less of itself in one language than in another;
- say a few things exactly as written here (a line of ``client show``, ``batch run``'s summary,
  a role refusal, a validation error, the start of ``batch run --help``), and the README's own
  examples of the language paragraph are real output of the run.

The three runs take a few minutes on a loaded machine: one module-scoped fixture makes them
once for the one test below.
"""

from __future__ import annotations

import csv
import re

import pytest
from cli.test_readme import README
from helpers.readme import ReadmeRun, require_shared, shared_run

NBSP = "\u00a0"

#: A money amount as people read it: ``1 234,56`` (thousands by U+00A0), ``€`` or not.
AMOUNT = re.compile(rf"(?<![\d,.{NBSP}])-?\d{{1,3}}(?:{NBSP}\d{{3}})*,\d{{2}}(?![\d,])")
#: An amount standing alone in a table cell (two spaces or the line's end either side).
CELL = re.compile(rf"(?:^|(?<=  ))-?\d{{1,3}}(?:{NBSP}\d{{3}})*,\d{{2}}(?=  |$)")
#: The line under a table's headers.
RULE = re.compile(r"^-+(?:  +-+)*$")
CENTS = re.compile(r'"(\w+_cents)": (-?\d+|null)')
EXIT = re.compile(r"^(?:cron )?exit (\d+)", re.MULTILINE)

#: What each language prints exactly: (block, stream, text).
EXACT = {
    "en": [
        ("social worker", "out", "final payout          no\n"),
        ("walkthrough", "err", f"batch 1: 2 payments, 796,00{NBSP}€, executing 2026-11-02\n"),
        ("languages", "err", ("valitystili: error: user aune (auditor) may not batch run; "
                             "allowed roles: handler\n")),
        ("languages", "err", ("valitystili: error: Invalid value for '--date': date 31.2.2026 "
                             "does not exist\n")),
        ("languages", "err", "valitystili: error: unknown client 9\n"),
        ("languages", "out", ("Usage: valitystili batch run [OPTIONS]\n\n"
                             "  Plan today's payments: obligations due, reserves, instalments.\n")),
    ],
    "fi": [
        ("social worker", "out", "loppumaksu                        ei\n"),
        ("walkthrough", "err", f"maksuajo 1: 2 maksua, 796,00{NBSP}€, maksupäivä 2026-11-02\n"),
        ("languages", "err", ("valitystili: error: käyttäjä aune (auditor) ei saa tehdä toimintoa "
                             "batch run; sallitut roolit: handler\n")),
        ("languages", "err", ("valitystili: error: Virheellinen arvo kohdassa '--date': "
                             "päivämäärää 31.2.2026 ei ole olemassa\n")),
        ("languages", "err", "valitystili: error: tuntematon asiakas 9\n"),
        ("languages", "out", ("Käyttö: valitystili batch run [OPTIONS]\n\n"
                             "  Suunnittele päivän maksut: erääntyvät velvoitteet, varaukset, "
                             "erät.\n")),
    ],
    "sv": [
        ("social worker", "out", "slututbetalning                nej\n"),
        ("walkthrough", "err", (f"betalningsomgång 1: 2 betalningar, 796,00{NBSP}€, betalningsdag "
                               "2026-11-02\n")),
        ("languages", "err", ("valitystili: error: användaren aune (auditor) får inte utföra "
                             "batch run; tillåtna roller: handler\n")),
        ("languages", "err", ("valitystili: error: Ogiltigt värde för '--date': datumet 31.2.2026 "
                             "finns inte\n")),
        ("languages", "err", "valitystili: error: okänd klient 9\n"),
        ("languages", "out", ("Användning: valitystili batch run [OPTIONS]\n\n"
                             "  Planera dagens betalningar: förfallna åtaganden, reserveringar, "
                             "rater.\n")),
    ],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, ReadmeRun]:
    """The README run in English, Finnish and Swedish, each on its own fresh database, with the
    ``languages`` block of ``helpers.readme.AFTER`` after it (our own commands; each echoes its
    exit status). The English run is the one tests/cli/test_readme.py reads."""
    require_shared()
    return {language: shared_run(tmp_path_factory, language) for language in ("en", "fi", "sv")}


def block_exits(run: ReadmeRun) -> dict[str, int]:
    """Each block that ran and how it ended: 0, or the shell's status for the one it stopped in."""
    names = list(run.stderr)
    return {name: run.returncode if name == names[-1] else 0 for name in names}


def echoed_exits(run: ReadmeRun) -> dict[str, list[str]]:
    return {name: EXIT.findall(text) for name, text in run.stdout.items()}


def amounts(run: ReadmeRun) -> dict[tuple[str, str], list[str]]:
    """Every amount people read, in order, by block and stream."""
    found = {}
    for stream, blocks in (("out", run.stdout), ("err", run.stderr)):
        for name, text in blocks.items():
            found[name, stream] = amounts_in(text)
    return found


def amounts_in(text: str) -> list[str]:
    """The amounts of ``text``: in a table's rows its amount cells, elsewhere every amount."""
    found, in_table = [], False
    for line in text.splitlines():
        if RULE.match(line):
            in_table = True
        elif not line.strip():
            in_table = False
        else:
            found.extend((CELL if in_table else AMOUNT).findall(line))
    return found


def written(run: ReadmeRun) -> dict[str, list[tuple[str, str]]]:
    """The money of every JSON and CSV file the run wrote: ``*_cents`` and ``*_eur`` in order."""
    found = {}
    for path in sorted(run.work.rglob("*")):
        if path in run.inputs or path.suffix not in (".json", ".csv"):
            continue
        text = path.read_text("utf-8")
        if path.suffix == ".json":
            found[path.name] = CENTS.findall(text)
        else:
            found[path.name] = [(key, value) for row in csv.DictReader(text.splitlines())
                                for key, value in row.items() if key.endswith("_eur")]
    return found


def readme_examples(language: str) -> list[str]:
    """The output lines the README's language paragraph shows for ``language``."""
    text = README.read_text("utf-8")
    found, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("$ ") and "valitystili" in line:
            inside = (f"--lang {language} " in line or f"VALITYSTILI_LANG={language} " in line)
        elif inside and line.strip() and not line.strip().startswith("```"):
            if line.strip() != "…":
                found.append(line.strip())
        else:
            inside = False
    return found


def test_the_readme_runs_alike_in_finnish_and_swedish(runs):
    english = runs["en"]
    assert english.returncode == 0, english.stderr
    assert echoed_exits(english)["languages"] == ["2", "2", "2", "0", "0", "0", "0", "0"]
    for language in ("fi", "sv"):
        run = runs[language]
        assert block_exits(run) == block_exits(english), language
        assert echoed_exits(run) == echoed_exits(english), language
        assert amounts(run) == amounts(english), language
        assert written(run) == written(english), language
    assert len(written(english)) >= 6
    assert sum(len(found) for found in amounts(english).values()) > 100
    assert sum(len(found) for found in written(english).values()) > 50

    for language, expected in EXACT.items():
        streams = {"out": runs[language].stdout, "err": runs[language].stderr}
        for block, stream, text in expected:
            assert text in streams[stream][block], (language, block, text)

    for language, block in (("fi", "walkthrough"), ("sv", "social worker")):
        shown = readme_examples(language)
        assert shown, f"the README shows no {language} example"
        printed = [line.strip() for line in runs[language].stdout[block].splitlines()
                   + runs[language].stderr[block].splitlines()]
        assert [line for line in shown if line not in printed] == [], language
