"""The translations compiled at build time: a wheel carries each catalogue's ``.mo`` (setup.py),
and the ``.mo`` beside a ``.po`` is used only when it was compiled from that ``.po``
(base/i18n.py ``compiled_from``), whatever the files' times."""

from __future__ import annotations

import gettext
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from valitystili.base import i18n

ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from (pyproject.toml's packages, its readme, setup.py).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "valitystili", "ledger", "imports")
CATALOGUE = "valitystili/locale/{code}/LC_MESSAGES/valitystili.{suffix}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built offline from a copy of this source tree (no .mo in it)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "--no-index", "-q", "-w", str(out),
                            str(source)], capture_output=True, text=True, check=False,
                           env={**os.environ, "PIP_NO_INPUT": "1"})
    assert built.returncode == 0, built.stderr
    [path] = out.glob("valitystili-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


@pytest.mark.parametrize(("code", "translated"), [("fi", "kysymättä"), ("sv", "inte ställd")])
def test_the_wheel_carries_each_catalogue_compiled(wheel, code, translated):
    names = wheel.namelist()
    assert CATALOGUE.format(code=code, suffix="po") in names
    compiled = wheel.read(CATALOGUE.format(code=code, suffix="mo"))
    translations = gettext.GNUTranslations(io.BytesIO(compiled))
    po = wheel.read(CATALOGUE.format(code=code, suffix="po"))
    assert translations.info()["project-id-version"] == i18n.compiled_from(po)
    assert translations.gettext("not asked") == translated


PO = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
      'msgid "batch"\nmsgstr "{word}"\n')


def load_fi(monkeypatch, tmp_path) -> str:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.forget_loaded()
    previous = i18n.set_language("fi")
    try:
        return i18n._("batch")
    finally:
        i18n.set_language(previous)
        i18n.forget_loaded()


def test_a_compiled_file_of_its_catalogue_is_used_however_old(monkeypatch, tmp_path):
    po = tmp_path / "fi" / "LC_MESSAGES" / "valitystili.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO.format(word="maksuajo"), encoding="utf-8")
    mo = po.with_suffix(".mo")
    mo.write_bytes(i18n.compile_po(po.read_bytes()))
    os.utime(mo, ns=(0, 0))                 # an installer wrote it before the .po
    assert load_fi(monkeypatch, tmp_path) == "maksuajo"
    assert not (tmp_path / "cache").exists()     # nothing compiled on first use


def test_a_compiled_file_of_an_earlier_catalogue_is_passed_over(monkeypatch, tmp_path):
    po = tmp_path / "fi" / "LC_MESSAGES" / "valitystili.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO.format(word="erä"), encoding="utf-8")
    mo = po.with_suffix(".mo")
    mo.write_bytes(i18n.compile_po(po.read_bytes()))
    po.write_text(PO.format(word="maksuajo"), encoding="utf-8")   # a translator's edit
    os.utime(po, ns=(0, 0))                                        # whatever its time
    assert load_fi(monkeypatch, tmp_path) == "maksuajo"
    assert len(list((tmp_path / "cache").rglob("fi-*.mo"))) == 1
