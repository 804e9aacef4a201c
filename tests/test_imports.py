"""How the package imports: lazily at the top, and without cycles between modules."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import teamform

SRC = Path(__file__).resolve().parents[1] / "src"

# ---------------------------------------------------------------- lazy top level


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """``sys.modules`` of a fresh interpreter after running ``code`` (with ``env`` added)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", **(env or {})}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_teamform_loads_no_heavy_part() -> None:
    loaded = _modules_after("import teamform")
    heavy = {
        "fcntl",  # the workspace lock of the phase machinery
        "sqlite3",  # the course history
        "ortools",
        "numba",
        "numpy",
        "pydantic",
        "importlib.metadata",  # only when __version__ is asked for
    }
    assert not heavy & loaded
    assert sorted(m for m in loaded if m.startswith("teamform")) == ["teamform"]


def test_forming_teams_loads_no_phase_machinery() -> None:
    loaded = _modules_after("from teamform import form, load_roster, FormationModel")
    assert "teamform.solve" in loaded
    assert not {"sqlite3", "teamform.history", "teamform.plan", "teamform.batch"} & loaded


def test_a_solve_on_the_python_paths_never_imports_numba(tmp_path: Path) -> None:
    # an empty cache (a fresh install): every kernel's Python path runs, and the
    # compilation for the next run is only asked for (not started here)
    root = Path(__file__).resolve().parents[1]
    demo = root / "instances" / "demo"
    code = (
        "from teamform.search import kernels\n"
        "asked = []\n"
        "kernels.warm_up_in_background = lambda: asked.append(1) or kernels._READY\n"
        "from teamform import FormationModel, form, load_roster\n"
        f"roster = load_roster({str(demo / 'roster.csv')!r}, avoid={str(demo / 'avoid.csv')!r},"
        f" prefer={str(demo / 'prefer.csv')!r})\n"
        f"model = FormationModel.from_toml({str(root / 'models' / 'collaborative.toml')!r})\n"
        "result = form(roster, model, time_limit=3, seed=0)\n"
        "assert result.valid and result.status.value in ('feasible', 'optimal'), result.status\n"
        "assert asked and any('not ready' in n for n in result.python_fallback)\n"
    )
    loaded = _modules_after(code, {"NUMBA_CACHE_DIR": str(tmp_path), "TMPDIR": str(tmp_path)})
    kernel_modules = {
        "teamform.search.compiled",
        "teamform.search.regroup",
        "teamform.search.construct_kernels",
        "teamform.search.bitset_kernels",
        "teamform.criteria.overlap_kernels",
        "teamform.search.diversity_ls",
    }
    assert "teamform.solve" in loaded and "ortools" in loaded  # it did solve, with CP-SAT
    assert not ({"numba", "llvmlite"} | kernel_modules) & loaded


def test_the_command_line_starts_without_cp_sat() -> None:
    # cp_model imports pandas: half the start-up of a large cohort's run, which
    # builds no CP-SAT model; it is imported where a model or solver is made
    loaded = _modules_after("import teamform.cli, teamform.search.common_time")
    assert {"teamform.solve", "teamform.diagnose", "teamform.search.lns"} <= loaded
    cp_sat = {"ortools.sat.python.cp_model", "ortools.graph.python.min_cost_flow", "pandas"}
    assert not cp_sat & loaded


def test_the_lazy_cp_model_is_the_module_once_used() -> None:
    code = (
        "from teamform.lazy import cp_model\n"
        "import sys\n"
        "assert 'ortools.sat.python.cp_model' not in sys.modules\n"
        "model = cp_model.CpModel()\n"
        "real = sys.modules['ortools.sat.python.cp_model']\n"
        "assert cp_model.CpModel is real.CpModel and cp_model.OPTIMAL == real.OPTIMAL\n"
        "assert cp_model.module() is real\n"
    )
    assert "ortools.sat.python.cp_model" in _modules_after(code)


def test_every_public_name_resolves() -> None:
    assert sorted(teamform.__all__) == sorted(teamform._HOMES)
    for name in teamform.__all__:
        value = getattr(teamform, name)
        assert getattr(value, "__name__", name) == name
    assert set(teamform.__all__) <= set(dir(teamform))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        teamform.nothing_here  # noqa: B018


