"""The Readings a thread has read, each read once: the memo `thread.Thread` reads through.

A long thread kept between reads (reader.ReadingContext) packs its older
Readings (`pack_before`): each is kept as compressed JSON, which is what a
recount stores and gives back an equal Reading, and its kind apart, which later
posts ask of their author's earlier posts (has the author a ballot before?)
far more often than they copy a whole Reading (an endorsement). A Reading is
most of what a 100,000-post thread held (issue 14): packed, about a quarter.
"""

from __future__ import annotations

import json
import zlib

from .types import PostKind, Reading


class Memo:
    """Post position -> its Reading, the older ones packed."""

    def __init__(self) -> None:
        self.readings: dict[int, Reading] = {}
        self.packed: dict[int, bytes] = {}
        # The kind of each post before `len(kinds)` (None: not read when packed).
        self.kinds: list[PostKind | None] = []

    def get(self, i: int) -> Reading | None:
        reading = self.readings.get(i)
        if reading is not None:
            return reading
        packed = self.packed.get(i)
        if packed is None:
            return None
        return Reading.from_json(json.loads(zlib.decompress(packed)))

    def put(self, i: int, reading: Reading) -> None:
        self.readings[i] = reading

    def kind(self, i: int) -> PostKind | None:
        """Post i's kind, if it was read (a packed one is not unpacked for it)."""
        if i < len(self.kinds) and self.kinds[i] is not None:
            return self.kinds[i]
        reading = self.readings.get(i)
        return reading.kind if reading is not None else None

    @property
    def packed_upto(self) -> int:
        return len(self.kinds)

    def pack_before(self, end: int) -> None:
        """Keep the Readings of the posts before position `end` as compressed JSON
        (level 1, as the bodies: index.PostIndex.pack_before)."""
        kinds, readings, packed = self.kinds, self.readings, self.packed
        for i in range(len(kinds), end):
            reading = readings.pop(i, None)
            if reading is None:
                kinds.append(None)
                continue
            kinds.append(reading.kind)
            data = json.dumps(reading.to_json(), separators=(",", ":"))
            packed[i] = zlib.compress(data.encode(), 1)
