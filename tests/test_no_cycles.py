"""No import cycles in sfxstudio, counting imports made inside functions.

grimp (installed with import-linter) reads every import statement of the package, including
the ones inside functions that keep TensorFlow and Qt lazy. A cycle is a group of modules that
each reach the others (a strongly connected component with more than one module, or a module
importing itself). The second test injects a function-level import into a copy of the package
and expects it to be found, so the check cannot pass by not looking.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Set
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 700


def import_cycles(edges: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or self-importing ones),
    each sorted; Tarjan's algorithm, iterative so a long chain cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, ()):
                    found.append(sorted(group))
    return found


_GRAPH_SCRIPT = """
import json, sys
import grimp
graph = grimp.build_graph("sfxstudio", cache_dir=None)
print(json.dumps({m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}))
"""


def package_imports(tree: Path) -> dict[str, set[str]]:
    """module -> the sfxstudio modules it imports (anywhere in its code), for the package in tree.

    In a child process, so the graph is the one of `tree`'s copy, not of what is imported here.
    """
    out = subprocess.run([sys.executable, "-c", _GRAPH_SCRIPT], cwd=tree, capture_output=True,
                         text=True, timeout=300, env=os.environ | {"PYTHONPATH": str(tree)})
    assert out.returncode == 0, out.stderr[-2000:]
    return {m: set(deps) for m, deps in json.loads(out.stdout).items()}


def _explain(cycles: list[list[str]], edges: Mapping[str, Set[str]]) -> str:
    lines = []
    for group in cycles:
        inside = [f"{a} -> {b}" for a in group for b in sorted(edges[a]) if b in group]
        lines.append("; ".join(inside))
    return "\n".join(lines)


def test_the_package_has_no_import_cycle() -> None:
    edges = package_imports(ROOT)
    assert "sfxstudio.ml.bundle" in edges and "sfxstudio.gui.main_window" in edges
    cycles = import_cycles(edges)
    assert cycles == [], "import cycles:\n" + _explain(cycles, edges)


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "sfxstudio", tmp_path / "sfxstudio",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    kinds = tmp_path / "sfxstudio" / "ml" / "kinds.py"
    # The import the kinds table exists to avoid: the lowest module reaching up to a kind.
    injected = "\n\ndef _up() -> None:\n    from sfxstudio.ml import zeroshot  # noqa\n"
    kinds.write_text(kinds.read_text() + injected)
    edges = package_imports(tmp_path)
    cycles = import_cycles(edges)
    assert any({"sfxstudio.ml.kinds", "sfxstudio.ml.zeroshot"} <= set(g) for g in cycles), cycles


def test_cycle_finder_on_small_graphs() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"a"}}) == [["a"]]
    assert sorted(import_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}})) == [["a", "b"], ["c", "d"]]


def test_no_module_is_over_700_lines() -> None:
    """Issue 12: every module of the package stays small enough to read in one sitting."""
    long = {p.relative_to(ROOT).as_posix(): n for p in sorted((ROOT / "sfxstudio").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
