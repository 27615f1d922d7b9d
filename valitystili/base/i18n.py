"""What people read, in Finnish, Swedish or English: gettext catalogues through Babel.

Rules of this module (docs/translating.md is the guide for translators):

- Code marks what a person reads: ``_("text")`` where the text is shown, ``_("… {name} …")
  .format(name=…)`` for values (never an f-string inside ``_``), ``ngettext(one, many, n)`` for
  a count, and ``N_("text")`` (a no-op) for texts defined at import time — click help, table
  headers, the command table — which are translated where they are shown. The English text is
  the message id; English needs no catalogue.
- The catalogues are ``valitystili/locale/{fi,sv}/LC_MESSAGES/valitystili.po`` (made from
  ``valitystili.pot``). What scripts read is never translated: JSON keys, CSV headers, exit
  codes, flag kinds, command, option and criterion names.
- The language: ``--lang`` > ``VALITYSTILI_LANG`` > the acting user's setting (``user add
  --language``) > the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``fi_FI.UTF-8`` is Finnish)
  > English (:func:`choose_language`). This module knows no users: the command line passes the
  user's setting in once it knows the user (``cli/app.py``).
- Loading: a ``.mo`` beside the ``.po`` is used when it was compiled from that ``.po``: its
  Project-Id-Version names the ``.po``'s digest (:func:`compiled_from`; file times are no
  guide, since an installer writes the files in any order). The wheel's build compiles them
  (``setup.py``; by hand ``python -m valitystili.base.i18n compile``). Where there is none or it
  is of another ``.po`` — an editable install, a clean checkout, a translator's edit — the
  ``.po`` is compiled on first use with Babel into the user's cache directory, named by the
  ``.po``'s digest, so the next run reads the cached ``.mo`` with the standard library alone
  (fast start, STYLE 13); an unwritable cache is skipped and the ``.mo`` kept in memory. Fuzzy
  entries are never used.
- ``python -m valitystili.base.i18n check`` (and tests/base/test_i18n.py) fails when a marked
  message has no translation in either catalogue, an entry is fuzzy or obsolete (no code uses
  it), a translation's ``{placeholders}`` differ from the message's, or ``_`` is given an
  f-string. ``extract`` writes the ``.pot``, ``update`` merges it into both ``.po`` files,
  ``compile`` writes the ``.mo`` files.
"""

from __future__ import annotations

import ast
import gettext
import hashlib
import inspect
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

DOMAIN = "valitystili"
#: Every language the tool speaks; English is the code's own.
LANGUAGES = ("fi", "sv", "en")
#: The languages with a catalogue.
TRANSLATED = ("fi", "sv")
DEFAULT = "en"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = PACKAGE_DIR / "locale"
#: Environment variables of the locale, strongest first (POSIX).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
ENV_VARIABLE = "VALITYSTILI_LANG"

_language = DEFAULT
_loaded: dict[str, gettext.NullTranslations] = {}


# --- marking and translating -------------------------------------------------------------------

