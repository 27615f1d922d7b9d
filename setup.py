"""The build's one step beyond pyproject.toml: the translations compiled into the wheel.

Each catalogue ``valitystili/locale/LANG/LC_MESSAGES/valitystili.po`` is compiled with Babel
into the ``.mo`` beside it in the build, by ``base/i18n.py``'s own ``compile_po`` (fuzzy entries
left out; the ``.mo`` names the ``.po`` it was made from), so an installed wheel reads its
translations with the standard library alone. An editable install has none: ``base/i18n.py``
compiles the ``.po`` on first use instead.
"""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOGUES = "valitystili/locale/*/LC_MESSAGES/valitystili.po"


class BuildWithCatalogues(build_py):
    """``build_py``, then each catalogue compiled into the build (a wheel, ``pip install .``)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        sys.path.insert(0, str(HERE))     # the module of this source tree, needing only Babel
        from valitystili.base.i18n import compile_po

        for po in sorted(HERE.glob(CATALOGUES)):
            mo = Path(self.build_lib) / po.relative_to(HERE).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            mo.write_bytes(compile_po(po.read_bytes()))


setup(cmdclass={"build_py": BuildWithCatalogues})
