"""How the vote moved: the series and the chart drawn from stored tally runs (votes/movement.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from votes.movement import (
    ENTRIES_SHOWN,
    HEIGHT,
    LABEL_GAP,
    WIDTH,
    Line,
    Series,
    chart,
    figures,
    movement,
    thin,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def choice(number: int, **votes: int) -> dict:
    return {
        "number": number,
        "kind": "single",
        "text": f"Prompt {number}?",
        "options": [{"letter": k, "text": f"Option {k}", "votes": v} for k, v in votes.items()],
    }


def write_in(number: int, entries: dict[str, int]) -> dict:
    return {
        "number": number,
        "kind": "write_in",
        "text": "Sing what?",
        "entries": [{"text": t, "votes": v, "voters": []} for t, v in entries.items()],
    }


def run(minutes: float, *prompts: dict) -> tuple[datetime, dict]:
    return at(minutes), {"prompts": list(prompts)}


# --- thin ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 99, 100])
def test_it_keeps_every_run_up_to_the_limit(count):
    assert thin([at(n) for n in range(count)], 100) == list(range(count))


@pytest.mark.parametrize("count", [101, 250, 5000])
def test_it_keeps_at_most_the_limit_spread_over_time_with_the_first_and_last(count):
    times = [at(n) for n in range(count)]
    kept = thin(times, 100)
    assert len(kept) <= 100
    assert kept[0] == 0 and kept[-1] == count - 1
    assert kept == sorted(set(kept))
    gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
    assert max(gaps) <= 2 * (count / 99) + 1  # evenly spread, no long hole


def test_it_keeps_the_outcome_of_a_burst_of_recounts():
    # 300 recounts within a minute, then a quiet day and one more.
    times = [T0 + timedelta(seconds=n / 5) for n in range(300)] + [at(24 * 60)]
    kept = thin(times, 10)
    assert kept[0] == 0 and kept[-1] == 300
    assert 299 in kept  # how the burst ended


# --- movement --------------------------------------------------------------------


def test_it_has_a_point_where_a_prompts_counts_changed_and_only_there():
    runs = [
        run(0, choice(1, A=1, B=0), choice(2, A=0, B=0)),
        run(5, choice(1, A=1, B=0), choice(2, A=1, B=0)),  # only prompt 2 moved
        run(9, choice(1, A=1, B=2), choice(2, A=1, B=0)),
    ]
    first, second = movement(runs)
    assert first.rows() == [(at(0), (1, 0)), (at(9), (1, 2))]
    assert second.rows() == [(at(0), (0, 0)), (at(5), (1, 0))]
    assert [(line.key, line.label) for line in first.lines] == [
        ("A", "Option A"),
        ("B", "Option B"),
    ]


def test_it_counts_an_option_missing_from_an_earlier_run_as_zero():
    runs = [run(0, choice(1, A=2, B=1)), run(3, choice(1, A=2, B=1, C=4))]
    (series,) = movement(runs)
    assert series.rows() == [(at(0), (2, 1, 0)), (at(3), (2, 1, 4))]


def test_it_follows_the_prompts_of_the_latest_run():
    runs = [run(0, choice(1, A=1), choice(7, A=5)), run(1, choice(1, A=2))]
    assert [s.number for s in movement(runs)] == [1]


def test_it_follows_the_leading_write_in_entries_across_wordings():
    latest = {f"idea {n}": n for n in range(1, 9)}
    runs = [
        run(0, write_in(3, {"Idea 8!": 2, "idea 7": 1})),  # worded otherwise then
        run(1, write_in(3, latest)),
    ]
    (series,) = movement(runs)
    assert series.of_entries
    assert len(series.lines) == ENTRIES_SHOWN
    assert [line.label for line in series.lines] == [
        "idea 8",
        "idea 7",
        "idea 6",
        "idea 5",
        "idea 4",
    ]
    assert [line.key for line in series.lines] == ["1", "2", "3", "4", "5"]
    assert series.rows()[0] == (at(0), (2, 1, 0, 0, 0))


def test_it_has_nothing_to_show_without_runs():
    assert movement([]) == []


# --- chart -----------------------------------------------------------------------


def _points(path) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in p.split(",")) for p in path.points.split()]


def test_it_draws_steps_that_hold_each_count_until_the_next_and_run_on_to_the_end():
    series = Series(1, "?", (at(0), at(10)), (Line("A", "North", (1, 3)),))
    c = chart(series, start=at(0), end=at(20))
    points = _points(c.paths[0])
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    assert xs == [c.left, c.left + (c.right - c.left) / 2, c.left + (c.right - c.left) / 2, c.right]
    assert ys[0] == ys[1] > ys[2] == ys[3]  # 1, held, then up to 3, held
    assert ys[2] == c.top  # the highest count at the top
    assert c.paths[0].last == 3


def test_it_puts_zero_at_the_bottom_and_the_highest_count_at_the_top():
    series = Series(1, "?", (at(0),), (Line("A", "a", (0,)), Line("B", "b", (8,))))
    c = chart(series, start=at(0), end=at(5))
    assert dict((n, y) for y, n in c.y_ticks) == {0: c.bottom, 4: (c.top + c.bottom) / 2, 8: c.top}
    assert _points(c.paths[0])[0][1] == c.bottom
    assert _points(c.paths[1])[0][1] == c.top


def test_it_draws_a_single_count_across_the_whole_width():
    series = Series(1, "?", (at(0),), (Line("A", "a", (2,)),))
    c = chart(series, start=at(0), end=at(0))
    assert [x for x, _ in _points(c.paths[0])] == [c.left, c.right]


def test_it_keeps_every_key_apart_and_inside_the_chart():
    lines = tuple(Line(k, k, (1,)) for k in "ABCDEFGH")  # all eight end on the same count
    c = chart(Series(1, "?", (at(0),), lines), start=at(0), end=at(1))
    ys = sorted(p.key_y for p in c.paths)
    assert all(b - a >= LABEL_GAP - 0.01 for a, b in zip(ys, ys[1:], strict=False))
    assert all(0 <= y <= HEIGHT for y in ys)
    assert [p.css for p in c.paths] == [f"series-{i}" for i in range(8)]


def test_it_keeps_every_point_inside_the_view_box():
    lines = (Line("A", "a", (0, 5, 2, 9)), Line("B", "b", (3, 3, 7, 1)))
    series = Series(1, "?", (at(0), at(1), at(30), at(31)), lines)
    for path in chart(series, start=at(-60), end=at(90)).paths:
        for x, y in _points(path):
            assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT


def test_it_makes_a_figure_per_prompt():
    runs = [run(0, choice(1, A=1), choice(2, A=0)), run(1, choice(1, A=2), choice(2, A=1))]
    made = figures(runs, start=at(-5), end=at(5))
    assert [f.series.number for f in made] == [1, 2]
    assert made[0].chart.x_ticks[0][1] == at(-5)
    assert made[0].chart.x_ticks[1][1] == at(5)


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(5, "H:i:s"), (59, "H:i:s"), (60, "H:i"), (23 * 60, "H:i"), (3000, "j M, H:i")],
)
def test_it_writes_the_times_finer_for_a_shorter_vote(minutes, shown):
    series = Series(1, "?", (at(0),), (Line("A", "a", (1,)),))
    assert chart(series, start=at(0), end=at(minutes)).time_format == shown
