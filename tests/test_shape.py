"""The shape of the package: layer contracts that bite, no import cycles, a wheel that works.

- lint-imports (pyproject.toml) keeps the Qt-free layers free of PySide6 *including through
  another module*; the test injects such an indirect import into a copy and expects a failure.
- Importing any Qt-free module loads neither PySide6 nor pyqtgraph.
- The wheel carries the package data read with importlib.resources, and an installed copy
  (outside the checkout) reads the class list.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sfxstudio

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
QT_FREE = ("core", "analysis", "media", "ml", "pipeline", "demo")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run([str(BIN / "lint-imports")], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300)


def _copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT / "sfxstudio", dest / "sfxstudio",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_contracts_hold_and_bite_on_an_indirect_pyside6_import(tmp_path: Path) -> None:
    ok = _lint_imports(_copy_tree(tmp_path / "clean"))
    assert ok.returncode == 0, ok.stdout[-2000:]
    # A helper module outside every layer that imports Qt, imported by core: the kind of
    # chain the old contract (indirect imports allowed) let through.
    bad = _copy_tree(tmp_path / "bad")
    (bad / "sfxstudio" / "qt_helper.py").write_text("import PySide6.QtCore  # noqa\n")
    validate = bad / "sfxstudio" / "core" / "validate.py"
    validate.write_text(validate.read_text() + "\nimport sfxstudio.qt_helper  # noqa: E402,F401\n")
    broken = _lint_imports(bad)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout and "sfxstudio.qt_helper" in broken.stdout


def _qt_free_modules() -> list[str]:
    names = []
    for sub in QT_FREE:
        pkg = f"sfxstudio.{sub}"
        names.append(pkg)
        path = Path(sfxstudio.__file__).parent / sub
        names += [f"{pkg}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return names


def test_importing_the_qt_free_layers_loads_no_qt() -> None:
    code = ("import importlib, sys\n"
            f"for name in {_qt_free_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = [m for m in ('PySide6', 'pyqtgraph') if m in sys.modules]\n"
            "print('QT', bad)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "QT []" in res.stdout


@pytest.mark.slow
def test_the_wheel_carries_the_resources_and_works_installed_elsewhere(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path / "dist"), str(ROOT)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("sfxstudio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("classes.json", "imagenet_classes.json", "imagenet_map.json"):
        assert f"sfxstudio/resources/{name}" in names
    assert "sfxstudio/pipeline/jobs.py" in names and "sfxstudio/core/paths.py" in names
    # Unpacked somewhere else (no checkout around it), the package finds its class list.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("from sfxstudio.core.classes import default_classes; from sfxstudio.core import paths; "
            "print(len(default_classes()), paths.RESOURCES)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    prelude = f"import sys; sys.path.insert(0, {str(site)!r}); "
    out = subprocess.run([sys.executable, "-I", "-c", prelude + code],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    count, where = out.stdout.split()
    assert int(count) == 21 and where.startswith(str(site))
