"""The background compiler: lowest priority, and one at a time per cache."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from teamform.search import kernels

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks")
def test_one_compiler_at_a_time_the_next_waits_for_it(tmp_path: Path) -> None:
    # the same cache (NUMBA_CACHE_DIR) for this process and a second one
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "NUMBA_CACHE_DIR": str(tmp_path)}
    if "TMPDIR" in os.environ:  # where the lock lives
        env["TMPDIR"] = os.environ["TMPDIR"]
    code = (
        "from teamform.search.kernels import one_compiler\n"
        "with one_compiler(lambda: print('waiting', flush=True)):\n"
        "    print('compiling', flush=True)\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NUMBA_CACHE_DIR", str(tmp_path))
        with kernels.one_compiler():
            child = subprocess.Popen(
                [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
            )
            assert child.stdout is not None
            # it cannot start while this process holds the cache
            assert child.stdout.readline().strip() == "waiting"
        # released: it goes on
        assert child.stdout.readline().strip() == "compiling"
        assert child.wait(timeout=60) == 0


def test_python_and_python3_of_one_environment_share_the_marks() -> None:
    # the console script starts as bin/python3, `python -m teamform` as bin/python:
    # one cache, so a warmup by either must be found by the other
    names = [Path(sys.executable).with_name(n) for n in ("python", "python3")]
    if not all(p.exists() for p in names):
        pytest.skip("this environment has no python and python3 side by side")
    code = "from teamform.search import kernels; print(kernels._lock_path())"
    env = {**os.environ, "PYTHONPATH": str(Path(kernels.__file__).resolve().parents[2])}
    paths = {
        subprocess.run(
            [str(exe), "-c", code],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        ).stdout.strip()
        for exe in names
    }
    assert len(paths) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks")
def test_another_cache_has_a_lock_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "a"))
    first = kernels._lock_path()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "b"))
    assert kernels._lock_path() != first
    waited: list[bool] = []
    with kernels.one_compiler():
        monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "a"))
        with kernels.one_compiler(lambda: waited.append(True)):
            pass
    assert not waited


def test_the_background_compiler_runs_at_the_lowest_priority(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    niced: list[int] = []
    warmed: list[tuple[str, ...]] = []
    monkeypatch.setattr(kernels.os, "nice", niced.append, raising=False)
    monkeypatch.setattr(kernels, "warm_up", lambda groups: warmed.append(groups) or 0.0)
    kernels.compile_in_child(["search", "diversity"])
    assert niced == [19]
    assert warmed == [("search",), ("diversity",)]
    # each group named once ready, for the parent to load it
    assert capsys.readouterr().out.split() == ["search", "diversity"]


def test_the_child_command_runs_the_background_compiler() -> None:
    command = kernels._child_command(["search"])
    assert command[0] == sys.executable
    assert "compile_in_child(['search'])" in command[-1]


def test_a_cached_kernel_is_loaded_only_where_that_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    # held by the cache, not loaded yet: loading costs about LOAD_SECONDS
    monkeypatch.setattr(kernels, "_loaded", lambda kernel: False)
    monkeypatch.setattr(kernels, "_loadable", lambda kernel: True)
    soon = time.perf_counter() + kernels.LOAD_FLOOR / 2
    later = time.perf_counter() + 60
    with kernels.collecting(deadline=later) as notes:
        # the same teams in Python, quicker than loading: no kernel, and nothing to report
        assert not kernels.usable(object(), "construction in Python", 0.01)
        assert kernels.usable(object(), "construction in Python", 10 * kernels.LOAD_SECONDS)
        # a path of unknown cost (a weaker bound): loaded while the time allows
        assert kernels.usable(object(), "weaker bound")
    assert notes == []
    with kernels.collecting(deadline=soon) as notes:
        assert not kernels.usable(object(), "weaker bound")
    assert notes == [f"{kernels.NO_TIME}: weaker bound"]
    # no wall-clock limit (deterministic work budgets wait): loaded
    with kernels.collecting(wait=True) as notes:
        assert kernels.usable(object(), "construction in Python", 0.01)
    with kernels.collecting() as notes:
        assert kernels.usable(object(), "weaker bound")
    assert notes == []


def test_without_the_mark_of_a_compilation_nothing_is_imported_to_check_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # a cache of its own: no mark yet
    imported: list[str] = []
    monkeypatch.setattr(kernels.importlib, "import_module", imported.append)
    monkeypatch.setattr(kernels.sys, "modules", {})  # no kernel module imported yet
    kernel = kernels.GROUPS["search"][0]
    assert not kernels._marked("search")
    assert not kernels._cached("search") and not kernels._loadable(kernel)
    assert imported == []
    # the compilation marks it, for these sources, in this cache only
    kernels._mark("search")
    assert kernels._marked("search") and not kernels._marked("diversity")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "other"))
    assert not kernels._marked("search")


# regroup.py holds kernels; construct.py helpers the construction's kernel compiles in
@pytest.mark.parametrize("name", ["regroup.py", "construct.py"])
def test_a_changed_source_needs_a_new_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    before = kernels._mark_path("search")
    source = Path(kernels.__file__).with_name(name)
    stat = source.stat()
    real_stat = Path.stat

    def touched(self: Path, **kw: object) -> os.stat_result:
        got = real_stat(self, **kw)  # type: ignore[arg-type]
        if self == source:
            fields = list(got)
            fields[8] += 1  # st_mtime: one second later
            return os.stat_result(fields)
        return got

    monkeypatch.setattr(Path, "stat", touched)
    assert stat.st_size == source.stat().st_size
    assert kernels._mark_path("search") != before


def test_the_kernels_are_loaded_only_with_time_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = {group: threading.Event() for group in kernels.GROUPS}
    monkeypatch.setattr(kernels, "_READY", events)
    monkeypatch.setattr(kernels, "_THREAD", [])
    marked = [True]
    monkeypatch.setattr(kernels, "_marked", lambda group: marked[0])
    monkeypatch.setattr(kernels, "_cached", lambda group: marked[0])
    loaded: list[str] = []

    def load(group: str) -> None:
        loaded.append(group)
        events[group].set()

    monkeypatch.setattr(kernels, "_warm", load)
    started: list[bool] = []
    monkeypatch.setattr(kernels, "warm_up_in_background", lambda: started.append(True) or events)
    soon = time.perf_counter() + kernels.LOAD_SECONDS / 2
    later = time.perf_counter() + 60
    # every way in (the search's, and that of the regroupings and the diversity
    # search) checks the time left: too little, and nothing is loaded or started
    with kernels.collecting(deadline=soon) as notes:
        assert kernels.get_ready("search", "local search in Python") is events["search"]
        assert not kernels.ready_now("diversity", "diversity by the general search")
    assert notes == [f"{kernels.NO_TIME}: local search in Python; diversity by the general search"]
    assert loaded == [] and started == [] and not events["search"].is_set()
    with kernels.collecting(deadline=later) as notes:
        assert kernels.get_ready("search", "local search in Python") is None
        assert kernels.ready_now("diversity", "diversity by the general search")
    assert loaded == ["search", "diversity"] and notes == []
    # nothing in the cache to load: the compilation starts aside, at no cost to this run
    for event in events.values():
        event.clear()
    marked[0] = False
    with kernels.collecting(deadline=soon) as notes:
        assert kernels.get_ready("search", "local search in Python") is events["search"]
    assert started == [True] and notes == [f"{kernels.NOT_READY}: local search in Python"]
    # deterministic solves wait for them, whatever the time
    marked[0] = True
    with kernels.collecting(wait=True, deadline=None) as notes:
        assert kernels.get_ready("search", "local search in Python") is None
    assert notes == []


def test_a_caller_with_its_own_deadline_loads_kernels_only_with_time_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a repair after the search must be done before the finish: the solve's deadline,
    # which includes the time kept for finishing, is not the repair's
    events = {group: threading.Event() for group in kernels.GROUPS}
    monkeypatch.setattr(kernels, "_READY", events)
    monkeypatch.setattr(kernels, "_THREAD", [])
    monkeypatch.setattr(kernels, "_marked", lambda group: True)
    monkeypatch.setattr(kernels, "_cached", lambda group: True)
    loaded: list[str] = []
    monkeypatch.setattr(kernels, "_warm", lambda group: loaded.append(group) or events[group].set())
    solve_ends = time.perf_counter() + 60
    repair_ends = time.perf_counter() + kernels.LOAD_SECONDS / 2
    with kernels.collecting(deadline=solve_ends) as notes:
        assert not kernels.ready_now("search", "regrouping by CP-SAT", repair_ends)
        assert loaded == [] and notes == [f"{kernels.NO_TIME}: regrouping by CP-SAT"]
        assert kernels.ready_now("search", "regrouping by CP-SAT", solve_ends)
    assert loaded == ["search"]


def test_getting_the_kernels_ready_leaves_the_callers_random_stream_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a deterministic solve waits for the kernels in mid-search (its first exact
    # regrouping): the warm-up's sample search seeds numba's random stream and draws
    # from it, and the solve's compiled search must go on drawing its own numbers
    from numba import njit

    from teamform.search.compiled import _seed

    @njit
    def draw() -> int:
        return np.random.randint(1 << 30)

    _seed(7)
    expected = [draw() for _ in range(4)]
    events = {group: threading.Event() for group in kernels.GROUPS}
    monkeypatch.setattr(kernels, "_READY", events)  # as in a fresh process
    _seed(7)
    got = [draw(), draw()]
    with kernels.collecting(wait=True) as notes:
        assert kernels.ready_now("search", "regrouping by CP-SAT")
    got += [draw(), draw()]
    assert events["search"].is_set() and notes == []
    assert got == expected


def test_a_failed_warm_up_is_raised_in_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = {group: threading.Event() for group in kernels.GROUPS}
    monkeypatch.setattr(kernels, "_READY", events)

    def broken() -> None:
        raise RuntimeError("no compiler")

    monkeypatch.setattr(kernels, "_warm_search", broken)
    with pytest.raises(RuntimeError, match="no compiler"):
        kernels.warm_up(("search",))
    assert not events["search"].is_set()


def test_the_warm_up_builds_no_cp_sat_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # a large cohort's solve builds none, so a warm-up building one would import
    # CP-SAT (and pandas) for it alone
    from teamform.lazy import cp_model

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("CP-SAT in the warm-up")

    for name in ("CpModel", "CpSolver"):
        monkeypatch.setattr(cp_model, name, refused, raising=False)
    kernels._warm_search()
    for module, name in kernels.GROUPS["search"]:
        assert getattr(__import__(module, fromlist=[name]), name).overloads, name


def test_what_a_kernel_module_compiles_in_is_followed_through() -> None:
    # the construction's kernel compiles in construct.py's helpers, and the bitset
    # kernels (and through them availability.py's constants)
    assert kernels.compiled_in("teamform.search.construct_kernels") == [
        "teamform.availability",
        "teamform.search.bitset_kernels",
        "teamform.search.construct",
        "teamform.search.construct_kernels",
    ]
    assert "teamform.search.bitset_kernels" in kernels.compiled_in("teamform.search.regroup")


_KERNEL = """
from pathlib import Path

