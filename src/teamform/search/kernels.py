"""The compiled kernels: whether they are ready, getting them ready, and what ran instead.

numba compiles a kernel on its first call, which takes tens of seconds for
the local search alone, unless its cache (``NUMBA_CACHE_DIR`` or
``__pycache__``) holds it, when loading takes about a second. So that a time
limit holds on the first run of a fresh install, no solve waits for a
compilation: :func:`get_ready` loads the kernels when the cache holds them
all, and otherwise compiles them in a child process in the background, while
every caller takes its Python path (the Python local search, the Python
construction, a weaker overlap bound). Deterministic solves wait instead
(:func:`collecting` with ``wait``): their teams must not depend on the cache.

Compiling takes about a minute of one core. The child that does it runs at
the lowest priority, so that it takes only what the search leaves idle, and
one compiler at a time fills a cache (:func:`one_compiler`): the runs that
follow a first one while it still compiles wait for it at no cost instead of
compiling the same kernels again beside it.

Whatever ran in Python where compiled code would have is noted
(:func:`note`) and reported with the result.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: A kernel by reference: its module and its name. The modules holding kernels are
#: imported only where a kernel runs, so that a solve that takes the Python paths
#: never imports numba.
Kernel = tuple[str, str]

#: Every kernel called from Python, by group: a group is ready when all are loaded.
GROUPS: dict[str, tuple[Kernel, ...]] = {
    "search": (
        ("teamform.search.compiled", "_run"),
        ("teamform.search.compiled", "_team_cost"),
        ("teamform.search.compiled", "_seed"),
        ("teamform.search.regroup", "_subset_costs"),
        ("teamform.search.regroup", "_best_partition"),
        ("teamform.search.construct_kernels", "_grow_kernel"),
        ("teamform.criteria.overlap_kernels", "_pattern_best_times"),
        ("teamform.criteria.overlap_kernels", "_forced_per_level"),
        ("teamform.criteria.overlap_kernels", "_short_shares"),
        ("teamform.criteria.overlap_kernels", "_enumerate_groups"),
    ),
    "diversity": (
        ("teamform.search.diversity_ls", "_its"),
        ("teamform.search.diversity_ls", "_random_walk_check"),
    ),
}
#: Modules whose code or constants a kernel module's kernels compile in: numba checks
#: a kernel's cache against its own source file only, so these count too, in the
#: marks and in numba's cache (:func:`tie_caches`).
_COMPILED_IN: dict[str, tuple[str, ...]] = {
    "teamform.search.bitset_kernels": ("teamform.availability",),  # SLOTS_PER_WEEK
    "teamform.search.compiled": ("teamform.search.bitset_kernels",),
    "teamform.search.regroup": ("teamform.search.compiled",),  # _team_cost
    # _fits, _reach and the look-ahead constants
    "teamform.search.construct_kernels": (
        "teamform.search.construct",
        "teamform.search.bitset_kernels",
    ),
    "teamform.criteria.overlap_kernels": ("teamform.search.bitset_kernels",),
}

#: The note of a solve that ran while the kernels compiled.
NOT_READY = (
    "compiled kernels not ready yet (compiling in the background; 'teamform warmup' "
    "compiles them now)"
)
_READY = {group: threading.Event() for group in GROUPS}
_WARMING = threading.RLock()
#: set in a thread while it compiles: the kernels it calls compile too
_LOCAL = threading.local()
_STARTING = threading.Lock()
_THREAD: list[threading.Thread] = []


#: The note of a solve left too little time to load a kernel from the cache.
NO_TIME = "too little of the time limit left to load the compiled kernels from the cache"
#: Seconds loading the first kernel from numba's cache takes (numba's own start-up
#: included; about 0.5 s on an idle machine, 1.1 s under a load of 5 on 2 cores).
LOAD_SECONDS = 1.0
#: Seconds of a wall-clock budget below which no kernel is loaded for a Python path
#: of unknown cost (a weaker bound): what is left goes to the search.
LOAD_FLOOR = 2.0


@dataclass
class _Watch:
    wait: bool
    deadline: float | None = None
    notes: list[str] = field(default_factory=list)
    parts: dict[str, list[str]] = field(default_factory=dict)


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("kernels", default=None)


@contextlib.contextmanager
def collecting(*, wait: bool = False, deadline: float | None = None) -> Iterator[list[str]]:
    """Collect, for one solve, why Python code ran where compiled code would have.

    With ``wait`` the kernels are compiled at once where needed instead (for
    deterministic solves). ``deadline`` (a ``time.perf_counter()`` reading) is
    when the solve's wall-clock limit runs out: a kernel not loaded yet is
    loaded only where that pays within it (:func:`usable`).
    """
    watch = _Watch(wait, deadline)
    token = _WATCH.set(watch)
    try:
        yield watch.notes
    finally:
        _WATCH.reset(token)


def note(reason: str, part: str | None = None) -> None:
    """Record a reason for the Python path in the current solve (once each), with
    the ``part`` it concerns: the parts of one reason share its line."""
    watch = _WATCH.get()
    if watch is None:
        return
    parts = watch.parts.setdefault(reason, [])
    if part is not None and part not in parts:
        parts.append(part)
    # in place: the list handed out by :func:`collecting`
    watch.notes[:] = [f"{r}: {'; '.join(p)}" if p else r for r, p in watch.parts.items()]


def kernels_ready(group: str = "search") -> bool:
    """Whether the kernels of ``group`` can run now without compiling first."""
    return _READY[group].is_set()


def usable(kernel: Kernel, python_path: str, python_seconds: float | None = None) -> bool:
    """Whether ``kernel`` can run now without compiling (it is loaded, or numba's
    cache holds it: loading one kernel takes a moment); when not, notes that
    ``python_path`` runs instead and starts compiling every kernel in the background.
    Deterministic solves (and the warm-up itself) compile it at once instead.

    Loading from the cache is itself skipped where it does not pay within the
    solve's wall-clock limit: when ``python_path`` gives the same answer in
    ``python_seconds`` (an estimate), fewer than loading takes; or, for a path
    whose cost is not given (a weaker bound), when less than
    :data:`LOAD_FLOOR` is left (noted). Until it is loaded, the kernel's module
    (and numba) is not imported to decide.
    """
    watch = _WATCH.get()
    if getattr(_LOCAL, "warming", False) or (watch is not None and watch.wait):
        return True
    if _loaded(kernel):
        return True
    quicker = python_seconds is not None and python_seconds < LOAD_SECONDS
    timed = watch is not None and watch.deadline is not None
    if quicker and timed and _marked(_group_of(kernel)):
        return False  # the same answer either way (a choice of speed, not noted)
    if not _loadable(kernel):
        note(NOT_READY, python_path)
        warm_up_in_background()
        return False
    if not timed:
        return True
    if python_seconds is not None:
        return not quicker
    if not _time_to_load():
        note(NO_TIME, python_path)
        return False
    return True


def _load_in_time(group: str, python_path: str, deadline: float | None = None) -> bool:
    """Whether :func:`get_ready` may load ``group`` now: False (and
    ``python_path`` noted) when it would load the kernels from the cache with
    less of the solve's wall-clock limit left than loading takes
    (:data:`LOAD_SECONDS`), or less before the caller's own ``deadline`` (a
    ``time.perf_counter()`` reading): the search they serve runs in what is left
    after."""
    watch = _WATCH.get()
    if _READY[group].is_set() or _THREAD or (watch is not None and watch.wait):
        return True
    if _time_to_load(LOAD_SECONDS, deadline) or not _marked(group):
        return True  # time to load them, or nothing to load: compiling starts aside
    note(NO_TIME, python_path)
    return False


def seconds_left() -> float | None:
    """Seconds of the current solve's wall-clock limit left (None: no such limit)."""
    watch = _WATCH.get()
    if watch is None or watch.deadline is None:
        return None
    return watch.deadline - time.perf_counter()


