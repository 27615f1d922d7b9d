"""Running the README's routines as a user would, for tests that look at what they print and
write (tests/cli/test_readme.py checks the amounts; its rules for which blocks run, in which
order and shell, are the ones used here: ``runnable_blocks``, ``script``, ``by_block``).

``run_readme(tmp_path)`` copies ``docs/examples/`` into ``tmp_path/repo`` with ``../shared``
beside it, runs every runnable block (and the cron line) in one ``bash -e`` shell on a fresh
database, optionally followed by ``after`` (more blocks of shell lines, each ``(name,
script)``), and returns what each block printed on stdout and stderr and the folder it ran in.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli.test_readme import README, ROOT, SHARED, by_block, runnable_blocks, script

#: The whole README run may take this long on a loaded machine.
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class ReadmeRun:
    returncode: int
    stdout: dict[str, str]      # by block name, in README order
    stderr: dict[str, str]
    work: Path                  # the folder the blocks ran in (the repository's copy)
    inputs: frozenset[Path]     # files that were there before the blocks ran


def require_shared() -> None:
    """Skip without ``../shared`` (the bank samples); fail instead under ``CI=true``."""
    if not SHARED.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED} is missing: the walkthrough imports the bank samples from it")
        pytest.skip(f"{SHARED} (the bank samples) is not beside the repository")


def run_readme(tmp_path: Path, after: tuple[tuple[str, str], ...] = (),
               language: str | None = None) -> ReadmeRun:
    """With ``language``, the run reads that language from ``VALITYSTILI_LANG`` ("en": none)
    and no locale of the machine's."""
    require_shared()
    blocks = [*runnable_blocks(README.read_text("utf-8")), *after]
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "docs" / "examples", work / "docs" / "examples")
    (tmp_path / "shared").symlink_to(SHARED)
    inputs = frozenset(path for path in work.rglob("*") if path.is_file())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("VALITYSTILI_DB", "VALITYSTILI_USER", "VALITYSTILI_DEBUG"):
        env.pop(name, None)
    if language is not None:
        for name in ("LC_ALL", "LC_MESSAGES", "VALITYSTILI_LANG"):
            env.pop(name, None)
        env["LANG"] = "C.UTF-8"
        if language != "en":
            env["VALITYSTILI_LANG"] = language
    result = subprocess.run(["bash", "-e", "-c", script(blocks)], cwd=work, env=env, check=False,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    return ReadmeRun(result.returncode, by_block(result.stdout), by_block(result.stderr), work,
                     inputs)


# --- one run for every test that reads it --------------------------------------------------------

#: Commands run after the README's blocks in the shared runs, for the tests that read them: the
#: reading commands once more in the formats a script uses (JSON carries every field, ``--wide``
#: every column), the places where the README's people ask for an identity code by name, and a
#: few commands whose outputs the languages test compares (each echoes its exit status).
AFTER = (
    ("formats", """\
export VALITYSTILI_USER=aune
valitystili --format json client show 2
valitystili --format json client list
valitystili --format csv client list
valitystili --wide client show 1
valitystili --format json client records 2
valitystili --format json audit log
valitystili --format csv audit log --client 2
valitystili --format json income list
valitystili --format json flags
unset VALITYSTILI_USER
"""),
    ("asked", """\
VALITYSTILI_USER=sanna valitystili client show 1 --show-hetu
VALITYSTILI_USER=sanna valitystili client export 1 --out asiakas-1.json
"""),
    ("languages", """set +e
VALITYSTILI_USER=aune valitystili batch run --dry-run; echo "exit $?"
VALITYSTILI_USER=hannu valitystili batch run --date 31.2.2026 --dry-run; echo "exit $?"
VALITYSTILI_USER=hannu valitystili client show 9; echo "exit $?"
valitystili batch run --help | head -n 3
VALITYSTILI_USER=sanna valitystili client show 1; echo "exit $?"
VALITYSTILI_USER=fiona valitystili --format json report balances > kielet-saldot.json; echo "exit $?"
VALITYSTILI_USER=fiona valitystili --format csv income list > kielet-tulot.csv; echo "exit $?"
VALITYSTILI_USER=aune valitystili --format json batch show 2 > kielet-era-2.json; echo "exit $?"
VALITYSTILI_USER=aune valitystili --format json ledger balances > kielet-tilit.json; echo "exit $?"
set -e
"""),
)

_runs: dict[str, ReadmeRun] = {}


def shared_run(tmp_path_factory, language: str = "en") -> ReadmeRun:
    """The README's blocks and :data:`AFTER` run once per test session and language, for every
    test that reads them (tests/cli/test_readme.py, test_readme_languages.py,
    tests/trust/test_personal_data.py): each run takes a minute or more. Under pytest-xdist the
    workers share it through a folder of the session's run (``PYTEST_XDIST_TESTRUNUID``) and a
    file lock: the first worker to ask runs it, the others wait and read its result. Readers
    must not change the run's folder."""
    text = README.read_text("utf-8") + json.dumps(AFTER) + language
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if key in _runs:
        return _runs[key]
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if uid is None:
        _runs[key] = run_readme(tmp_path_factory.mktemp(f"readme-{language}"), AFTER, language)
        return _runs[key]
    folder = tmp_path_factory.getbasetemp().parent / f"readme-{uid}-{key}"
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = folder / "run.json"
        if not stored.exists():
            run = run_readme(folder, AFTER, language)
            stored.write_text(json.dumps({
                "returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr,
                "inputs": sorted(str(path) for path in run.inputs)}), "utf-8")
        data = json.loads(stored.read_text("utf-8"))
    _runs[key] = ReadmeRun(data["returncode"], data["stdout"], data["stderr"], folder / "repo",
                           frozenset(Path(path) for path in data["inputs"]))
    return _runs[key]