from numba import njit

from pkg.helper import step
from teamform.search.kernels import tie_caches

_step = njit(cache=True)(step)


@njit(cache=True)
def kernel(x):
    return _step(x)


tie_caches(globals(), [("pkg.helper", Path(__file__).with_name("helper.py"))])
"""


def test_a_kernel_compiling_in_a_changed_helper_is_compiled_again(tmp_path: Path) -> None:
    # numba checks only the kernel's own file: the helper's change must count too,
    # or the kernel compiled with the old helper is loaded from the cache
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kernel.py").write_text(_KERNEL)
    helper = package / "helper.py"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)]),
        "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
    }
    code = "from pkg.kernel import kernel; print(kernel(1))"
    found = []
    for body, shift in (("x + 1", 0), ("x + 10", 10)):
        helper.write_text(f"def step(x):\n    return {body}\n")
        stat = helper.stat()
        os.utime(helper, ns=(stat.st_atime_ns, stat.st_mtime_ns + shift * 10**9))
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
        )
        assert run.returncode == 0, run.stderr
        found.append(int(run.stdout))
    assert found == [2, 11]
    assert list((tmp_path / "cache").rglob("*.nbi"))  # it did use the cache


def test_the_first_kernel_to_run_does_not_import_scipy_linalg() -> None:
    pytest.importorskip("scipy")  # without SciPy numba's BLAS check costs nothing
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from teamform.search.bitset_kernels import and_block_slots\n"
        "a = np.zeros(11, dtype=np.uint64)\n"
        "and_block_slots(a, a, 2, a.copy())\n"
        "import numba.np.arraymath as m\n"
        "print('scipy.linalg' in sys.modules, m._HAVE_BLAS)\n"
        "import scipy.linalg\n"  # hidden only while numba looked for it
        "print(scipy.linalg.__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False", "scipy.linalg"]


def test_no_kernel_calls_what_numbas_blas_check_decides() -> None:
    # the check (skipped: kernels.skip_blas_check) picks np.correlate's and
    # np.convolve's inner product alone
    modules = {m for group in kernels.GROUPS.values() for m, _ in group}
    modules |= {c for m in modules for c in kernels.compiled_in(m)}
    for module in sorted(modules):
        text = kernels._source(module).read_text(encoding="utf-8")
        assert "correlate(" not in text and "convolve(" not in text, module
