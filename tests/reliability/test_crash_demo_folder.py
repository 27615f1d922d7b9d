"""A ``demo`` killed while it clears the folder an earlier demo made can be run again.

The demo replaces a folder only when it holds the demo's marker file (``--out`` pointed at the
wrong place must never delete someone's files). Clearing the folder took the marker with it
before the rest, so a demo killed in between left a folder without its marker and every later
demo refused it ("is not empty and was not made by the demo") until someone deleted it by hand.

The test makes the clearing long (many files in ``statements/``), SIGKILLs the demo's re-run
as soon as it has begun deleting them, and runs the demo once more.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from valitystili.demo.run import MARKER, run_demo

ENTRY = "from valitystili.cli import main; main()"
EXTRA_FILES = 3_000
WAIT_SECONDS = 120


def demo_process(out) -> subprocess.Popen:
    env = {**os.environ, "VALITYSTILI_USER": "admin"}
    return subprocess.Popen([sys.executable, "-c", ENTRY, "--format", "json", "demo",
                             "--clients", "1", "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_while_clearing(process: subprocess.Popen, statements) -> bool:
    """SIGKILL ``process`` once it has deleted some of ``statements``; False if it got past."""
    deadline = time.monotonic() + WAIT_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        try:
            left = sum(1 for _ in os.scandir(statements))
        except FileNotFoundError:
            left = 0
        if left < EXTRA_FILES:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    process.communicate(timeout=WAIT_SECONDS)
    return process.returncode == -signal.SIGKILL


def test_a_demo_killed_while_clearing_its_folder_leaves_it_marked_and_the_re_run_works(tmp_path):
    out = tmp_path / "demo"
    run_demo(out, clients=1)
    statements = out / "statements"
    for n in range(EXTRA_FILES):
        (statements / f"camt054-extra-{n:05d}.xml").write_bytes(b"<Document/>")
    assert kill_while_clearing(demo_process(out), statements), "the demo was not killed"
    assert any(statements.iterdir()) or any(out.iterdir())     # the kill left it half cleared
    assert (out / MARKER).is_file()                               # and still the demo's
    again = demo_process(out)
    stdout, stderr = again.communicate(timeout=WAIT_SECONDS)
    assert (again.returncode, stderr) == (0, "")
    assert json.loads(stdout)["reconcile"] == "clean"
    assert sorted(p.name for p in statements.iterdir() if "extra" in p.name) == []
