"""The demo command: the main job on the embedded default."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from valitystili.base.i18n import N_, _
from valitystili.cli.app import App, pass_app, stderr_is_terminal
from valitystili.cli.params import MONTH


@click.command("demo")
@click.option("--clients", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help=N_("How many fictional clients."))
@click.option("--months", default=1, show_default=True, type=click.IntRange(1, 36),
              help=N_("How many months to run, day by day."))
@click.option("--start", "start_month", type=MONTH, default="2026-11", show_default=True,
              help=N_("First month (YYYY-MM)."))
@click.option("--out", "out_dir", default="valitystili-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=N_("Folder for the demo's database, statements and payment files: new, "
                      "empty, or made by an earlier demo (then replaced)."))
@click.option("--seed", default=2026, show_default=True, help=N_("Seed for the fictional data."))
@pass_app
def demo(app: App, clients: int, months: int, start_month: tuple[int, int], out_dir: Path,
         seed: int) -> None:
    """Run the service end to end on a fresh SQLite ledger with fictional clients.

    Every banking day: import the bank's statements, run and approve the payment batch, export
    the pain.001 file and let a simulated bank execute it; reconcile at each month end. The demo
    always works in its own folder (--out), never in the database given with --db. The summary
    says whether any client whose plan adds up had a month without instalments, and how the
    clients short of the rent fared (rent paid in part; any money left idle while it was open).
    Exit 1 when reconciliation is not clean.

    \b
    Example:
      valitystili demo --clients 200 --months 3
      valitystili demo --start 2026-01 --months 12 --clients 200
    """
    from valitystili.demo.run import run_demo

    start = date(*start_month, 1)

    def progress(days):
        if not stderr_is_terminal() or app.quiet:
            return days
        return click.progressbar(days, label=_("banking days"), file=click.get_text_stream("stderr"),
                                 item_show_func=lambda d: d.isoformat() if d else "")

    def run(progress_fn):
        return run_demo(out_dir, clients=clients, months=months, start=start, seed=seed,
                        progress=progress_fn, translated=app.format == "table")


    if stderr_is_terminal() and not app.quiet:
        summary = run(lambda days: _iterate(progress(days)))
    else:
        summary = run(None)
    app.emit(summary)
    if summary["reconcile"] != "clean":
        raise click.exceptions.Exit(1)


def _iterate(bar):
    with bar as days:
        yield from days