def _time_to_load(least: float = LOAD_FLOOR, deadline: float | None = None) -> bool:
    """Whether the current solve (and a caller with its own ``deadline``) has ``least``
    seconds left to load kernels from the cache."""
    watch = _WATCH.get()
    ends = [d for d in (None if watch is None else watch.deadline, deadline) if d is not None]
    return not ends or min(ends) - time.perf_counter() >= least


def ready_now(group: str, python_path: str, deadline: float | None = None) -> bool:
    """Whether a caller can use the kernels of ``group`` now; when not, notes that
    ``python_path`` ran instead (while they compile in the background).

    A caller that must be done by its own ``deadline`` (a ``time.perf_counter()``
    reading, before the solve's) has them loaded only with the time for it
    before then."""
    if getattr(_LOCAL, "warming", False):
        return True
    watch = _WATCH.get()
    if watch is not None and watch.wait:
        _warm(group)
        return True
    return get_ready(group, python_path, deadline) is None


def get_ready(
    group: str = "search",
    python_path: str = "local search in Python",
    deadline: float | None = None,
) -> threading.Event | None:
    """Make the kernels of ``group`` ready now if that is quick, else start getting them ready.

    Loading them from numba's cache takes about a second: that is done at once,
    so that every run with a filled cache searches alike, unless less of the
    solve's wall-clock limit is left than loading takes (then this solve runs
    ``python_path``, noted, and the group's event is returned unset). Compiling
    takes tens of seconds: it starts in the background
    (:func:`warm_up_in_background`), whose event for ``group`` is returned;
    None means the kernels are ready. Until then ``python_path`` runs
    instead, and that is noted. ``deadline``: see :func:`ready_now`.
    """
    if not _load_in_time(group, python_path, deadline):
        return _READY[group]
    # once the background has started, it loads them itself: no waiting for it here
    if not _READY[group].is_set() and not _THREAD and _cached(group):
        with contextlib.suppress(Exception):
            _warm(group)
    if _READY[group].is_set():
        return None
    note(NOT_READY, python_path)
    return warm_up_in_background()[group]


