"""Ranked methods: who wins from ballots that order candidates. Pure, no ORM.

Lettered ranked prompts (votes.tally) and ranked `lines` prompts
(votes.line_tally) both decide through these. A ballot is a sequence of
candidates, most preferred first; what a ballot leaves out it ranks below
everything it names. Every method returns its winners sorted: several when
they tie (a tie is reported, never broken silently), none without ballots.
Checked against votelib and pyrankvote in tests/tally/test_ranked.py and
tests/tally/test_line_methods.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

# Past this many sets of continuing candidates, instant runoff stops trying every
# order of a tied elimination and drops all tied-last candidates at once, so a
# hostile ballot set cannot make a recount exponential.
_RUNOFF_STATES = 4096


def schulze(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Schulze (beatpath) winners, sorted; several when tied, none without ballots.

    1. d[x][y]: ballots ranking x above y; a ranked candidate is above every
       unranked one, and unranked candidates are level with each other.
    2. A direct link x→y has strength d[x][y] when d[x][y] > d[y][x].
    3. p[x][y]: the strength of the strongest path from x to y, where a path is
       as strong as its weakest link (Floyd–Warshall widest paths).
    4. The winners are the candidates x with p[x][y] >= p[y][x] for every y.
    """
    known = set(candidates)
    counts = Counter(tuple(dict.fromkeys(x for x in b if x in known)) for b in ballots)
    counts.pop((), None)
    if not counts:
        return []
    index = {c: i for i, c in enumerate(candidates)}
    n = len(candidates)
    d = [[0] * n for _ in range(n)]
    for ranking, times in counts.items():
        unranked = [index[c] for c in candidates if c not in ranking]
        for place, x in enumerate(ranking):
            row = d[index[x]]
            for y in (*(index[c] for c in ranking[place + 1 :]), *unranked):
                row[y] += times
    p = [[d[x][y] if d[x][y] > d[y][x] else 0 for y in range(n)] for x in range(n)]
    for k in range(n):
        for i in range(n):
            if i == k:
                continue
            for j in range(n):
                if j not in (i, k):
                    p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
    return sorted(
        candidates[x] for x in range(n) if all(p[x][y] >= p[y][x] for y in range(n) if y != x)
    )


