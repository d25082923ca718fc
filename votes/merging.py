"""Moderators' merges of write-in entries, as the tally applies them: pure, no ORM.

A merge says that the entry written one way is the same idea as another
entry, whose wording names the two from then on. Merges are stored as
`votes.models.EntryMerge` rows and passed to `votes.tally.tally_json` as plain
`Merge` values, so every recount replays the standing ones from scratch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Merge:
    """One standing merge on a write-in prompt: `merged` now counts as `kept`."""

    merged: str  # the entry merged away, as it read in the tally
    kept: str  # the entry it joins; its wording names both


NO_MERGES: Mapping[int, Sequence[Merge]] = MappingProxyType({})


def merge_roots(present: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each present entry key -> the key of the entry it is counted in.

    1. Pairs (merged key, kept key) are applied in the order given, the order
       the merges were made.
    2. A pair applies only while both its entries are in the tally: a merge
       whose texts no longer appear (every voter changed their answer) is kept
       on record but joins nothing.
    3. A pair moves the whole group holding `merged` under the group holding
       `kept`, so merging into an entry that already absorbed others keeps
       them together, and its first entry goes on naming them.
    4. A pair whose entries are already one group changes nothing: merges can
       never make a cycle, whatever order they come in.
    """
    parent = {key: key for key in present}

    def root(key: str) -> str:
        while parent[key] != key:
            key = parent[key]
        return key

    for merged, kept in pairs:
        if merged in parent and kept in parent:
            a, b = root(merged), root(kept)
            if a != b:
                parent[a] = b
    return {key: root(key) for key in parent}


def merge_applies(merged: str, kept: str, groups: Iterable[Collection[str]]) -> bool:
    """Whether the entries keyed `merged` and `kept` are counted as one entry.

    `groups` holds, per entry of a stored tally, the keys of its own text and
    of every text it was merged from.
    """
    return any(merged in group and kept in group for group in groups)
