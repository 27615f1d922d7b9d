"""The one hardened path by which statement XML is parsed.

Rules (every XML reader goes through here, nothing else calls lxml's parsers):

- The file size is checked before parsing (``max_bytes``, default 256 MiB) and again while
  reading, so a growing file or a pipe cannot slip past the check.
- Any DOCTYPE is refused, and with it every ENTITY declaration (they can only live in one): no
  bank statement needs a DTD, and DTDs are how external-entity (XXE) and entity-expansion
  ("billion laughs") attacks get in. The prolog is scanned *before* lxml sees the file; the
  parser is configured as a second wall (``resolve_entities=False, no_network=True,
  load_dtd=False, huge_tree=False``) and the parsed document is checked for a DTD as a third.
- Only UTF-8 and other ASCII-compatible encodings are accepted: ISO 20022 files are UTF-8, and a
  byte-level prolog scan is only sound for ASCII-compatible text.
- Parsing streams with ``iterparse``: each element handed to the caller is cleared and detached
  as soon as the caller moves on, so a 100 000-entry statement never sits in memory as a tree.
- Malformed or truncated XML, and every other lxml failure, becomes a ``StatementError`` naming
  the file and the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from lxml import etree

from imports.errors import StatementError
from imports.parsing import DEFAULT_MAX_BYTES, CappedReader, check_size, display_name

# The prolog (XML declaration, comments, processing instructions) of a real statement is a few
# hundred bytes; a prolog that goes on for a megabyte is not a statement.
_MAX_PROLOG_BYTES = 1024 * 1024

# lxml appends ", line N, column M" to libxml2's text; the line is already in the message.
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    # Comments and PIs carry nothing a reader uses; dropping them keeps the streamed tree small.
    "remove_comments": True,
    "remove_pis": True,
    "remove_blank_text": True,
}


def _refuse_doctype(name: str) -> StatementError:
    return StatementError(f"{name}: refused: the XML has a DOCTYPE/ENTITY declaration")


def check_prolog(path: str | os.PathLike[str]) -> None:
    """Scan the bytes before the root element and refuse a DOCTYPE or a non-XML start.

    Tokens are skipped properly (a comment mentioning ``<!DOCTYPE`` is not a DOCTYPE, and a
    DOCTYPE hidden after a long comment is still found).
    """
    name = display_name(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_MAX_PROLOG_BYTES)
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    if not head.strip():
        raise StatementError(f"{name}: file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"\x00<", b"<\x00"):
        raise StatementError(f"{name}: XML in UTF-16/UTF-32 is not accepted; use UTF-8")
    offset = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while offset < len(head) and head[offset] in b" \t\r\n":
            offset += 1
        rest = head[offset:]
        if rest.startswith(b"<?"):
            end = rest.find(b"?>")
            closer = 2
        elif rest.startswith(b"<!--"):
            end = rest.find(b"-->", 4)
            closer = 3
        elif rest.startswith(b"<!"):
            # <!DOCTYPE in any spelling, and any other declaration: none belongs in a statement.
            raise _refuse_doctype(name)
        elif rest.startswith(b"<") and len(rest) > 1:
            return
        elif not rest or rest == b"<":
            end = -1
            closer = 0
        else:
            raise StatementError(f"{name}: not an XML document")
        if end < 0:
            if len(head) >= _MAX_PROLOG_BYTES:
                raise StatementError(
                    f"{name}: the XML prolog is longer than {_MAX_PROLOG_BYTES} bytes"
                )
            raise StatementError(f"{name}: XML is truncated before the root element")
        offset += end + closer


def _iterparse(
    source: BinaryIO | CappedReader, events: Sequence[str], tag: Sequence[str] | None
) -> etree.iterparse:
    return etree.iterparse(source, events=tuple(events), tag=tag, **_PARSER_OPTIONS)


def _syntax_error(name: str, exc: etree.XMLSyntaxError) -> StatementError:
    line, message = exc.lineno, (exc.msg or str(exc) or "parse error")
    if not line:
        # With resolve_entities=False, lxml's iterparse reports some errors (an undefined
        # entity) as a bare "no element found (line 0)". The real error is the most recent
        # entry of its error log (which, for iterparse, also keeps older parses' errors).
        fatals = list(exc.error_log.filter_from_fatals()) if exc.error_log else []
        if fatals:
            line, message = fatals[-1].line, fatals[-1].message
    first = _POSITION_SUFFIX.sub("", message.strip().splitlines()[0])
    return StatementError(f"{name}: malformed or truncated XML at line {line}: {first}")


def _check_no_dtd(element: etree._Element, name: str) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refuse_doctype(name)


def root_tag(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The root element's qualified tag (``{namespace}local``), read without parsing the rest."""
    name = display_name(path)
    check_size(path, max_bytes)
    check_prolog(path)
    try:
        with open(path, "rb") as fh:
            for _event, element in _iterparse(CappedReader(fh, max_bytes, name), ("start",), None):
                _check_no_dtd(element, name)
                return str(element.tag)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(name, exc) from None
    except etree.LxmlError as exc:
        raise StatementError(f"{name}: cannot parse the XML: {exc}") from None
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    raise StatementError(f"{name}: XML has no root element")  # pragma: no cover - lxml raises


def iter_elements(
    path: str | os.PathLike[str], tags: Sequence[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[etree._Element]:
    """Yield each element with one of ``tags`` (qualified) when its end tag has been parsed.

    The element, with its subtree, is valid only until the caller asks for the next one: it is
    then cleared and removed from its parent, which is what keeps memory flat. Ancestors are
    kept, so an element that ends later (a ``Stmt``) still has its own header children when it
    is yielded, minus the children that were yielded and released before it (its ``Ntry``).
    The size and prolog checks run first, here too, so no caller can skip them.
    """
    name = display_name(path)
    check_size(path, max_bytes)
    check_prolog(path)
    try:
        with open(path, "rb") as fh:
            checked = False
            for _event, element in _iterparse(CappedReader(fh, max_bytes, name), ("end",), tags):
                if not checked:
                    _check_no_dtd(element, name)
                    checked = True
                yield element
                release(element)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(name, exc) from None
    except etree.LxmlError as exc:
        raise StatementError(f"{name}: cannot parse the XML: {exc}") from None
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None


def release(element: etree._Element) -> None:
    """Free a processed element: drop its subtree and detach it from its parent."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)