def instant_runoff(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Instant-runoff winners, sorted; several when tied, none without ballots.

    1. Each ballot counts for its highest-ranked continuing candidate; ballots
       with none left are exhausted and count for nobody.
    2. A candidate with more than half the ballots still counting wins.
    3. When every continuing candidate has the same count, they are tied.
    4. Otherwise the candidate with the fewest votes is eliminated and step 1
       repeats. Candidates with no votes go together (nothing transfers). When
       several tie for fewest, every order of eliminating them is tried and
       the winners of all orders are reported, so a tie is never broken silently.
    """
    known = set(candidates)
    counts = Counter(tuple(dict.fromkeys(x for x in b if x in known)) for b in ballots)
    counts.pop((), None)
    if not counts:
        return []
    memo: dict[frozenset[str], frozenset[str]] = {}

    def winners(continuing: frozenset[str]) -> frozenset[str]:
        if continuing in memo:
            return memo[continuing]
        votes = dict.fromkeys(continuing, 0)
        for ranking, times in counts.items():
            first = next((c for c in ranking if c in continuing), None)
            if first is not None:
                votes[first] += times
        active, top, low = sum(votes.values()), max(votes.values()), min(votes.values())
        if top * 2 > active:
            result = frozenset(c for c, v in votes.items() if v == top)
        elif low == top:
            result = continuing
        else:
            last = [c for c, v in votes.items() if v == low]
            if low == 0 or len(last) == 1 or len(memo) > _RUNOFF_STATES:
                result = winners(continuing.difference(last))
            else:
                result = frozenset().union(*(winners(continuing - {c}) for c in last))
        memo[continuing] = result
        return result

    return sorted(winners(frozenset(candidates)))


def borda(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Borda count winners, sorted; several when tied, none without ballots.

    1. With n candidates, a ballot gives n-1 points to its first, n-2 to its
       second, and so on: the n-th gets 0.
    2. A candidate a ballot leaves unranked gets 0 from it, so a short ballot
       gives away only the points of the places it fills.
    3. The winners have the most points.
    """
    rankings = list(_rankings(ballots, candidates))
    if not rankings:
        return []
    points = borda_points(rankings, candidates)
    top = max(points.values())
    return sorted(c for c, p in points.items() if p == top)


def borda_points(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> dict[str, int]:
    """Each candidate's Borda points (see `borda`)."""
    n = len(candidates)
    points = dict.fromkeys(candidates, 0)
    for ranking in _rankings(ballots, candidates):
        for place, candidate in enumerate(ranking):
            points[candidate] += n - 1 - place
    return points


# NetTally's rated instant runoff rates a place k (1-9) as 1 - (k-1)/8 of a
# positive vote; z is the normal quantile of a 95% interval, as NetTally takes it.
_RATED_PLACES = 9
_WILSON_Z = 1.96


def rated_runoff(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Rated instant runoff winners, as NetTally decides ranked votes; sorted, ties reported.

    NetTally (Kinematics/NetTally, RatedInstantRunoff.cs) rates every candidate,
    takes the two best rated and runs them off against each other:

    1. Rating: over the n ballots that place a candidate at all, a ballot placing
       it k-th counts as 1 - (k-1)/8 of a positive vote (1st: 1, 5th: 0.5,
       9th and later: 0). The rating is the lower bound of the Wilson score
       interval (z = 1.96) of that share, so a candidate placed well by many
       ballots rates above one placed first by a few. Unplaced: rated 0.
    2. The two best rated are the finalists.
    3. The finalist more ballots prefer wins: a ballot prefers the one it places
       higher, or the only one of the two it places.
    4. Equal preference goes to the better rated finalist (NetTally's rule).
    Where NetTally would fall back on list order, this reports a tie instead:
    when ratings tie for a place in the final, every possible final is run and
    the winners of all are reported; equal preference between equally rated
    finalists makes both winners.

    Places are the ballot's order (1st, 2nd, ...), so a skipped rank number on
    a post ([#1], [#3]) does not push the later line down.
    """
    rankings = list(_rankings(ballots, candidates))
    if not rankings:
        return []
    places: dict[str, list[int]] = {c: [] for c in candidates}
    for ranking in rankings:
        for place, candidate in enumerate(ranking, start=1):
            places[candidate].append(place)
    rating = {c: _wilson_lower(places[c]) for c in candidates}
    levels = sorted(set(rating.values()), reverse=True)
    best = [c for c in candidates if rating[c] == levels[0]]
    if len(best) > 1:
        finals = [(a, b) for i, a in enumerate(best) for b in best[i + 1 :]]
    elif len(levels) > 1:
        finals = [(best[0], c) for c in candidates if rating[c] == levels[1]]
    else:
        return best
    winners: set[str] = set()
    for a, b in finals:
        winners.update(_runoff(a, b, rankings, rating))
    return sorted(winners)


def _wilson_lower(places: Sequence[int]) -> float:
    n = len(places)
    if not n:
        return 0.0
    positive = sum(1 - (min(k, _RATED_PLACES) - 1) / (_RATED_PLACES - 1) for k in places)
    share, z2 = positive / n, _WILSON_Z**2
    spread = _WILSON_Z * math.sqrt((share * (1 - share) + z2 / (4 * n)) / n)
    return (share + z2 / (2 * n) - spread) / (1 + z2 / n)


def _runoff(
    a: str, b: str, rankings: Sequence[Sequence[str]], rating: dict[str, float]
) -> set[str]:
    """The winner of a final between `a` and `b` (both when nothing separates them)."""
    for_a = for_b = 0
    for ranking in rankings:
        place_a = ranking.index(a) if a in ranking else None
        place_b = ranking.index(b) if b in ranking else None
        if place_a is not None and (place_b is None or place_a < place_b):
            for_a += 1
        elif place_b is not None and (place_a is None or place_b < place_a):
            for_b += 1
    if for_a != for_b:
        return {a if for_a > for_b else b}
    if rating[a] != rating[b]:
        return {a if rating[a] > rating[b] else b}
    return {a, b}


def _rankings(
    ballots: Iterable[Sequence[str]], candidates: Sequence[str]
) -> Iterable[tuple[str, ...]]:
    """Each ballot's candidates, first mention kept, in order; empty ballots left out."""
    known = set(candidates)
    for ballot in ballots:
        ranking = tuple(dict.fromkeys(x for x in ballot if x in known))
        if ranking:
            yield ranking