def warm_up(groups: tuple[str, ...] = tuple(GROUPS)) -> float:
    """Compile every kernel of ``groups`` (or load it from numba's cache); returns the seconds."""
    begin = time.perf_counter()
    for group in groups:
        _warm(group)
    return time.perf_counter() - begin


def warm_up_in_background() -> dict[str, threading.Event]:
    """Get every kernel ready in a daemon thread (started once); an event per group."""
    with _STARTING:
        if not all(e.is_set() for e in _READY.values()) and not _THREAD:
            thread = threading.Thread(target=_get_ready, name="teamform-compile", daemon=True)
            _THREAD.append(thread)
            thread.start()
    return _READY


def one_compiler(
    on_wait: Callable[[], None] | None = None,
) -> contextlib.AbstractContextManager[None]:
    """Hold the lock that lets one process at a time compile into this numba cache.

    The others wait for it (``on_wait`` is called first, when they must), then
    load what it compiled. Where the lock cannot be had (no ``fcntl``, an
    unwritable temporary directory), compilations may overlap: they only cost
    time.
    """
    return _locked(_lock_path(), on_wait)


@contextlib.contextmanager
def _locked(path: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    try:
        import fcntl

        fh = open(path, "a+b")  # noqa: SIM115 - held for the whole block
    except (ImportError, OSError):
        yield
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        except OSError:  # a file system without locks
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _lock_path() -> Path:
    """One lock per cache: per copy of the package, environment, interpreter and
    ``NUMBA_CACHE_DIR``.

    The interpreter is named by its environment and real file, not by the name it
    was started as: ``python -m teamform`` and the ``teamform`` script (whose
    first line may say ``python3``) share the cache, so they share the marks.
    """
    key = "|".join(
        (str(Path(__file__).resolve().parents[1]), sys.prefix,
         os.path.realpath(sys.executable), sys.version, os.environ.get("NUMBA_CACHE_DIR", ""))
    )  # fmt: skip
    user = getattr(os, "getuid", lambda: 0)()
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"teamform-kernels-{user}-{digest}.lock"


def compile_in_child(groups: list[str]) -> None:
    """The background compiler: at the lowest priority, one at a time per cache;
    names each group on standard output once it is compiled (or loaded)."""
    with contextlib.suppress(OSError, AttributeError):  # no nice() outside POSIX
        os.nice(19)
    with one_compiler():
        for group in groups:
            warm_up((group,))
            # the run that started it may have ended: the cache is for the next
            with contextlib.suppress(OSError):
                print(group, flush=True)


def _warm(group: str) -> None:
    """Get ``group`` ready (compiled, or loaded from the cache) in a thread of its own.

    The warm-up's sample search seeds numba's random stream and draws from it,
    and that stream is per thread: run in the caller's thread, it would reseed
    the stream of a search already under way (a deterministic solve waits here
    for the kernels in mid-search), so that a process's first solve searched
    otherwise than its later ones of the same input and seed.
    """
    if _READY[group].is_set():
        return
    if getattr(_LOCAL, "warming", False):
        _warm_here(group)  # from a warm-up already in a thread of its own
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            _warm_here(group)
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)

    # the caller's context too: what runs in Python meanwhile is noted for its solve
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(run,), name="teamform-warm-up", daemon=True
    )
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def _warm_here(group: str) -> None:
    with _WARMING:
        if _READY[group].is_set():
            return
        _LOCAL.warming = True
        try:
            if group == "search":
                _warm_search()
            else:
                from teamform.search.diversity_ls import warm_up as warm_diversity

                warm_diversity()
        finally:
            _LOCAL.warming = False
        _mark(group)
        _READY[group].set()


