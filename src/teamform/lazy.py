"""Modules imported at their first use, not with the code that names them.

OR-Tools' ``cp_model`` imports pandas, which makes it about 0.5 s of the
command's start-up on an idle machine (a second under load), while many runs
never build a CP-SAT model: the search of a large cohort, ``teamform check``.
Modules that build models name :data:`cp_model` from here, and type checkers
see the real module (``if TYPE_CHECKING``); modules that only annotate with it
import it for type checkers alone.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for the module ``name`` until an attribute is looked up, then imports it.

    Attributes found are kept on this object, so later lookups cost what a
    module's do. Thread-safe: :func:`importlib.import_module` takes the import
    lock, and two threads keeping the same attribute keep the same object.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def loaded(self) -> bool:
        """Whether the module has been imported (by this stand-in or otherwise)."""
        return self._name in sys.modules

    def module(self) -> ModuleType:
        """The module itself (imported now if it was not yet)."""
        return importlib.import_module(self._name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)  # copy, pickle and friends probe for these
        value = getattr(self.module(), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


#: Seconds importing :data:`cp_model` takes: 0.4-0.6 s on an idle machine, 1-2 s under a
#: load of 5 on 2 cores. A solve bound to end sooner does without CP-SAT, if it can.
CP_MODEL_SECONDS = 1.0
#: ``ortools.sat.python.cp_model``, imported when a model or solver is first made.
cp_model: Any = LazyModule("ortools.sat.python.cp_model")