def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (texts made at import time)."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (the message itself in English or when untranslated)."""
    if _language == DEFAULT or not message:
        return message
    return _translations(_language).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for ``count`` things, in the current language."""
    if _language == DEFAULT:
        return singular if count == 1 else plural
    return _translations(_language).ngettext(singular, plural, count)


class Message(str):
    """A message with its values: the English text, which is the string itself — what JSON, CSV
    and stored texts hold and what compares equal — and, for a person, :meth:`shown` in the
    current language.

    ``Message("… {name} …", name=value)`` is marked for the catalogue like ``_``; a value may be
    a ``Message`` itself, shown in the same language. :func:`PluralMessage` is the form for a
    count, :meth:`joined` a list of messages with a separator. Use it where the English text is
    kept (a result's JSON, a flag's stored detail) and a person also reads it: the place that
    shows it calls :func:`shown`. :meth:`data` and :meth:`from_data` keep it in a JSON column.
    """

    template: str
    values: dict
    plural: str | None
    count: int | None
    separator: str | None
    parts: tuple

    def __new__(cls, template: str, /, **values) -> Message:
        return cls._made(template, values)

    @classmethod
    def _made(cls, template: str, values: Mapping, plural: str | None = None,
              count: int | None = None, separator: str | None = None, parts: tuple = (),
              english: str | None = None) -> Message:
        fields = {"template": template, "values": dict(values), "plural": plural,
                  "count": count, "separator": separator, "parts": tuple(parts)}
        made = str.__new__(cls, _render(fields, translated=False) if english is None
                           else english)
        made.__dict__.update(fields)
        return made

    @classmethod
    def joined(cls, separator: str, parts: Iterable[str]) -> Message:
        """``parts`` (messages or plain texts) with ``separator`` between them."""
        return cls._made("", {}, separator=separator, parts=tuple(parts))

    def shown(self) -> str:
        """The message in the current language."""
        return _render(self.__dict__, translated=True)

    def with_texts(self, change) -> Message:
        """The message with ``change`` applied to each text among its values (not to its
        message ids): e.g. a client's name replaced when the client is anonymised."""
        def each(value):
            if isinstance(value, Message):
                return value.with_texts(change)
            return change(value) if isinstance(value, str) else value

        return Message._made(self.template, {name: each(value) for name, value in
                                             self.values.items()}, self.plural, self.count,
                             self.separator, tuple(each(part) for part in self.parts))

    def data(self) -> dict:
        """The message as JSON data (:meth:`from_data` makes it again)."""
        def each(value):
            return {"message": value.data()} if isinstance(value, Message) else value

        if self.separator is not None:
            return {"separator": self.separator, "parts": [each(part) for part in self.parts]}
        data = {"template": self.template,
                "values": {name: each(value) for name, value in self.values.items()}}
        if self.plural is not None:
            data.update(plural=self.plural, count=self.count)
        return data

    @classmethod
    def from_data(cls, data: Mapping, english: str | None = None) -> Message:
        """The message :meth:`data` gave; ``english`` is its text as stored (kept as it is)."""
        def each(value):
            return (cls.from_data(value["message"])
                    if isinstance(value, Mapping) and "message" in value else value)

        if "separator" in data:
            return cls._made("", {}, separator=data["separator"],
                             parts=tuple(each(part) for part in data["parts"]), english=english)
        return cls._made(data["template"],
                         {name: each(value) for name, value in data["values"].items()},
                         data.get("plural"), data.get("count"), english=english)

    def __reduce__(self):
        return (Message.from_data, (self.data(), str(self)))


def _render(fields: Mapping, *, translated: bool) -> str:
    """A message's text from its fields (:class:`Message`), in English or translated."""
    def each(value):
        return _render(value.__dict__, translated=translated) if isinstance(value, Message) \
            else value

    if fields["separator"] is not None:
        return fields["separator"].join(each(part) for part in fields["parts"])
    singular, plural, count = fields["template"], fields["plural"], fields["count"]
    if plural is None:
        template = _(singular) if translated else singular
    elif translated:
        template = ngettext(singular, plural, count)
    else:
        template = singular if count == 1 else plural
    return template.format(**{name: each(value) for name, value in fields["values"].items()})


def PluralMessage(singular: str, plural: str, count: int, /, **values) -> Message:  # noqa: N802
    """A :class:`Message` for ``count`` things (marked like ``ngettext``)."""
    return Message._made(singular, values, plural, count)


def shown(text: str) -> str:
    """``text`` as a person reads it: a :class:`Message` in the current language, else as is."""
    return text.shown() if isinstance(text, Message) else text


#: click's "keep these lines" mark (``\\b`` in a docstring is the backspace character), written
#: in a message id as the two visible characters ``\\b``.
KEEP_LINES = "\b"
KEEP_LINES_VISIBLE = "\\b"


def help_message_id(help_text: str) -> str:
    """The message id of a click help text: cleaned as click shows it, its ``\\b`` visible."""
    return inspect.cleandoc(help_text).partition("\f")[0].replace(KEEP_LINES, KEEP_LINES_VISIBLE)


