"""Format detection and the one entry point for reading a statement file.

Rules:

- ``detect_format`` looks only at the start of the file: XML is told apart by its root
  namespace (camt.052 / camt.053 / camt.054, read through ``imports.xmlsafe`` so hostile XML is refused even
  here); MT940 starts with ``:20:`` or a SWIFT ``{1:`` block header; CSV has a header row with
  the required columns of the documented layout. Anything else is a ``StatementError``.
- ``read_statements`` dispatches to the reader; every reader honours ``max_bytes``.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from imports.camt import NOT_CAMT, camt_kind, read_camt, split_tag
from imports.csvfile import header_columns, read_csv
from imports.errors import StatementError
from imports.mt940 import read_mt940
from imports.parsing import DEFAULT_MAX_BYTES, check_size, display_name
from imports.records import Statement
from imports.xmlsafe import root_tag

Format = Literal["camt052", "camt053", "camt054", "mt940", "csv"]
FORMATS: tuple[str, ...] = ("camt052", "camt053", "camt054", "mt940", "csv")
CAMT_FORMATS = ("camt052", "camt053", "camt054")

_SNIFF_BYTES = 64 * 1024
# Some banks put a blank line or a "-" separator before the first block.
_MT940_START = re.compile(rb"(?:[-\s]*\r?\n)?\s*(?::20:|\{1:)")


def detect_format(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Format:
    """Which reader a file needs: ``camt052``, ``camt053``, ``camt054``, ``mt940`` or ``csv``."""
    name = display_name(path)
    check_size(path, max_bytes)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if not body.strip():
        raise StatementError(f"{name}: file is empty")
    if body.lstrip().startswith(b"<"):
        namespace, _local = split_tag(root_tag(path, max_bytes=max_bytes))
        kind = camt_kind(namespace)
        if kind is None:
            shown = namespace or "no namespace"
            raise StatementError(f"{name}: {NOT_CAMT} (namespace {shown})")
        return kind  # type: ignore[return-value]
    if _MT940_START.match(body):
        return "mt940"
    first_line = body.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        if header_columns(first_line.decode("utf-8")) is not None:
            return "csv"
    except UnicodeDecodeError:
        pass
    raise StatementError(
        f"{name}: unknown statement format (expected camt.052/053/054 XML, MT940 or the CSV layout)"
    )


def read_statements(
    path: str | os.PathLike[str], format: str = "auto", *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Statement]:
    """Read a statement file of the given format (``"auto"``: detect it)."""
    chosen = detect_format(path, max_bytes=max_bytes) if format == "auto" else format
    if chosen in CAMT_FORMATS:
        statements = read_camt(path, max_bytes=max_bytes)
        if format != "auto" and statements[0].source != chosen:
            raise StatementError(
                f"{display_name(path)}: is {statements[0].source}, not {chosen}"
            )
        return statements
    if chosen == "mt940":
        return read_mt940(path, max_bytes=max_bytes)
    if chosen == "csv":
        return read_csv(path, max_bytes=max_bytes)
    raise StatementError(f"unknown statement format {format!r}; use auto, {', '.join(FORMATS)}")
