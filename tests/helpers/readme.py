"""Running the README's routines as a user would, for tests that look at what they print and
write (tests/cli/test_readme.py checks the amounts; its rules for which blocks run, in which
order and shell, are the ones used here: ``runnable_blocks``, ``script``, ``by_block``).

``run_readme(tmp_path)`` copies ``docs/examples/`` into ``tmp_path/repo`` with ``../shared``
beside it, runs every runnable block (and the cron line) in one ``bash -e`` shell on a fresh
database, optionally followed by ``after`` (more blocks of shell lines, each ``(name,
script)``), and returns what each block printed on stdout and stderr and the folder it ran in.
"""

from __future__ import annotations

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


def run_readme(tmp_path: Path, after: tuple[tuple[str, str], ...] = ()) -> ReadmeRun:
    require_shared()
    blocks = [*runnable_blocks(README.read_text("utf-8")), *after]
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "docs" / "examples", work / "docs" / "examples")
    (tmp_path / "shared").symlink_to(SHARED)
    inputs = frozenset(path for path in work.rglob("*") if path.is_file())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("VALITYSTILI_DB", "VALITYSTILI_USER", "VALITYSTILI_DEBUG"):
        env.pop(name, None)
    result = subprocess.run(["bash", "-e", "-c", script(blocks)], cwd=work, env=env, check=False,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    return ReadmeRun(result.returncode, by_block(result.stdout), by_block(result.stderr), work,
                     inputs)