def translate_help(help_text: str) -> str:
    """A click help text (a docstring, an option's help) in the current language."""
    if _language == DEFAULT:
        return help_text
    key = help_message_id(help_text)
    translated = _(key)
    return help_text if translated == key else translated.replace(KEEP_LINES_VISIBLE, KEEP_LINES)


# --- the language ------------------------------------------------------------------------------

def language() -> str:
    """The current language: ``fi``, ``sv`` or ``en``."""
    return _language


def set_language(code: str) -> str:
    """Speak ``code`` from now on; returns the language spoken before (to restore it)."""
    global _language
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    previous, _language = _language, code
    return previous


def normalise(value: str | None) -> str | None:
    """The language of a code or a locale name (``fi``, ``sv_FI.UTF-8``, ``en_GB``), or None."""
    if not value:
        return None
    code = re.split(r"[_.@\-]", value.strip(), maxsplit=1)[0].lower()
    return code if code in LANGUAGES else None


def language_of_locale(environ: Mapping[str, str]) -> str | None:
    """The language of the locale: the first of LC_ALL, LC_MESSAGES, LANG that is set."""
    for name in LOCALE_VARIABLES:
        if environ.get(name):
            return normalise(environ[name])
    return None


def choose_language(flag: str | None, environ: Mapping[str, str],
                    user_setting: str | None = None) -> tuple[str, str]:
    """The language and what chose it: ``flag`` > ``env`` > ``user`` > ``locale`` > ``default``.

    ``flag`` is ``--lang``, ``environ`` the process's environment and ``user_setting`` the acting
    user's stored language. A value that names no language of ours is passed over.
    """
    for source, value in (("flag", normalise(flag)),
                          ("env", normalise(environ.get(ENV_VARIABLE))),
                          ("user", normalise(user_setting)),
                          ("locale", language_of_locale(environ))):
        if value is not None:
            return value, source
    return DEFAULT, "default"


# --- loading the catalogues --------------------------------------------------------------------

def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _translations(code: str) -> gettext.NullTranslations:
    if code not in _loaded:
        _loaded[code] = _load(code)
    return _loaded[code]


def _load(code: str) -> gettext.NullTranslations:
    po = po_path(code)
    mo = po.with_suffix(".mo")
    if not po.exists():
        if not mo.exists():
            return gettext.NullTranslations()
        with mo.open("rb") as stream:
            return gettext.GNUTranslations(stream)
    data = po.read_bytes()
    if mo.exists():
        with mo.open("rb") as stream:
            built = gettext.GNUTranslations(stream)
        if built.info().get("project-id-version") == compiled_from(data):
            return built
    return gettext.GNUTranslations(io.BytesIO(_cached_mo(po, data)))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def compiled_from(data: bytes) -> str:
    """What a ``.mo`` compiled from the ``.po`` bytes ``data`` names as its Project-Id-Version:
    the domain and the ``.po``'s digest (a ``.mo`` of another ``.po`` is not used)."""
    return f"{DOMAIN} {_digest(data)}"


def _cached_mo(po: Path, data: bytes) -> bytes:
    """The compiled ``po`` (its bytes ``data``), from the cache when compiled before (see the
    module rules)."""
    name = f"{po.parent.parent.name}-{_digest(data)}.mo"
    try:
        from platformdirs import user_cache_dir

        cached = Path(user_cache_dir("valitystili")) / "locale" / name
        if cached.exists():
            return cached.read_bytes()
    except OSError:
        cached = None
    compiled = compile_po(data)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(compiled)
            os.replace(partial, cached)
            for older in cached.parent.glob(f"{po.parent.parent.name}-*.mo"):
                if older != cached:
                    older.unlink(missing_ok=True)    # an earlier version of the catalogue
        except OSError:
            pass     # a read-only home: compiled again next time
    return compiled