def _warm_search() -> None:
    """Run every search kernel on a tiny cohort.

    The kernels' argument types do not depend on the cohort or the criteria
    (absent criteria pass empty arrays of the same types), so one tiny run
    compiles exactly what every later search uses.
    """
    from teamform.criteria import build_terms
    from teamform.criteria.overlap import OverlapTerm
    from teamform.criteria.overlap_partition import warm_up as warm_partition
    from teamform.instance import build_instance
    from teamform.model import FormationModel
    from teamform.roster import Roster
    from teamform.search.compiled import CompiledLocalSearch
    from teamform.search.compiled_data import build_records
    from teamform.search.construct import construct
    from teamform.search.local import TeamState
    from teamform.search.regroup import regroup_exact

    records = [
        {
            "id": f"w{i}",
            "timezone": "UTC",
            "availability": "Mon 10:00-12:00" if i % 3 else "Tue 10:00-12:00",
            "motivation": "intrinsic" if i % 2 else "imposed",
            "skill_a": str(1 + i % 5),
        }
        for i in range(8)
    ]
    model = FormationModel.from_dict(
        {
            "team": {"size": 4},
            "criteria": {
                "skill_balance": {"weight": 1},
                "motivation": {"weight": 1},
                "prefer": {"weight": 1},
                "overlap": {"weight": 1, "hours": 1, "reference_date": "2026-01-12"},
            },
        },
        source="warm-up",
    )
    roster = Roster.from_records(records, prefer=[("w0", "w1")])
    inst = build_instance(roster, model)
    terms = build_terms(inst)
    construct(inst, 0)
    for term in terms:
        if isinstance(term, OverlapTerm):
            # every kernel of the bound, not the bound itself: its partition and window
            # packing are CP-SAT, and importing CP-SAT (0.3 s, pandas with it) would be
            # paid by solves that never build a model, such as the search of a large cohort
            term.learner_bounds()
            term.layer_bound(0)
            term.share_bound(0)
    warm_partition()
    state = TeamState(inst, terms, [i % 2 for i in range(inst.n)])
    search = CompiledLocalSearch(state, seed=0)
    search.run(max_steps=20, temp=1.0)
    search.team_cost([0, 1], 0)
    regroup_exact(state, build_records(state), [0, 1])


def _cached(group: str) -> bool:
    """Whether numba's cache holds every kernel of ``group`` for the current source.

    Without the mark of an earlier compilation (:func:`_marked`) it does not,
    and numba is not imported to find out.
    """
    if not _marked(group):
        return False
    return all(_loadable(kernel) for kernel in GROUPS[group])


def _group_of(kernel: Kernel) -> str:
    return next((g for g, kernels in GROUPS.items() if kernel in kernels), "search")


def compiled_in(module: str) -> list[str]:
    """``module`` and every module whose code or constants its kernels compile in,
    directly or through another such module (:data:`_COMPILED_IN`)."""
    found: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(_COMPILED_IN.get(name, ()))
    return sorted(found)


def _source(module: str) -> Path:
    root = Path(__file__).resolve().parents[1]
    return root.joinpath(*module.split(".")[1:]).with_suffix(".py")


def _stamp(path: Path, name: str) -> str:
    """What numba's cache checks of a source file: its size and modification time."""
    try:
        stat = path.stat()
    except OSError:
        return f"{name}:missing"
    return f"{name}:{stat.st_size}:{stat.st_mtime_ns}"


def tie_caches(namespace: dict[str, object], sources: list[tuple[str, Path]]) -> None:
    """Tie numba's cache of every kernel defined in ``namespace`` (a kernel module's
    globals, once its kernels are defined) to ``sources`` as well (name and file of
    each module whose code or constants they compile in).

    numba finds a cached kernel fresh when the kernel's own file is unchanged,
    and would load one compiled with an older helper or constant from another
    file; with the stamps of those files added to what it checks, such a kernel
    is compiled again. Where numba's cache is laid out otherwise, nothing changes.
    """
    extra = tuple(_stamp(path, name) for name, path in sources)
    if not extra:
        return
    module = namespace.get("__name__")
    for value in list(namespace.values()):
        if getattr(getattr(value, "py_func", None), "__module__", None) != module:
            continue  # a kernel of another module (its own file is checked)
        with contextlib.suppress(AttributeError):
            cache_file = value._cache._cache_file  # type: ignore[attr-defined]
            own = cache_file._source_stamp
            if not (isinstance(own, tuple) and len(own) == 2 and own[1:] == (extra,)):
                cache_file._source_stamp = (own, extra)


