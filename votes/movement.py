"""How the vote moved: each option's count over the vote's time, from the stored tally runs.

Pure Python (no Django): `selectors.tally_movement` loads the runs (at most
MAX_POINTS of them, spread over time by `thin`), `movement` turns them into one
series per prompt, and `chart` lays a series out for the tally page's SVG, so
what the chart draws and what its table reads out come from the same numbers.

A tally run is stored only when the tally changed, and a prompt's counts hold
until the next run that changes them: a series is a step line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from votes.tally import entry_key

MAX_POINTS = 100
# A write-in prompt may have dozens of entries: the chart follows the leading few.
ENTRIES_SHOWN = 5
# Colours and dashes are CSS classes `series-0` … `series-7` (static/css/app.css).
PALETTE_SIZE = 8


@dataclass(frozen=True, slots=True)
class Line:
    key: str  # the option's letter, or the write-in entry's number ("1" for the leader)
    label: str  # "North", or the entry's text
    counts: tuple[int, ...]  # one per point of its series


@dataclass(frozen=True, slots=True)
class Series:
    """One prompt's counts at each point its counts changed."""

    number: int
    text: str
    times: tuple[datetime, ...]
    lines: tuple[Line, ...]
    of_entries: bool = False  # a write-in prompt: the lines are its leading entries

    def rows(self) -> list[tuple[datetime, tuple[int, ...]]]:
        """(time, a count per line) at each point: the series as a table."""
        return [(t, tuple(line.counts[i] for line in self.lines)) for i, t in enumerate(self.times)]


def thin(times: Sequence[datetime], limit: int = MAX_POINTS) -> list[int]:
    """The indices of at most `limit` of `times` (ascending), spread over time.

    1. Few enough: all of them.
    2. Otherwise the span from the first to the last is cut into `limit - 1`
       equal stretches, and the latest time in each is kept, with the first:
       a burst of recounts keeps its outcome, and a quiet stretch costs nothing.
    """
    if len(times) <= limit:
        return list(range(len(times)))
    first, last = times[0], times[-1]
    span = (last - first).total_seconds() or 1.0
    stretches = limit - 1
    latest: dict[int, int] = {}
    for i, t in enumerate(times[1:], start=1):
        stretch = min(int((t - first).total_seconds() / span * stretches), stretches - 1)
        latest[stretch] = i
    return [0, *sorted(latest.values())]


def movement(runs: Sequence[tuple[datetime, Mapping[str, Any]]]) -> list[Series]:
    """One series per prompt of the latest run, from (time, quest-tally/1) runs in time order.

    1. The lines are the latest run's options (a write-in prompt: its leading
       ENTRIES_SHOWN entries, matched across runs as the tally groups entries).
    2. A run is a point of a prompt's series when that prompt's counts differ
       from the point before: a run changing only another prompt adds nothing.
    3. An option missing from an earlier run (the prompts were changed) counts 0 there.
    """
    if not runs:
        return []
    out = []
    for prompt in runs[-1][1].get("prompts", []):
        keys = _line_keys(prompt)
        times: list[datetime] = []
        points: list[tuple[int, ...]] = []
        for at, tally in runs:
            counts = _counts(tally, prompt["number"], [k for k, _, _ in keys])
            if not points or counts != points[-1]:
                times.append(at)
                points.append(counts)
        lines = tuple(
            Line(key=key, label=label, counts=tuple(p[i] for p in points))
            for i, (_, key, label) in enumerate(keys)
        )
        of_entries = "options" not in prompt
        out.append(Series(prompt["number"], prompt["text"], tuple(times), lines, of_entries))
    return out


