"""Reading by ``IN (...)`` lists of bounded length.

Rules of this module:

- A query never carries more than :data:`CHUNK` values in one ``IN`` list: SQLite limits the
  number of bound parameters, PostgreSQL plans a long list slowly, and bulk paths (an import of
  100 000 entries, a batch over 10 000 clients) ask about that many keys at once.
- Each chunk's rows are fetched before the next query runs, so a caller may write between the
  rows it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

#: Values per ``IN`` list.
CHUNK = 5000

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def select_in(session: Session, query: Select, column: Any, values: Sequence[Any], *,
              size: int = CHUNK) -> Iterator[Any]:
    """The rows of ``query`` whose ``column`` is one of ``values``, one query per chunk."""
    for part in chunks(values, size):
        yield from session.execute(query.where(column.in_(part))).all()


def scalars_in(session: Session, query: Select, column: Any, values: Sequence[Any], *,
               size: int = CHUNK) -> Iterator[Any]:
    """As :func:`select_in`, the first column of each row (ORM objects for ``select(Model)``)."""
    for part in chunks(values, size):
        yield from session.execute(query.where(column.in_(part))).scalars().all()