def compile_po(data: bytes) -> bytes:
    """A ``.po`` file's bytes compiled to a ``.mo`` (Babel; fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(data), domain=DOMAIN)
    catalog.project, catalog.version = compiled_from(data).split(" ")
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def forget_loaded() -> None:
    """Read the catalogues again on next use (after a translator's edit, in tests)."""
    _loaded.clear()


# --- finding the marked messages ---------------------------------------------------------------

#: Marker functions and the number of message arguments each takes.
MARKERS = {"_": 1, "N_": 1, "ngettext": 2, "Message": 1, "PluralMessage": 2}
#: Decorators whose function's docstring is click help: ``@click.command``, ``@group.command``.
CLICK_DECORATORS = ("command", "group")
#: Command modules whose help is not in the catalogues yet: their commands' docstrings are not
#: collected (what they mark with ``_``/``N_`` is). A translator removes a module from here when
#: its help is translated (docs/translating.md); then the check holds it to the catalogues.
HELP_NOT_YET_TRANSLATED = frozenset(f"valitystili/cli/commands_{name}.py" for name in ())


def source_files(root: Path = PACKAGE_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def _is_click_command(node: ast.AST) -> bool:
    for decorator in getattr(node, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in CLICK_DECORATORS:
            return True
    return False


def _marker(node: ast.Call) -> str | None:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    return name if name in MARKERS else None


def messages_in(path: Path) -> tuple[dict[str | tuple[str, str], list[str]], list[str]]:
    """The messages ``path`` marks (with ``file:line``) and the misuses found in it."""
    found: dict[str | tuple[str, str], list[str]] = {}
    problems: list[str] = []
    where_root = PACKAGE_DIR.parent
    relative = path.relative_to(where_root) if path.is_relative_to(where_root) else path
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        at = f"{relative}:{getattr(node, 'lineno', 0)}"
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_click_command(node)
                and str(relative) not in HELP_NOT_YET_TRANSLATED):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                found.setdefault(help_message_id(doc), []).append(at)
        if not isinstance(node, ast.Call) or _marker(node) is None:
            continue
        wanted = MARKERS[_marker(node)]
        texts = node.args[:wanted]
        if any(isinstance(arg, ast.JoinedStr) for arg in texts):
            problems.append(f"{at}: an f-string given to {_marker(node)}(): "
                            "use _(\"… {name} …\").format(name=…)")
            continue
        if len(texts) < wanted or not all(isinstance(arg, ast.Constant)
                                          and isinstance(arg.value, str) for arg in texts):
            continue    # a variable: a text marked elsewhere, translated here
        key = texts[0].value if wanted == 1 else (texts[0].value, texts[1].value)
        found.setdefault(key, []).append(at)
    return found, problems


def marked_messages(paths: Iterable[Path] | None = None
                    ) -> tuple[dict[str | tuple[str, str], list[str]], list[str]]:
    """Every message the code marks, with where, and every misuse of a marker."""
    found: dict[str | tuple[str, str], list[str]] = {}
    problems: list[str] = []
    for path in paths if paths is not None else source_files():
        messages, misuses = messages_in(path)
        for key, places in messages.items():
            found.setdefault(key, []).extend(places)
        problems += misuses
    return found, problems


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"(?<!\{)\{([a-z_0-9]*)[^{}]*\}(?!\})", text))


# --- the catalogue tools -----------------------------------------------------------------------

def template():
    """The ``.pot`` catalogue of every marked message (Babel ``Catalog``)."""
    from babel.messages.catalog import Catalog

    # A fixed date, and (in _write) places without line numbers: the files change only where a
    # message does, so translators working on different modules merge cleanly.
    catalog = Catalog(domain=DOMAIN, project="valitystili", charset="utf-8",
                      msgid_bugs_address="", copyright_holder="", fuzzy=False,
                      creation_date=datetime(2026, 11, 30, tzinfo=UTC))
    found, _problems = marked_messages()
    for key in sorted(found, key=lambda k: (k if isinstance(k, str) else k[0], str(k))):
        places = [(place.rsplit(":", 1)[0], int(place.rsplit(":", 1)[1]))
                  for place in found[key]]
        flags = ("python-brace-format",) if _placeholders(key if isinstance(key, str)
                                                          else key[0]) else ()
        catalog.add(key, locations=places, flags=flags)
    return catalog