def test_validate_is_the_function_whichever_import_comes_first() -> None:
    # importing the submodule teamform.validate binds it on the package
    code = (
        "import teamform.solve, teamform, inspect\n"
        "assert inspect.isfunction(teamform.validate), teamform.validate\n"
        "from teamform import validate\n"
        "assert inspect.isfunction(validate)"
    )
    assert "teamform.validate" in _modules_after(code)


def test_star_import_gives_the_public_api() -> None:
    names: dict[str, object] = {}
    exec("from teamform import *", names)
    assert set(teamform.__all__) <= set(names)


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        expected = version("teamform")
    except PackageNotFoundError:
        expected = "0+unknown"
    assert teamform.__version__ == expected


# ---------------------------------------------------------------- import cycles


def import_graph(src: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports when it is first imported.

    Module-level imports only: those under ``if TYPE_CHECKING:`` and inside
    functions do not run at import time and are left out. Importing ``a.b.c``
    from outside ``a.b`` also runs ``a/b/__init__.py``, so that counts as an
    import of ``a.b`` (the top-level package, which every module sits in, is
    not counted that way).
    """
    modules: dict[str, bool] = {}  # name -> is a package
    files: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_pkg else parts)
        modules[name], files[name] = is_pkg, path

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found: set[str] = set()
        here = name.split(".") if modules[name] else name.split(".")[:-1]
        for stmt in _runtime_statements(ast.parse(path.read_text(encoding="utf-8")).body):
            targets: list[str] = []
            if isinstance(stmt, ast.Import):
                targets = [a.name for a in stmt.names]
            elif isinstance(stmt, ast.ImportFrom):
                base = stmt.module or ""
                if stmt.level:
                    parent = here[: len(here) - stmt.level + 1]
                    base = ".".join([*parent, *([stmt.module] if stmt.module else [])])
                # ``from a import b`` imports the module a.b when there is one
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in stmt.names
                ]
            for target in targets:
                mod = known(target) if target.split(".")[0] == package else None
                if mod is None:
                    continue
                found.add(mod)
                parts = mod.split(".")
                for i in range(2, len(parts)):
                    ancestor = ".".join(parts[:i])
                    if not (name == ancestor or name.startswith(ancestor + ".")):
                        found.add(ancestor)
        found.discard(name)
        graph[name] = found
    return graph


def _runtime_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time: into if/try/with blocks, not into
    functions, classes' methods or ``if TYPE_CHECKING:``."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            test = stmt.test
            checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            if not checking:
                yield from _runtime_statements(stmt.body)
            yield from _runtime_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse):
                yield from _runtime_statements(block)
            yield from _runtime_statements(stmt.finalbody)
        elif isinstance(stmt, ast.With | ast.ClassDef):
            yield from _runtime_statements(stmt.body)
        else:
            yield stmt


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other
    (strongly connected components, Tarjan), each as ``[a, b, ..., a]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected group without a cycle")


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph(SRC, "teamform"))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_cycle_finder_sees_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg.a import A\n",
        "a.py": "from pkg import b\nA = 1\n",
        "b.py": "from typing import TYPE_CHECKING\nimport pkg.sub.c\n"
        "if TYPE_CHECKING:\n    from pkg.a import A\n",
        "d.py": "def later():\n    from pkg.a import A\n",
        "sub/__init__.py": "from pkg.d import later\n",
        "sub/c.py": "from .e import E\n"
        "try:\n    from ..a import A\nexcept ImportError:\n    pass\n",
        "sub/e.py": "E = 2\n",
    }
    for rel, text in files.items():
        (pkg / rel).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"}  # the TYPE_CHECKING import is left out
    assert graph["pkg.d"] == set()  # so is the one inside a function
    assert graph["pkg.sub.c"] == {"pkg.sub.e", "pkg.a"}  # relative imports resolve
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
    (pkg / "sub/c.py").write_text("from .e import E\n", encoding="utf-8")
    assert find_cycles(import_graph(tmp_path, "pkg")) == []
