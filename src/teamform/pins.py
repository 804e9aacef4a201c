"""Pins: learners fixed to a team, keep-together groups and fixed teams.

A tutor's pins are hard rules. :class:`Pins` is the input (from the API or a
CSV); :func:`compile_pins` turns it into per-learner arrays on the
:class:`~teamform.instance.Instance` and, for fixed teams, sets their size to
the number of pinned members (re-balancing the other teams of the section).

Pins that clash with each other or with sections, sizes or avoid pairs are not
input errors but conflicts: they are listed on the compiled :class:`PinData`
and reported by the diagnosis (exit 3), naming the learners and the rule.
Pins naming an unknown learner or a team that does not exist are input errors.

Search code treats every pinned or grouped learner as immovable in moves and
swaps; keep-together groups without a team move as a block only in the exact
CP-SAT models (full model and neighbourhoods), where their members are tied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from teamform.errors import InputError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TRUE = {"1", "yes", "y", "true", "x", "fixed"}
_FALSE = {"", "0", "no", "n", "false"}


class Pins(BaseModel):
    """Hard placement rules set by the tutor.

    Attributes
    ----------
    teams
        Learner id to team number (from 1, as in ``Result.teams[*].team``).
    groups
        Keep-together groups: each list of learner ids shares one team.
        Groups sharing a learner are merged.
    fixed
        Team numbers whose membership is exactly their pinned learners:
        nobody else may join them, and their size is the number pinned.
    source
        Where the pins came from, for messages.

    Examples
    --------
    >>> pins = Pins(teams={"L01": 3}, groups=[["L02", "L07"]], fixed=[3])
    >>> pins.is_empty
    False
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: dict[str, int] = Field(default_factory=dict)
    groups: list[list[str]] = Field(default_factory=list)
    fixed: list[int] = Field(default_factory=list)
    source: str = "pins"
    # (kind, key) -> CSV row, so errors found later still name the row
    _rows: dict[tuple[str, str], int] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object) -> None:
        for lid, team in self.teams.items():
            if team < 1:
                raise InputError(
                    f"team {team} of learner '{lid}' is not a team number (teams count from 1)",
                    file=self.source,
                    row=self._rows.get(("team", lid)),
                    column="team",
                )
        for team in self.fixed:
            if team < 1:
                raise InputError(
                    f"fixed team {team} is not a team number (teams count from 1)",
                    file=self.source,
                    column="fixed",
                )

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing pinned."""
        return not (self.teams or any(len(g) > 1 for g in self.groups) or self.fixed)

    def row_of(self, kind: str, key: str) -> int | None:
        """The CSV row a pin came from (``kind`` is ``team``, ``group`` or ``fixed``)."""
        return self._rows.get((kind, key))

    @classmethod
    def from_csv(cls, path: str | Path) -> Pins:
        """Read pins from a CSV.

        Columns (any order, header required): ``id`` and at least one of
        ``team`` (pin the learner to that team number) and ``group`` (learners
        with the same group label stay together); optionally ``fixed``
        (``yes`` on any row of a team fixes that team: nobody else joins it).
        So both ``id,team`` and ``group,id`` files work, and one file can mix
        them.

        Raises
        ------
        InputError
            Naming the file, row and column of the first bad cell.
        """
        from teamform.roster import _read_csv

        path = Path(path)
        source = str(path)
        header, rows = _read_csv(path)
        lowered = {h.lower(): h for h in header}
        if "id" not in lowered:
            raise InputError("required column is missing", file=source, row=1, column="id")
        if "team" not in lowered and "group" not in lowered:
            raise InputError(
                "a pins file needs a 'team' column (id,team) or a 'group' column (group,id)",
                file=source,
                row=1,
            )
        unknown = [h for h in header if h.lower() not in ("id", "team", "group", "fixed")]
        if unknown:
            raise InputError(
                "unknown column (expected id, team, group, fixed)",
                file=source,
                row=1,
                column=unknown[0],
            )
        teams: dict[str, int] = {}
        groups: dict[str, list[str]] = {}
        fixed: dict[int, None] = {}
        rows_of: dict[tuple[str, str], int] = {}
        seen: dict[str, int] = {}
        for line, row in rows:

            def cell(name: str, row: dict[str, str] = row) -> str:
                return row.get(lowered[name], "") if name in lowered else ""

            lid = cell("id")
            if not lid:
                raise InputError("empty id", file=source, row=line, column=lowered["id"])
            raw_team, label, raw_fixed = cell("team"), cell("group"), cell("fixed").lower()
            if not raw_team and not label:
                raise InputError("row pins nothing: give a team or a group", file=source, row=line)
            if raw_team:
                try:
                    team = int(raw_team)
                except ValueError:
                    raise InputError(
                        f"team '{raw_team}' is not a whole number",
                        file=source,
                        row=line,
                        column=lowered["team"],
                    ) from None
                if team < 1:
                    raise InputError(
                        f"team {team} is not a team number (teams count from 1)",
                        file=source,
                        row=line,
                        column=lowered["team"],
                    )
                if lid in teams and teams[lid] != team:
                    raise InputError(
                        f"learner '{lid}' is pinned to team {teams[lid]} on row "
                        f"{rows_of['team', lid]} and to team {team} here",
                        file=source,
                        row=line,
                        column=lowered["team"],
                    )
                teams[lid] = team
                rows_of.setdefault(("team", lid), line)
            if raw_fixed not in _TRUE | _FALSE:
                raise InputError(
                    f"fixed '{cell('fixed')}' is not yes or no",
                    file=source,
                    row=line,
                    column=lowered.get("fixed"),
                )
            if raw_fixed in _TRUE:
                if not raw_team:
                    raise InputError(
                        "fixed needs a team on the same row",
                        file=source,
                        row=line,
                        column=lowered.get("fixed"),
                    )
                fixed.setdefault(int(raw_team), None)
                rows_of.setdefault(("fixed", raw_team), line)
            if label:
                groups.setdefault(label, []).append(lid)
                rows_of.setdefault(("group", lid), line)
            seen.setdefault(lid, line)
        if not seen:
            raise InputError("the pins file has no rows", file=source)
        pins = cls(
            teams=teams,
            groups=[list(dict.fromkeys(g)) for g in groups.values()],
            fixed=list(fixed),
            source=source,
        )
        pins._rows.update(rows_of)
        for lid, line in seen.items():
            pins._rows.setdefault(("id", lid), line)
        return pins


@dataclass
class PinData:
    """Pins compiled against a roster and a team layout.

    Attributes
    ----------
    team
        Team index (0-based) each learner is pinned to, or -1 (group pins
        included: a group with one pinned member is pinned as a whole).
    group
        Keep-together group index of each learner, or -1.
    groups
        Members of each group (learner indices), at least two each.
    closed
        Whether each team is fixed (nobody but its pinned learners).
    conflicts
        Pins that cannot hold, one line each; empty when none was found.
    """

    team: IntArray
    group: IntArray
    groups: list[list[int]]
    closed: BoolArray
    conflicts: list[str] = field(default_factory=list)

    @property
    def frozen(self) -> BoolArray:
        """Learners that moves and swaps must leave where they are."""
        return np.asarray((self.team >= 0) | (self.group >= 0))

    @property
    def free_groups(self) -> list[list[int]]:
        """Groups not pinned to a team: only exact sub-models move them."""
        return [g for g in self.groups if self.team[g[0]] < 0]

    def allows(self, i: int, t: int) -> bool:
        """Whether learner ``i`` may be in team ``t``."""
        p = int(self.team[i])
        return p == t if (p >= 0 or self.closed[t]) else True

    def team_violations(self, members: Sequence[int], team: int) -> int:
        """Pin breaches in one team, from its members alone (0 when all hold).

        Counts members pinned elsewhere or not pinned to a fixed team, and
        members of groups split between this team and others.
        """
        bad = 0
        count: dict[int, int] = {}
        for i in members:
            if not self.allows(i, team):
                bad += 1
            g = int(self.group[i])
            if g >= 0:
                count[g] = count.get(g, 0) + 1
        for g, c in count.items():
            if c < len(self.groups[g]):
                bad += c
        return bad

    def violations(self, assignment: Sequence[int], ids: Sequence[str]) -> list[str]:
        """One line per broken pin in a full assignment (team indices)."""
        out: list[str] = []
        for i in np.flatnonzero(self.team >= 0).tolist():
            if assignment[i] != self.team[i]:
                out.append(
                    f"team {assignment[i] + 1}: learner {ids[i]} is pinned to team "
                    f"{self.team[i] + 1} (pins)"
                )
        for i, t in enumerate(assignment):
            if self.closed[t] and self.team[i] != t:
                out.append(f"team {t + 1}: learner {ids[i]} joined a fixed team (pins)")
        for g in self.groups:
            teams = sorted({int(assignment[i]) for i in g})
            if len(teams) > 1:
                out.append(
                    f"keep-together group {', '.join(ids[i] for i in g)} is split over teams "
                    f"{', '.join(str(t + 1) for t in teams)} (pins)"
                )
        return out


def _names(ids: Sequence[str], members: Sequence[int]) -> str:
    names = [ids[i] for i in members]
    if len(names) > 8:
        return ", ".join(names[:8]) + f" and {len(names) - 8} more"
    return ", ".join(names)


def compile_pins(
    pins: Pins,
    ids: Sequence[str],
    section: IntArray,
    section_names: Sequence[str],
    avoid: IntArray,
    layout: tuple[IntArray, IntArray, IntArray],
    size_bounds: tuple[int, int],
    balanced: bool,
) -> tuple[PinData, IntArray, IntArray]:
    """Compile ``pins`` and adjust the team sizes to them.

    Parameters
    ----------
    pins
        The tutor's pins.
    ids, section, section_names, avoid
        Learner ids, section code of each learner, section names and avoid
        pairs (learner indices), as on the instance.
    layout
        ``team_lo, team_hi, team_section`` from :func:`~teamform.instance.team_layout`.
    size_bounds
        The model's smallest and largest team size.
    balanced
        Whether sizes within a section differ by at most one.

    Returns
    -------
    pins, team_lo, team_hi
        The compiled pins and the sizes, with fixed teams sized to their
        pinned members and, under balanced sizes, the larger teams of each
        section given to the teams with the most pins. When a conflict is
        found the sizes are returned unchanged.

    Raises
    ------
    InputError
        A pin names a learner not in the roster or a team that does not exist.
    """
    team_lo, team_hi, team_section = (a.copy() for a in layout)
    n, k = len(ids), len(team_lo)
    index = {lid: i for i, lid in enumerate(ids)}
    src = pins.source

    def learner(lid: str, kind: str) -> int:
        i = index.get(lid)
        if i is None:
            raise InputError(
                f"unknown learner id '{lid}' in pins",
                file=src,
                row=pins.row_of(kind, lid) or pins.row_of("id", lid),
                column="id",
            )
        return i

    def team_index(number: int, what: str, row: int | None, column: str) -> int:
        if not 1 <= number <= k:
            raise InputError(
                f"{what} {number} does not exist: the model forms {k} teams",
                file=src,
                row=row,
                column=column,
            )
        return number - 1

    conflicts: list[str] = []
    pin = np.full(n, -1, dtype=np.int64)
    for lid, number in pins.teams.items():
        i = learner(lid, "team")
        pin[i] = team_index(number, "team", pins.row_of("team", lid), "team")
    closed = np.zeros(k, dtype=np.bool_)
    for number in pins.fixed:
        closed[team_index(number, "fixed team", pins.row_of("fixed", str(number)), "fixed")] = True

    # keep-together groups: union-find, so groups sharing a learner merge
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for grp in pins.groups:
        members = [learner(lid, "group") for lid in grp]
        for i in members[1:]:
            parent[root(i)] = root(members[0])
    by_root: dict[int, list[int]] = {}
    for i in range(n):
        by_root.setdefault(root(i), []).append(i)
    groups = [sorted(m) for m in by_root.values() if len(m) > 1]
    groups.sort()
    group = np.full(n, -1, dtype=np.int64)
    for g, members in enumerate(groups):
        group[members] = g
        pinned = {int(pin[i]) for i in members if pin[i] >= 0}
        if len(pinned) > 1:
            conflicts.append(
                f"pins cannot hold: keep-together group {_names(ids, members)} is pinned to "
                f"teams {', '.join(str(t + 1) for t in sorted(pinned))}"
            )
        elif pinned:
            pin[members] = pinned.pop()
        secs = sorted({int(section[i]) for i in members})
        if len(secs) > 1:
            conflicts.append(
                f"pins cannot hold: keep-together group {_names(ids, members)} spans sections "
                f"{', '.join(repr(section_names[s]) for s in secs)} (teams never mix sections)"
            )

    for i in np.flatnonzero(pin >= 0).tolist():
        t = int(pin[i])
        if team_section[t] != section[i]:
            conflicts.append(
                f"pins cannot hold: learner {ids[i]} of section '{section_names[section[i]]}' "
                f"is pinned to team {t + 1} of section '{section_names[team_section[t]]}' "
                f"(teams never mix sections)"
            )
    for a, b in avoid.tolist():
        if group[a] >= 0 and group[a] == group[b]:
            conflicts.append(
                f"pins cannot hold: avoid pair {ids[a]},{ids[b]} is in one keep-together group"
            )
        elif pin[a] >= 0 and pin[a] == pin[b]:
            conflicts.append(
                f"pins cannot hold: avoid pair {ids[a]},{ids[b]} is pinned to team {pin[a] + 1}"
            )

    lo_b, hi_b = size_bounds
    span = f"{lo_b}" if lo_b == hi_b else f"{lo_b}-{hi_b}"
    count = np.bincount(pin[pin >= 0], minlength=k)
    for t in np.flatnonzero(closed).tolist():
        if not max(1, lo_b) <= count[t] <= hi_b:
            conflicts.append(
                f"pins cannot hold: team {t + 1} is fixed with {count[t]} pinned learners, "
                f"but team sizes are {span} (team size)"
            )
    for members in groups:
        s = int(section[members[0]])
        biggest = int(team_hi[team_section == s].max()) if (team_section == s).any() else 0
        if pin[members[0]] < 0 and len(members) > biggest:
            conflicts.append(
                f"pins cannot hold: keep-together group {_names(ids, members)} has "
                f"{len(members)} learners, more than a team holds ({biggest}) (team size)"
            )
    if conflicts:
        return PinData(pin, group, groups, closed, conflicts), layout[0], layout[1]

    for s, name in enumerate(section_names):
        teams = np.flatnonzero(team_section == s)
        m = int((section == s).sum())
        shut = teams[closed[teams]]
        open_ = teams[~closed[teams]]
        team_lo[shut] = count[shut]
        team_hi[shut] = count[shut]
        rest = m - int(count[shut].sum())
        where = f"section '{name}'" if len(section_names) > 1 else "the roster"
        if not len(open_):
            if rest:
                conflicts.append(
                    f"pins cannot hold: every team of {where} is fixed, leaving {rest} "
                    f"learners without a team (team size)"
                )
            continue
        if not len(shut) and not balanced:
            continue
        if balanced:
            base, extra = divmod(rest, len(open_))
            if base < lo_b or base + (extra > 0) > hi_b:
                conflicts.append(
                    f"pins cannot hold: the fixed teams leave {rest} learners of {where} "
                    f"for {len(open_)} teams, which cannot form balanced teams of {span} "
                    f"(team size)"
                )
                continue
            # the larger teams go to those with the most pinned learners
            order = open_[np.argsort(-count[open_], kind="stable")]
            team_lo[order] = base
            team_lo[order[:extra]] = base + 1
            team_hi[order] = team_lo[order]
        elif not int(team_lo[open_].sum()) <= rest <= int(team_hi[open_].sum()):
            conflicts.append(
                f"pins cannot hold: the fixed teams leave {rest} learners of {where} "
                f"for {len(open_)} teams of {span} (team size)"
            )
    for t in np.flatnonzero(~closed).tolist():
        if count[t] > team_hi[t]:
            conflicts.append(
                f"pins cannot hold: {count[t]} learners are pinned to team {t + 1}, "
                f"which holds {team_hi[t]} (team size)"
            )
    if conflicts:
        return PinData(pin, group, groups, closed, conflicts), layout[0], layout[1]
    return PinData(pin, group, groups, closed), team_lo, team_hi
