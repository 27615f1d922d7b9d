"""How fast the command line answers: whole processes, as a handler runs them all day.

Times, as separate processes on a 1,000-client demo database (built once, with ``valitystili
demo``), ``python -c pass`` (the floor), ``valitystili --help``, ``valitystili client show 1``
and ``valitystili --format json report balances``. The commands run in turn, round after round
(A B C D A B C D …), so load on a shared machine falls on all of them alike; the median of each
is printed with the machine's load average.

    python -m bench.startup                 # 1,000 clients, 9 rounds
    python -m bench.startup --rounds 15 --db /tmp/startup.db
    git worktree add /tmp/before <commit>   # then, the same commands of both trees in turn:
    python -m bench.startup --against /tmp/before

With ``--against DIR`` every command also runs with the code of the checkout ``DIR`` (put first
on ``PYTHONPATH``; the database stays the same), right before the same command of this tree, so
the two are measured under the same load.

Each line gives the wall time (median, min, max) and the median CPU time (user + system) of the
process: on a busy shared machine the wall time grows with the load, the CPU time much less, so
the CPU time is the better guess at what an idle machine's wall time would be.

Targets (issue "One home for every rule"): ``--help`` <= 0.25 s and a one-client lookup
<= 0.5 s on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENTS = 1000
ROUNDS = 9


def build(out: Path, clients: int) -> Path:
    """A demo month with ``clients`` clients; returns the database file."""
    if out.exists():
        shutil.rmtree(out)
    subprocess.run([_tool(), "demo", "--clients", str(clients), "--months", "1", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out / "demo.db"


def _tool() -> str:
    return str(Path(sys.executable).with_name("valitystili"))


def commands(db: Path) -> dict[str, list[str]]:
    tool = _tool()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "valitystili --help": [tool, "--help"],
        "valitystili client show 1": [tool, "--db", str(db), "client", "show", "1"],
        "valitystili --format json report balances": [tool, "--db", str(db), "--format", "json",
                                                      "report", "balances"],
    }


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(db: Path, rounds: int,
            against: Path | None = None) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each run of each command, per command."""
    env = {**os.environ, "VALITYSTILI_USER": "hannu"}
    trees = {"": env}
    if against is not None:
        path = os.pathsep.join(filter(None, [str(against), env.get("PYTHONPATH")]))
        trees = {f"[{against.name}] ": {**env, "PYTHONPATH": path}, "": env}
    times: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for name, argv in commands(db).items():
            for label, tree_env in trees.items():
                cpu, started = _cpu_of_children(), time.perf_counter()
                subprocess.run(argv, check=True, env=tree_env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                times.setdefault(label + name, []).append(
                    (time.perf_counter() - started, _cpu_of_children() - cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--db", type=Path, help="an existing demo database to use")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="a checkout of another commit to time in turn with this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or build(Path(folder) / "demo", args.clients)
        load_before = os.getloadavg()[0]
        times = measure(db, args.rounds, args.against)
        load_after = os.getloadavg()[0]
    print(f"{args.rounds} rounds, load average {load_before:.2f} -> {load_after:.2f}")
    for name, runs in times.items():
        wall = [w for w, _ in runs]
        print(f"{name:52s} median {statistics.median(wall):6.3f} s   "
              f"min {min(wall):6.3f} s   max {max(wall):6.3f} s   "
              f"CPU {statistics.median(c for _, c in runs):6.3f} s")


if __name__ == "__main__":
    main()
