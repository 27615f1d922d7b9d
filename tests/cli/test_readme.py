"""The README's commands run exactly as written, and every one names a real command and options.

Runnable blocks: a ```sh block whose first line is a comment holding only its name
(``# walkthrough``, ``# handler`` …). They run in README order in one ``bash -e`` shell on a fresh
database (the walkthrough's ``VALITYSTILI_DB``); the cron example (a crontab line, not a block)
runs at its place with the same arguments. Every ``valitystili …`` command in the README — in a
block or in prose — is walked through the click command tree: an unknown command or option fails
naming the line.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest

from valitystili.cli import cli
from valitystili.payments.pain001 import validate_pain001

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
README = ROOT / "README.md"

FENCE = re.compile(r"^\s*```(\w*)\s*$")
RUNNABLE = re.compile(r"^# ([a-z][a-z -]*)$")
CRONTAB = re.compile(r"^[\d*/,-]+ [\d*/,-]+ [\d*/,-]+ [\d*/,-]+ [\d*/,-]+\s+(.*)$")
MARK = "@@block "
#: The cron job's login, registered as the README's cron paragraph says.
CRON_USER = "valitystili-cron"


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Every fenced block: its language and its lines."""
    blocks, language, lines = [], None, []
    for line in text.splitlines():
        fence = FENCE.match(line)
        if language is None and fence:
            language, lines = fence.group(1), []
        elif language is not None and line.lstrip().startswith("```"):
            blocks.append((language, lines))
            language = None
        elif language is not None:
            lines.append(line)
    return blocks


def runnable_blocks(text: str) -> list[tuple[str, str]]:
    """``(name, script)`` of each runnable block, and ``("cron", command)`` at the crontab."""
    found = []
    for language, lines in fenced_blocks(text):
        if language == "sh" and lines and (name := RUNNABLE.match(lines[0])):
            found.append((name.group(1), "\n".join(lines[1:]) + "\n"))
        elif language == "" and lines and (cron := CRONTAB.match(lines[0])):
            found.append(("cron", cron_command(cron.group(1))))
    return found


def cron_command(line: str) -> str:
    """The crontab's ``valitystili`` command with its arguments, on this database, as its user."""
    words = shlex.split(line.replace("\\%", "%"))
    start = words.index("valitystili")
    end = words.index(">") if ">" in words else len(words)
    command = shlex.join(words[start:end])
    return (f"VALITYSTILI_USER=admin valitystili user add {CRON_USER} --role finance\n"
            f"VALITYSTILI_USER={CRON_USER} {command} > reconcile.json && cron=0 || cron=$?\n"
            'echo "cron exit $cron"\n')


def script(blocks: list[tuple[str, str]]) -> str:
    """One shell script: each block announced on stdout and stderr, so a failure names it."""
    parts = []
    for name, body in blocks:
        parts.append(f"echo '{MARK}{name}'; echo '{MARK}{name}' >&2\n{body}")
    return "".join(parts)


def by_block(output: str) -> dict[str, str]:
    parts, name = {}, None
    for line in output.splitlines(keepends=True):
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            parts[name] = ""
        elif name is not None:
            parts[name] += line
    return parts


# --- every `valitystili …` names a real command and real options -----------------------------


def command_lines(text: str) -> list[str]:
    """Each ``valitystili …`` command of the README: in blocks (a logical line, continuations
    joined; in a transcript only the ``$ `` lines) and in prose (an inline code span, line breaks
    folded)."""
    found, prose = [], []
    for language, lines in fenced_blocks(text):
        if language not in ("sh", ""):
            continue
        transcript = any(line.lstrip().startswith("$ ") for line in lines)
        logical, continued = "", False
        for line in lines:
            line = line.strip()
            if transcript and not continued:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            logical += line
            continued = logical.endswith("\\")
            if continued:
                logical = logical[:-1] + " "
                continue
            found.extend(segment for segment in re.split(r"&&|\|\||;|\|", logical)
                         if _valitystili_words(segment) is not None)
            logical = ""
    inside = False
    for line in text.splitlines():
        if FENCE.match(line) or (inside and line.lstrip().startswith("```")):
            inside = not inside
        elif not inside:
            prose.append(line)
    for span in re.findall(r"`([^`]+)`", " ".join(prose)):
        if _valitystili_words(span) is not None:
            found.append(span)
    return found