def read_catalog(code: str):
    from babel.messages.pofile import read_po

    with po_path(code).open("rb") as stream:
        return read_po(stream, locale=code, domain=DOMAIN)


def _write(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        write_po(stream, catalog, width=100, sort_output=True, omit_header=False,
                 include_previous=True, include_lineno=False)


def extract() -> Path:
    """Write ``locale/valitystili.pot`` from the code."""
    path = LOCALE_DIR / f"{DOMAIN}.pot"
    _write(template(), path)
    return path


def update() -> list[Path]:
    """Merge the ``.pot`` into each language's ``.po``: new messages empty, gone ones obsolete."""
    from babel.messages.catalog import Catalog

    pot = template()
    written = []
    for code in TRANSLATED:
        path = po_path(code)
        catalog = read_catalog(code) if path.exists() else Catalog(locale=code, domain=DOMAIN)
        catalog.update(pot, no_fuzzy_matching=True)
        _write(catalog, path)
        written.append(path)
    return written


def compile_all() -> list[Path]:
    """Write each ``.po`` as the ``.mo`` beside it (a build does this)."""
    written = []
    for code in TRANSLATED:
        po = po_path(code)
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(po.read_bytes()))
        written.append(mo)
    return written


def check() -> list[str]:
    """Every problem of the catalogues against the code (see the module rules); none is fine."""
    found, problems = marked_messages()
    for code in TRANSLATED:
        if not po_path(code).exists():
            problems.append(f"{code}: no catalogue at {po_path(code)}")
            continue
        catalog = read_catalog(code)
        present = {message.id for message in catalog if message.id}
        for key in sorted(set(found) - present, key=str):
            problems.append(f"{code}: not in the catalogue: {key!r} ({found[key][0]})")
        for message in catalog:
            if not message.id:
                continue
            problems += _entry_problems(code, message, found)
        problems += [f"{code}: obsolete entry (no code uses it): {key!r}"
                     for key in catalog.obsolete]
    return problems


def _entry_problems(code: str, message, found) -> list[str]:
    name = f"{code}: {message.id!r}"
    if message.id not in found:
        return [f"{name}: obsolete entry (no code uses it)"]
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not all(strings):
        return [f"{name}: no translation ({found[message.id][0]})"]
    if message.fuzzy:
        return [f"{name}: fuzzy (check the translation and remove the fuzzy flag)"]
    # A plural's forms may each use the placeholders of either English form.
    sources = (message.id,) if isinstance(message.id, str) else message.id
    wanted = set().union(*map(_placeholders, sources))
    return [f"{name}: placeholders {sorted(_placeholders(s))} differ from {sorted(wanted)}"
            for s in strings if _placeholders(s) != wanted
            and not (isinstance(message.id, tuple) and _placeholders(s) <= wanted)]


def short_help_problems(table: Mapping[str, tuple[str, str]]) -> list[str]:
    """A command table's short help must translate as its command's help's first paragraph."""
    problems = []
    by_first = {inspect.cleandoc(key).split("\n\n")[0]: key for key in marked_messages()[0]
                if isinstance(key, str)}
    for code in TRANSLATED:
        catalog = read_catalog(code)
        for name, (_target, short) in table.items():
            full = by_first.get(short)
            table_entry, full_entry = catalog.get(short), catalog.get(full) if full else None
            if full_entry is None or table_entry is None or full == short:
                continue
            first = full_entry.string.split("\n\n")[0]
            if table_entry.string != first:
                problems.append(f"{code}: `{name}`: the command table says "
                                f"{table_entry.string!r}, its help {first!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m valitystili.base.i18n extract|update|compile|check``."""
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "check"
    if action == "extract":
        print(extract())
    elif action == "update":
        extract()
        print("\n".join(map(str, update())))
    elif action == "compile":
        print("\n".join(map(str, compile_all())))
    elif action == "check":
        problems = check()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)" if problems else "catalogues complete",
              file=sys.stderr)
        return 1 if problems else 0
    else:
        print("usage: python -m valitystili.base.i18n extract|update|compile|check",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