def tie_module(namespace: dict[str, object]) -> None:
    """:func:`tie_caches` for a module of this package, to what it compiles in.

    Every kernel module calls this once its kernels are defined, before any of
    them runs: numba's BLAS check is made here first, without SciPy
    (:func:`skip_blas_check`).
    """
    skip_blas_check()
    module = str(namespace["__name__"])
    others = [m for m in compiled_in(module) if m != module]
    tie_caches(namespace, [(m, _source(m)) for m in others])


def skip_blas_check() -> None:
    """Import ``numba.np.arraymath`` with SciPy hidden, so that its BLAS check finds none.

    numba's first kernel to run (compiled or loaded from the cache) imports every
    module implementing numpy for it; ``numba.np.arraymath`` checks for a BLAS
    by importing ``scipy.linalg``, where SciPy is installed: 0.25-0.3 s on an
    idle machine, twice that at a load of 3, a fifth of the construction at
    50 000 learners. What it finds decides only how ``np.correlate`` and
    ``np.convolve`` take inner products, which no kernel here calls
    (``np.dot`` and ``np.linalg`` look for SciPy again when a kernel using them
    compiles, with nothing hidden by then). Nothing in teamform imports SciPy;
    where something has already imported ``scipy.linalg``, nothing is hidden.
    Another thread importing SciPy in these few milliseconds would fail.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    hidden = "scipy.linalg" if "scipy" in sys.modules else "scipy"
    sys.modules[hidden] = None  # type: ignore[assignment]  # importing it: ImportError
    try:
        importlib.import_module("numba.np.arraymath")
    finally:
        if hidden in sys.modules and sys.modules[hidden] is None:
            del sys.modules[hidden]


def _mark_path(group: str) -> Path:
    """The mark that ``group`` was compiled into this cache, for these sources.

    numba's cache is valid for a source file of the same size and modification
    time; so is the mark, which names both for every module of the group and
    every module whose code or constants their kernels compile in.
    """
    modules = sorted({s for m, _ in GROUPS[group] for s in compiled_in(m)})
    stamps = [_stamp(_source(module), module) for module in modules]
    digest = hashlib.sha256("|".join(stamps).encode()).hexdigest()[:16]
    lock = _lock_path()
    return lock.with_name(f"{lock.stem}-{group}-{digest}.ready")


def _marked(group: str) -> bool:
    """Whether ``group`` was compiled (or loaded) into this cache since its sources
    last changed: a quick look that needs no numba. A cache filled otherwise
    (before the marks existed) is found by the background compiler, which loads
    it at once and marks it."""
    try:
        return _mark_path(group).exists()
    except OSError:
        return False


def _mark(group: str) -> None:
    with contextlib.suppress(OSError):
        _mark_path(group).touch()


def _loaded(kernel: Kernel) -> bool:
    """Whether ``kernel`` is compiled or loaded in this process (its module imported)."""
    module = sys.modules.get(kernel[0])
    if module is None:
        return False
    try:
        return bool(getattr(module, kernel[1]).overloads)
    except Exception:
        return False


def _loadable(kernel: Kernel) -> bool:
    """Whether ``kernel`` is loaded, or held by numba's cache (imports its module)."""
    if _loaded(kernel):
        return True
    if not _marked(_group_of(kernel)):
        return False
    try:
        dispatcher = getattr(importlib.import_module(kernel[0]), kernel[1])
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # numba's cache layout is its own: when in doubt, compile
        return False


def _get_ready() -> None:
    missing = [g for g in GROUPS if not _READY[g].is_set() and not _cached(g)]
    if missing:
        # compile in a child process: it fills numba's cache even if this process
        # ends first (a short run), and leaves this process's interpreter to the
        # Python search meanwhile; it names each group once compiled, which is
        # then loaded from the cache here in about a second
        with contextlib.suppress(Exception):
            child = subprocess.Popen(
                _child_command(missing),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
            for line in child.stdout or ():
                if line.strip() in GROUPS:
                    with contextlib.suppress(Exception):
                        _warm(line.strip())
            child.wait()
    # should this fail too, the Python paths simply go on without the kernels
    for group in GROUPS:
        with contextlib.suppress(Exception):
            _warm(group)


def _child_command(groups: list[str]) -> list[str]:
    """The command line of the background compiler for ``groups``."""
    package = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {package!r}); "
        f"from teamform.search.kernels import compile_in_child; compile_in_child({groups!r})"
    )
    return [sys.executable, "-c", code]