def _valitystili_words(segment: str) -> list[str] | None:
    """The words after ``valitystili`` in a shell segment (comments, redirections cut)."""
    segment = segment.split(" #", 1)[0].replace("\\%", "%")
    try:
        words = shlex.split(segment)
    except ValueError:
        words = segment.split()
    for at, word in enumerate(words):
        if "=" not in word and ":" not in word and word.rsplit("/", 1)[-1] == "valitystili":
            rest = words[at + 1:]
            for stop, after in enumerate(rest):
                if after.startswith((">", "<")):
                    return rest[:stop]
            return rest
    return None


def _placeholder(word: str) -> bool:
    return "…" in word or word == "..." or (word.isupper() and word.isalpha())


def check_command(words: list[str]) -> str | None:
    """None when the words name an existing command and its options; else what is wrong."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="valitystili")
    path = ["valitystili"]
    at = 0
    while at < len(words):
        word = words[at]
        if word == "--":
            return None
        if word.startswith("-") and not re.fullmatch(r"-\d[\d,.]*", word):
            option = _option(command, ctx, word.split("=", 1)[0])
            if option is None and isinstance(command, click.Group):
                # ``import --dry-run FILE``: a group that passes options on to its command
                try:
                    name, sub, rest = command.resolve_command(ctx, words[at:])
                except click.ClickException:
                    name = None
                if name is not None and sub is not None and len(rest) == len(words) - at:
                    path.append(name)
                    ctx = click.Context(sub, info_name=name, parent=ctx)
                    command = sub
                    continue
            if option is None:
                return f"{' '.join(path)} has no option {word.split('=', 1)[0]}"
            at += 1 if (option.is_flag or option.count or "=" in word) else 2
            continue
        if _placeholder(word):
            return None
        if isinstance(command, click.Group):
            try:
                name, sub, rest = command.resolve_command(ctx, words[at:])
            except click.UsageError:
                return f"{' '.join(path)} has no command {word}"
            path.append(name)
            ctx = click.Context(sub, info_name=name, parent=ctx)
            command = sub
            at = len(words) - len(rest) if len(rest) < len(words) - at else at
            continue
        at += 1    # an argument of a command
    return None


def _option(command: click.Command, ctx: click.Context, name: str) -> click.Option | None:
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and name in param.opts + param.secondary_opts:
            return param
    return None


def test_every_readme_command_names_a_real_command_and_options():
    lines = command_lines(README.read_text("utf-8"))
    assert len(lines) > 80, "the README's commands were not found"
    wrong = [f"{line.strip()!r}: {problem}" for line in lines
             if (problem := check_command(_valitystili_words(line) or [])) is not None]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("line", "problem"), [
    ("valitystili batch run --date 2.11.2026 --yes", None),
    ("valitystili --format json plan show 1 > plan-1.json", None),
    ("valitystili import docs/a.xml --dry-run", None),
    ("VALITYSTILI_USER=hilla valitystili batch approve 1", None),
    ("valitystili COMMAND --help", None),
    ("valitystili batch start 1", "valitystili batch has no command start"),
    ("valitystili batch run --when 2.11.2026", "valitystili batch run has no option --when"),
    ("valitystili --colour batch list", "valitystili has no option --colour"),
    ("valitystili import pain002 --again x.xml", "valitystili import pain002 has no option --again"),
])
def test_the_command_check_names_what_is_wrong(line, problem):
    assert check_command(_valitystili_words(line)) == problem


# --- the blocks run ------------------------------------------------------------------------------


def test_the_readme_blocks_run_in_order_on_a_fresh_database(tmp_path_factory):
    blocks = runnable_blocks(README.read_text("utf-8"))
    names = [name for name, _ in blocks]
    assert names == ["walkthrough", "social worker", "handler", "finance", "closing", "cron",
                     "auditor", "admin"]
    from helpers.readme import shared_run  # helpers.readme imports this module
    result = shared_run(tmp_path_factory)
    work = result.work
    out, err = result.stdout, result.stderr
    failed = list(err)[-1] if err else "(before any block)"
    assert result.returncode == 0, (f"block {failed!r} exited {result.returncode}:\n"
                                    f"{err.get(failed, '')[-2000:]}")
    assert list(out)[:len(names)] == names

    # walkthrough: rent 520,00 and the first of five instalments (DESIGN §6)
    assert "first export  yes" in out["walkthrough"]
    assert "batch 1: 2 payments, 796,00\u00a0€, executing 2026-11-02" in err["walkthrough"]
    validate_pain001((work / "maksut-2026-11-02.xml").read_bytes(), "09")
    assert '"version": 1' in (work / "plan-1.json").read_text("utf-8")

    # social worker: client 2 opened, a record corrected, the IBAN change waiting, a letter
    social = out["social worker"]
    assert "reference             100000023" in social
    assert "1       assessment         2026-10-20  superseded by 5" in social
    assert "1       iban       FI49 5000 9420 0287 30  FI33 5720 0020 0777 88  waiting for " \
        "approval  1" in social
    assert "förmedlingskontot" in (work / "brev-1-2026-11.html").read_text("utf-8")

    # handler: 400,00 to client 2, 100,00 split, 100,00 refunded, 120,00 paid by hand
    handler = out["handler"]
    assert "line           18\nclient         2\namount €       400,00" in handler
    assert "17    1          60,00  split:17\n17    2          40,00  split:17" in handler
    assert "1       manual  Maija Meikäläinen  FI33 5720 0020 0777 88    120,00" in handler
    assert "batch 2: 2 payments, 220,00\u00a0€, executing 2026-11-03" in err["handler"]
    assert "ack comment  Asked the bank who paid it" in handler
    assert "wrote decision 6 of client 2 (fi) to paatos-2.txt" in err["handler"]

    # finance: batch 1's instalment rejected (AC04) and back with client 1, Kela's money booked
    # by reference, batch 2 exported; client 1: 1 900 − 796 + 60 − 120 + 276 + 380 = 1 700,00
    assert ("rejected: order:inst:1:2026-11-02 (instalment, client 1): AC04: the account is "
            "closed") in err["finance"]
    assert "23    payment_rejected  1         276,00" in out["finance"]
    assert "matched reference        2" in out["finance"]
    assert "2 clients, 2\u00a0640,00\u00a0€ in all" in err["finance"]
    validate_pain001((work / "maksut-2026-11-03.xml").read_bytes(), "09")
    assert (work / "saldot-2026-11.csv").read_text("utf-8").splitlines() == [
        "client,name,status,balance_eur",
        "1,Maija Meikäläinen,open,1700.00",
        "2,Matti Virtanen,open,940.00",
    ]

    # closing: 940,00 to the guardian, approved by the other handler; a second period
    closing = out["closing"]
    assert "payout approved by  hilla\nbalance €           940,00" in closing
    assert "period     2\nstart on   2027-03-01" in closing
    assert (work / "luovutus-2").is_dir()

    # cron: the crontab's arguments; the batch's orders not yet on a statement → exit 1
    assert f"valitystili user add {CRON_USER} --role finance" in README.read_text("utf-8")
    assert "cron exit 1" in out["cron"]
    subjects = {(row["check"], row["subject"])
                for row in json.loads((work / "reconcile.json").read_text("utf-8"))}
    assert {("uncleared_payment", "order:refund:1"),
            ("uncleared_payment", "order:manual:2")} <= subjects

    # auditor: checks only; admin: the chain and the ledger hold to the end
    assert "audit trail: 64 entries, chain intact" in err["auditor"]
    assert "checked only: no flags refreshed, nothing recorded" in err["auditor"]
    assert "exit 1 (1: findings" in out["auditor"]
    assert "client   1\nuser     saara\ngranted  no" in out["admin"]
    assert "ledger: 25 transactions, invariants hold" in err["admin"]
