"""The package reads as the pipeline, and its imports say so: every import runs down the stages
(text → recipients → letters and convert → outbox → sign → delivery → schedule → web → cli), never up,
and a package reaches another only through that package's facade (its ``__init__``)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "outreach"

# Lowest first. Equal numbers may not import each other either: they are siblings.
LAYERS = {
    "errors": 0, "heap": 0,
    "workspace": 1, "localtime": 1, "text": 1, "payment": 1, "sqlitedb": 1,
    "accounts": 1.5,
    "config": 2,
    "recipients": 3,
    "letters": 4, "convert": 4,
    "outbox": 5,
    "sign": 6,
    "delivery": 7,
    "schedule": 8,
    "web": 9, "demo": 9,
    "cli": 10, "__main__": 11,
}
FACADES = {"config", "text", "payment", "accounts", "recipients", "letters", "convert", "outbox", "sign", "delivery",
           "schedule", "web"}


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of outreach code, lazy ones too."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if parts[-1] == "__init__" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [target]
                if not node.module:  # from . import x, y: the names are modules
                    targets = [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            found += [(module, t, node.lineno) for t in targets if t.startswith("outreach.")]
    return found


def _stage(module: str) -> str:
    return module.split(".")[1]


def test_every_module_belongs_to_a_known_stage() -> None:
    stages = {_stage(m) for m, _, _ in _imports()} | {_stage(t) for _, t, _ in _imports()}
    assert stages <= set(LAYERS) | {"__version__"}


def test_no_import_runs_up_the_pipeline() -> None:
    upward = [f"{source}:{line} imports {target}" for source, target, line in _imports()
              if _stage(source) != _stage(target) and _stage(target) in LAYERS
              and LAYERS[_stage(target)] >= LAYERS[_stage(source)]]
    assert upward == []


def test_other_packages_use_a_package_through_its_facade() -> None:
    reaching_in = [f"{source}:{line} imports {target}" for source, target, line in _imports()
                   if _stage(source) != _stage(target) and _stage(target) in FACADES
                   and target != f"outreach.{_stage(target)}"]
    assert reaching_in == []


def test_convert_knows_nothing_of_delivery_or_the_outbox() -> None:
    assert [(s, t) for s, t, _ in _imports() if _stage(s) == "convert" and _stage(t) in ("delivery", "outbox")] == []
