"""The tree shows the design (DESIGN §3): ``ledger`` and ``imports`` never import the service or
each other, and each sub-package of ``valitystili`` imports only from those below it in
``LAYERS`` (or from itself) — at module level and inside functions alike."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Lowest first: a sub-package may import from those before it, never from those after it.
LAYERS = ("base", "store", "trust", "people", "plans", "flags", "statements", "payments",
          "oversight", "demo", "cli")


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from valitystili import payments`` imports the sub-package itself
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names
                      if target == "valitystili"]
    return found


def package_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts if parts[-1] == "__init__" and parts.pop() is not None else parts[:-1])


def sources(top: str) -> list[Path]:
    return sorted(p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "valitystili" and len(parts) > 1 and parts[1] in LAYERS else None


def test_every_sub_package_is_a_layer():
    found = {p.name for p in (ROOT / "valitystili").iterdir()
             if p.is_dir() and (p / "__init__.py").exists()}
    assert found == set(LAYERS)
    assert sorted(p.name for p in (ROOT / "valitystili").glob("*.py")) == ["__init__.py"]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_from_the_layers_below_it(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    upward = []
    for path in sources(f"valitystili/{layer}"):
        for line, module in imported_modules(path, package_of(path)):
            target = layer_of(module)
            if target is not None and target not in allowed:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert upward == []


@pytest.mark.parametrize("top, forbidden", [("ledger", ("valitystili", "imports")),
                                            ("imports", ("valitystili", "ledger"))])
def test_the_ledger_and_the_readers_know_nothing_of_the_service(top, forbidden):
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {module}"
             for path in sources(top)
             for line, module in imported_modules(path, package_of(path))
             if module.split(".")[0] in forbidden]
    assert wrong == []


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_on_its_own_in_the_stated_order(layer):
    for lower in LAYERS[: LAYERS.index(layer) + 1]:
        importlib.import_module(f"valitystili.{lower}")
