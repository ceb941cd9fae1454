"""The layers of DESIGN.md, read from the source: who may import what.

`coaching/` is pure (numpy and the standard library; `assets` only to find the default
playbook), `audio/` never imports Qt or the desktop, and in `desktop/` Qt belongs to the
window's room (`desktop/window/`) and the PDF report (`desktop/reports/pdf_report.py`)
alone. Every import statement counts, also those inside functions (the lazy ones).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT = {"PySide6", "shiboken6", "PySide2", "PyQt5", "PyQt6"}
STDLIB = set(sys.stdlib_module_names)
QT_ROOMS = ("desktop/window/",)
QT_FILES = {"desktop/reports/pdf_report.py"}


def _module_of(rel: str) -> str:
    parts = rel[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """The absolute module names one file imports (relative imports resolved)."""
    rel = path.relative_to(root).as_posix()
    package = _module_of(rel) if rel.endswith("__init__.py") else _module_of(rel).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            else:
                found.add(node.module or "")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def files_of(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


def _top(name: str) -> str:
    return name.split(".")[0]


def _breaches(package: str, allowed) -> list[str]:
    out = []
    for path in files_of(package):
        rel = path.relative_to(ROOT).as_posix()
        out += [f"{rel} imports {name}" for name in sorted(imports_of(path))
                if not allowed(rel, name)]
    return out


def test_the_reader_sees_every_kind_of_import(tmp_path) -> None:
    """The walker itself: plain, from, relative, nested in a function, importlib."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    probe = pkg / "probe.py"
    probe.write_text("import os.path\nfrom numpy import array\nfrom . import sibling\n"
                     "from .sub import thing\n"
                     "def later():\n    from PySide6.QtCore import QTimer\n"
                     "    import importlib\n    importlib.import_module('desktop.cli')\n")
    assert imports_of(probe, tmp_path) == {"os.path", "numpy", "pkg", "pkg.sub",
                                           "PySide6.QtCore", "importlib", "desktop.cli"}


def test_the_rooms_that_may_use_qt_do_and_the_rule_would_catch_them() -> None:
    """Guards the rule against passing on nothing: the window and the PDF report use Qt."""
    assert "PySide6.QtGui" in imports_of(ROOT / "desktop/window/theme.py")
    assert any(_top(n) in QT for n in imports_of(ROOT / "desktop/reports/pdf_report.py"))


def test_coaching_imports_numpy_the_standard_library_and_itself_only() -> None:
    def allowed(rel: str, name: str) -> bool:
        if name == "assets":  # the default playbook's location (DESIGN: reads its playbook)
            return True
        return _top(name) in STDLIB | {"numpy", "coaching"}

    assert _breaches("coaching", allowed) == []


def test_audio_never_imports_qt_or_the_desktop() -> None:
    assert _breaches("audio", lambda rel, name: _top(name) not in QT | {"desktop"}) == []


def test_qt_only_in_the_window_and_the_pdf_report() -> None:
    def allowed(rel: str, name: str) -> bool:
        return _top(name) not in QT or rel.startswith(QT_ROOMS) or rel in QT_FILES

    assert _breaches("desktop", allowed) == []


QT_FREE_MODULES = sorted(
    _module_of(p.relative_to(ROOT).as_posix()) for p in (ROOT / "desktop").rglob("*.py")
    if not p.relative_to(ROOT).as_posix().startswith(QT_ROOMS)
    and p.relative_to(ROOT).as_posix() not in QT_FILES and p.name != "__main__.py")


def test_the_qt_free_rooms_load_no_qt_when_imported() -> None:
    """Also what they import in turn: `callcoach analyze` runs where Qt cannot load."""
    assert "desktop.reports.export" in QT_FREE_MODULES
    code = ("import importlib, sys\n"
            f"for name in {QT_FREE_MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            f"    qt = [m for m in sys.modules if m.split('.')[0] in {sorted(QT)!r}]\n"
            "    if qt:\n"
            "        sys.exit(f'importing {name} loads {qt[0]}')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=120)
    assert out.returncode == 0, out.stderr
