"""The README's walkthrough runs exactly as written, from an empty database to a payment file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from valitystili.payments.pain001 import validate_pain001

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def walkthrough() -> str:
    lines, inside = [], False
    for line in (ROOT / "README.md").read_text("utf-8").splitlines():
        if line == "# walkthrough":
            inside = True
        elif inside and line.startswith("```"):
            break
        if inside:
            lines.append(line)
    assert lines, "README.md has no walkthrough block"
    return "\n".join(lines) + "\n"


def test_the_readme_walkthrough_runs(tmp_path):
    if not SHARED.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED} is missing: the walkthrough imports the bank samples from it")
        pytest.skip(f"{SHARED} (the bank samples) is not beside the repository")
    work = tmp_path / "repo"
    (work / "docs" / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "docs" / "examples" / "plan.toml", work / "docs" / "examples")
    (tmp_path / "shared").symlink_to(SHARED)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VALITYSTILI_DB", None)
    result = subprocess.run(["bash", "-e", "-c", walkthrough()], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "first export  yes" in result.stdout
    # Rent 520,00 and the first of five instalments: the samples' money is not Kela's
    # November benefits, which still count as coming on 2.11., their day (DESIGN §6).
    assert "batch 1: 2 payments, 796,00\u00a0€, executing 2026-11-02" in result.stderr
    validate_pain001((work / "maksut-2026-11-02.xml").read_bytes(), "09")
    assert '"version": 1' in (work / "plan-1.json").read_text("utf-8")