def _line_keys(prompt: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(match key, shown key, label) of each line of a prompt of the latest run."""
    if "options" in prompt:
        return [(o["letter"], o["letter"], o["text"]) for o in prompt["options"]]
    entries = sorted(prompt.get("entries") or [], key=lambda e: -e["votes"])[:ENTRIES_SHOWN]
    return [(entry_key(e["text"]), str(n), e["text"]) for n, e in enumerate(entries, start=1)]


def _counts(tally: Mapping[str, Any], number: int, keys: Sequence[str]) -> tuple[int, ...]:
    prompt = next((p for p in tally.get("prompts", []) if p["number"] == number), None)
    if prompt is None:
        return tuple(0 for _ in keys)
    if "options" in prompt:
        votes = {o["letter"]: o["votes"] for o in prompt["options"]}
    else:
        votes = {}
        for e in prompt.get("entries") or []:
            votes[entry_key(e["text"])] = votes.get(entry_key(e["text"]), 0) + e["votes"]
    return tuple(votes.get(k, 0) for k in keys)


@dataclass(frozen=True, slots=True)
class Figure:
    """What the tally page draws for one prompt: its series and the chart's layout."""

    series: Series
    chart: Chart


def figures(
    runs: Sequence[tuple[datetime, Mapping[str, Any]]], *, start: datetime, end: datetime
) -> list[Figure]:
    """A figure per prompt of the latest run, its time axis from `start` to `end`."""
    return [Figure(s, chart(s, start=start, end=end)) for s in movement(runs)]


# --- The chart's layout ---------------------------------------------------------------


WIDTH, HEIGHT = 400, 190
LEFT, RIGHT, TOP, BOTTOM = 30, 46, 10, 26  # room for the counts, end keys and times
LABEL_GAP = 12  # end keys closer than this are moved apart


@dataclass(frozen=True, slots=True)
class Path:
    css: str  # "series-0" …
    key: str
    label: str
    points: str  # the polyline's points attribute
    key_y: float  # where its key is written, right of the plot
    last: int  # its count at the end


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    paths: tuple[Path, ...]
    y_ticks: tuple[tuple[float, int], ...]  # (y, count)
    x_ticks: tuple[tuple[float, datetime, str], ...]  # (x, time, text-anchor)
    left: float  # the plot's edges
    top: float
    right: float
    bottom: float

    @property
    def count_x(self) -> float:  # where the counts are written, right-aligned
        return self.left - 4

    @property
    def key_x(self) -> float:  # where the end keys start
        return self.right + 4

    @property
    def time_y(self) -> float:  # the baseline of the times under the plot
        return self.bottom + 16

    @property
    def time_format(self) -> str:
        """How the axis writes its times (Django's date format): finer for a shorter span."""
        span = self.x_ticks[-1][1] - self.x_ticks[0][1]
        if span < timedelta(hours=1):
            return "H:i:s"
        return "H:i" if span < timedelta(days=1) else "j M, H:i"


def chart(series: Series, *, start: datetime, end: datetime) -> Chart:
    """The SVG layout of one series between `start` and `end` (viewBox units).

    Each line steps: its count holds from one point until the next and runs
    on to `end`. Counts go up from 0 at the bottom to the highest count at the
    top; the key of each line is written at its last count, moved apart from
    the others so none overlap.
    """
    start = min(start, *series.times) if series.times else start
    end = max(end, *series.times) if series.times else end
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    span = (end - start).total_seconds() or 1.0
    high = max((max(line.counts, default=0) for line in series.lines), default=0) or 1

    def x(t: datetime) -> float:
        return round(left + (t - start).total_seconds() / span * (right - left), 1)

    def y(count: int) -> float:
        return round(bottom - count / high * (bottom - top), 1)

    paths = []
    for i, line in enumerate(series.lines):
        points: list[tuple[float, float]] = []
        for t, count in zip(series.times, line.counts, strict=True):
            if points:
                points.append((x(t), points[-1][1]))
            points.append((x(t), y(count)))
        if points:
            points.append((float(right), points[-1][1]))
        last = line.counts[-1] if line.counts else 0
        paths.append(
            Path(
                css=f"series-{i % PALETTE_SIZE}",
                key=line.key,
                label=line.label,
                points=" ".join(f"{px:g},{py:g}" for px, py in points),
                key_y=y(last),
                last=last,
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        paths=tuple(_spread_keys(paths, top=top + 4, bottom=bottom + 4)),
        y_ticks=tuple((y(n), n) for n in _count_ticks(high)),
        x_ticks=((float(left), start, "start"), (float(right), end, "end")),
        left=left,
        top=top,
        right=right,
        bottom=bottom,
    )


def _count_ticks(high: int) -> list[int]:
    """0, the highest count, and a whole middle one when there is room for it."""
    return [0, high // 2, high] if high >= 4 else sorted({0, high})


def _spread_keys(paths: list[Path], *, top: float, bottom: float) -> list[Path]:
    """The paths with their keys at least LABEL_GAP apart, kept in the plot's height."""
    order = sorted(range(len(paths)), key=lambda i: (paths[i].key_y, i))
    ys: dict[int, float] = {}
    previous = None
    for i in order:
        wanted = paths[i].key_y + 4  # the text's baseline, a little under the line
        ys[i] = wanted if previous is None else max(wanted, previous + LABEL_GAP)
        previous = ys[i]
    overflow = (previous or 0) - bottom
    if overflow > 0:  # pushed out at the bottom: move the whole stack up, not past the top
        for i in ys:
            ys[i] = max(top, ys[i] - overflow)
    return [replace(p, key_y=round(ys[i], 1)) for i, p in enumerate(paths)]
