"""The CLI's context object: options, the database, the acting user, and printing.

Commands get an ``App`` with ``@pass_app``, open one unit of work with ``app.unit()`` (which
yields the session and the acting user), call one service function and ``app.emit`` the result.
The database and the service are loaded when a command first asks for them, not before: the
group makes an ``App`` for ``--help`` too (fast start, STYLE 13).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

import click

from valitystili.base import i18n
from valitystili.base.i18n import _
from valitystili.cli.output import Columns, render

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker


class App:
    def __init__(self, db_option: str | None, fmt: str, quiet: bool, wide: bool = False,
                 language_by: str = "default"):
        self.db_option = db_option
        self.format = fmt
        self.quiet = quiet
        self.wide = wide
        #: What chose the language (``base/i18n.choose_language``): the acting user's setting
        #: comes before the locale, after ``--lang`` and ``VALITYSTILI_LANG``.
        self.language_by = language_by

    def speak_to(self, actor) -> None:
        """Speak the acting user's language from now on, unless --lang or the environment
        named one (the help was shown before: it needs no database)."""
        if actor.language and self.language_by in ("locale", "default"):
            i18n.set_language(actor.language)

    @cached_property
    def url(self) -> str:
        from valitystili.store import db

        return db.resolve_url(self.db_option)

    @cached_property
    def engine(self) -> Engine:
        from valitystili.store import db

        db.make_private(self.url)
        return db.make_engine(self.url)

    @cached_property
    def factory(self) -> sessionmaker[Session]:
        from valitystili.store import db

        return db.session_factory(self.engine)

    def ready(self) -> None:
        """Make sure there is a ledger and its schema is current (only ``db init`` makes one)."""
        from valitystili.store import db

        db.ensure_schema(self.engine)

    @contextmanager
    def unit(self, *, read_only: bool = False):
        """One atomic unit of work as the acting user: all of it is written, or none.

        A wait for another user's lock past the setting lock_timeout_seconds ends the unit
        with one line and exit 3 (``db.lock_waits``)."""
        from sqlalchemy.orm import Session

        from valitystili.store import db
        from valitystili.trust import access, audit
        from valitystili.trust.auth import current_actor

        with db.lock_waits(self.engine):
            self.ready()
        if read_only:
            # Readers need no write lock on SQLite; PostgreSQL ignores the option.
            session = Session(self.engine.execution_options(sqlite_begin="DEFERRED"),
                              expire_on_commit=False)
        else:
            session = self.factory()
        audit.require_entries(session)    # what a command posts, its audit entry records
        try:
            with db.lock_waits(self.engine), session.begin():
                actor = current_actor(session)
                self.speak_to(actor)
                yield session, actor
        except access.NotYourClient as refused:
            # Need to know: the refused attempt goes into the access log, in a unit of its own.
            session.close()
            with self.factory() as logging, logging.begin():
                access.record_refusal(logging, current_actor(logging), refused)
            raise
        finally:
            session.close()

    def emit(self, data, spec: Columns | None = None) -> None:
        """Print data in the chosen format; ``spec`` names a list's columns (``cli/output.py``)."""
        if self.quiet:
            return
        from valitystili.cli.tables import HEADERS

        text = render(data, self.format, spec, wide=self.wide, headers=HEADERS)
        if text:
            click.echo(text)

    def info(self, message: str) -> None:
        """A human note on stderr (stdout stays parseable)."""
        if not self.quiet:
            click.echo(message, err=True)

    def notes(self, lines: list[str]) -> None:
        """Tell the person where what was stored differs from what they typed (stderr)."""
        for line in lines:
            self.info(f"valitystili: note: {line}")     # the prefix is the same in every language


pass_app = click.make_pass_decorator(App)


def warn(message: str) -> None:
    """A warning on stderr, shown even with -q (a person must see it): ``valitystili: warning:``
    (the same in every language: scripts look for it), then the message in the person's
    language (``base.i18n.shown``: a ``Message`` kept English in the result is translated)."""
    click.echo(f"valitystili: warning: {i18n.shown(message)}", err=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def stdin_is_terminal() -> bool:
    """A person can answer a question (not a script, cron or a pipe)."""
    return sys.stdin.isatty()


def confirm(reason: str, question: str) -> bool:
    """Ask a person at a terminal ``REASON. QUESTION [y/N]`` on stderr; False without one."""
    if not stdin_is_terminal():
        return False
    return click.confirm(_("{reason}. {question}").format(reason=reason, question=question),
                         default=False, err=True)
