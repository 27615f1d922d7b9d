"""Text that people type: names, payment messages and free texts, checked where they enter.

Rules of this module:

- **One-line fields** (names, payee names, messages, short reasons) refuse control characters
  (Unicode category Cc: NUL, tab, line breaks …), invisible formatting characters (Cf: the bidi
  controls such as U+202E RIGHT-TO-LEFT OVERRIDE, zero-width spaces and joiners, the soft hyphen),
  line and paragraph separators, surrogates, private-use and unassigned code points. Runs of
  spaces (also no-break spaces) fold into one; an empty or blank value is refused.
  :func:`clean_line`.
- **Free texts** (comments, reasons, ``--despite``) follow the same rule but may keep line breaks
  where the field allows them, and are at most ``free_text_max_chars`` characters (a setting).
  :func:`free_text`.
- **The payment form** is the text as a pain.001 file carries it (ISO-8859-15, DESIGN §6,
  ``pain001``): characters of ISO-8859-15 stay as they are (ä ö å é ü ß Š Ž € …); other letters
  are transliterated — decomposed (NFKD) with their accents dropped (ễ → e, ę → e), or by
  ``TRANSLITERATION`` for letters that do not decompose (Ł → L, đ → d, ı → i) and typographic
  quotes and dashes (“ ” → ", – → -). What is still outside ISO-8859-15 (Cyrillic, Greek, CJK,
  emoji) is refused with a line naming the character. :func:`payment_form`.
- Names keep the form the person typed; their payment form is stored beside them
  (``clients.payment_name``, ``payees.payment_name``) and is what batches put into payment files,
  so one name can never stop an approved batch at export. Messages are stored in their payment
  form directly. A payment name is at most ``MAX_PAYMENT_NAME_CHARS`` characters, a message at
  most ``MAX_MESSAGE_CHARS`` (the limits the bank applies).
- **Text shown in a narrow place** (a table column, a one-line summary) is cut to its width with
  one ``…`` at the end, never in the middle of a word when a space is near, line breaks folded
  into spaces (no-break spaces kept, so ``50,00 €`` stays whole): :func:`cut`. Only
  what people read is cut; CSV, JSON and ``--wide`` tables carry the whole text.
"""

from __future__ import annotations

import re
import unicodedata

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _

MAX_PAYMENT_NAME_CHARS = 70   # EPC rule for Cdtr/Nm (the schema allows 140)
MAX_MESSAGE_CHARS = 140       # pain.001 RmtInf/Ustrd
PAYMENT_CODEC = "iso8859_15"

#: Letters and signs outside ISO-8859-15 that do not decompose into one that is inside.
TRANSLITERATION: dict[str, str] = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŋ": "N", "ŋ": "n",
    "Ŧ": "T", "ŧ": "t", "Ŀ": "L", "ŀ": "l", "ĸ": "k", "ƒ": "f", "Ɨ": "I", "ɨ": "i", "Ƶ": "Z",
    "ƶ": "z", "ẞ": "SS", "Ə": "E", "ə": "e", "Ʃ": "S", "ʃ": "s",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "ʼ": "'", "ʻ": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "¨": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "•": "-",
    "⁄": "/", "¸": ",", "¤": "EUR", "¼": "1/4", "½": "1/2", "¾": "3/4", "¦": "|",
}

#: The sign that says a text was cut (U+2026 HORIZONTAL ELLIPSIS).
ELLIPSIS = "…"
#: A cut goes back to the last space when one is this close to the end (and within a quarter
#: of the width, so a narrow column keeps most of its text); else it cuts mid-word.
CUT_AT_SPACE_WITHIN = 8
# Line breaks and tabs fold into one space; no-break spaces (inside amounts) stay.
_ASCII_SPACE_RUN = re.compile(r"[ \t\r\n\f\v]+")

_SEPARATORS = ("Zl", "Zp")
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN",
                  "\x1b": "ESCAPE", "\x7f": "DELETE", "\x85": "NEXT LINE"}


#: Refusals said in more than one place (one message each, for the translations).
LINE_BREAK = N_("{what} contains a line break {char}")
TOO_LONG = N_("{what} has {count} characters; at most {most}")


def describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: a character named so a person can find it."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: cut with ``…`` when longer (see the rules)."""
    if width < 1:
        raise ValueError(f"cannot cut text to {width} characters")
    line = _ASCII_SPACE_RUN.sub(" ", text).strip(" ")
    if len(line) <= width:
        return line
    kept = line[:width - 1]
    space = kept.rfind(" ")
    mid_word = line[width - 1] != " "
    if mid_word and space > 0 and len(kept) - space <= min(CUT_AT_SPACE_WITHIN, width // 4):
        kept = kept[:space]
    return kept.rstrip(" ,;:") + ELLIPSIS


def _refuse_hidden(text: str, what: str, allowed: str = "") -> None:
    for char in text:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            message = (LINE_BREAK if char in "\n\r\x0b\x0c\x85"
                       else N_("{what} contains the control character {char}"))
            raise ValidationError(_(message).format(what=_(what), char=describe(char)))
        if category == "Cf":
            raise ValidationError(_("{what} contains the invisible formatting character {char}")
                                  .format(what=_(what), char=describe(char)))
        if category in _SEPARATORS:
            raise ValidationError(_(LINE_BREAK).format(what=_(what), char=describe(char)))
        if category[0] == "C":  # Cs surrogates (undecodable input), Co private use, Cn unassigned
            raise ValidationError(_("{what} contains the character {char}, which is not text")
                                  .format(what=_(what), char=describe(char)))


def clean_line(text: str, what: str, *, max_chars: int | None = None) -> str:
    """A one-line field: hidden characters refused, spaces folded, never empty."""
    if not isinstance(text, str):
        raise ValidationError(_("{what} must be text").format(what=_(what)))
    text = unicodedata.normalize("NFC", text)
    _refuse_hidden(text, what)
    line = " ".join(text.split())
    if not line:
        raise ValidationError(_("{what} is empty").format(what=_(what)))
    if max_chars is not None and len(line) > max_chars:
        raise ValidationError(_(TOO_LONG).format(what=_(what), count=len(line), most=max_chars))
    return line


def free_text(text: str | None, what: str, *, max_chars: int, multiline: bool = False,
              required: bool = True) -> str | None:
    """A comment or reason: the one-line rule (line breaks kept when ``multiline``), at most
    ``max_chars`` long (the service passes the ``free_text_max_chars`` setting:
    ``settings.free_text``). ``None`` or blank gives ``None`` unless ``required``."""
    if text is None or not text.strip():
        if required:
            raise ValidationError(_("{what} is empty").format(what=_(what)))
        return None
    if multiline:
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
        _refuse_hidden(text, what, allowed="\n\t")
        lines = [" ".join(line.split()) for line in text.split("\n")]
        value = "\n".join(lines).strip("\n")
    else:
        value = clean_line(text, what)
    if len(value) > max_chars:
        raise ValidationError(_("{what} has {count} characters; at most {most} (setting "
                                "free_text_max_chars)").format(what=_(what), count=len(value),
                                                                most=max_chars))
    return value


def _in_payment_codec(char: str) -> bool:
    try:
        byte = char.encode(PAYMENT_CODEC)[0]
    except UnicodeEncodeError:
        return False
    return 0x20 <= byte < 0x7F or byte >= 0xA0


def _transliterate(char: str, what: str, fallback: str | None) -> str:
    if char in TRANSLITERATION:
        return TRANSLITERATION[char]
    result = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part):
            continue
        if _in_payment_codec(part):
            result.append(part)
        elif part in TRANSLITERATION:
            result.append(TRANSLITERATION[part])
        elif fallback is not None:
            return fallback
        else:
            raise ValidationError(
                _("{what} contains {text} {char}, which a payment file cannot carry (ISO-8859-15) "
                  "and has no Latin transliteration; write it in Latin letters")
                .format(what=_(what), text=repr(char), char=describe(char)))
    return "".join(result)


def payment_form(text: str, what: str, *, fallback: str | None = None) -> str:
    """``text`` as a payment file carries it (see the module rules).

    Expects a text that passed :func:`clean_line`. Refuses what cannot be transliterated, or,
    with ``fallback`` (e.g. ``"?"``), puts that in its place.
    """
    text = unicodedata.normalize("NFC", text)
    if all(_in_payment_codec(char) for char in text):
        return text
    converted = "".join(char if _in_payment_codec(char) else _transliterate(char, what, fallback)
                        for char in text)
    return " ".join(unicodedata.normalize("NFC", converted).split())


def payment_name(name: str, what: str) -> str:
    """The payment form of a (cleaned) name, refused when a payment file cannot carry it."""
    form = payment_form(name, what)
    if len(form) > MAX_PAYMENT_NAME_CHARS:
        raise ValidationError(_("{what} has {count} characters; a payment file takes at most "
                                "{most}").format(what=_(what), count=len(form),
                                                 most=MAX_PAYMENT_NAME_CHARS))
    return form


def lenient_payment_name(name: str) -> str:
    """A payment form for a name stored before names were checked: '?' for what cannot be
    transliterated, hidden characters dropped, cut to the payment file's limit."""
    visible = "".join(c for c in name if unicodedata.category(c)[0] != "C"
                      and unicodedata.category(c) not in _SEPARATORS)
    form = payment_form(" ".join(visible.split()) or "?", "name", fallback="?")
    return form[:MAX_PAYMENT_NAME_CHARS].rstrip() or "?"


def payment_message(text: str, what: str) -> str:
    """A payment message: one line, in its payment form, at most ``MAX_MESSAGE_CHARS``."""
    form = payment_form(clean_line(text, what), what)
    if len(form) > MAX_MESSAGE_CHARS:
        raise ValidationError(_(TOO_LONG).format(what=_(what), count=len(form),
                                                 most=MAX_MESSAGE_CHARS))
    return form
