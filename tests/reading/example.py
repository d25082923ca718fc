"""Load a quest-thread/1 file into the reader's types (the tests' own small importer)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from votes.reading.types import (
    Method,
    OptionSpec,
    Partition,
    PostIn,
    PromptKind,
    PromptSpec,
    Proxies,
    VoteSpec,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EXAMPLE = SHARED / "examples" / "red-alert-ch2.thread.json"
EXPECT = SHARED / "examples" / "red-alert-ch2.expect.json"
CHECKER = SHARED / "tools" / "check_tally.py"
XBALLOTS = Path(__file__).resolve().parents[1] / "fixtures" / "xballots"


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def load_thread(path: Path = EXAMPLE) -> tuple[dict, VoteSpec, list[PostIn]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    chapter = data["chapters"][0]
    spec = chapter["vote"]
    vote = VoteSpec(
        prompts=tuple(
            PromptSpec(
                p["number"],
                PromptKind(p["kind"]),
                p["text"],
                tuple(OptionSpec(o["letter"], o["text"]) for o in p.get("options", [])),
                partition=Partition(p.get("partition", "block")),
                proxies=Proxies(p.get("proxies", "on")),
                method=Method(p.get("method", "schulze")),
            )
            for p in spec["prompts"]
        ),
        quest_master=data["quest"]["quest_master"],
        post_id=spec["post"],
        opens_at=_when(spec["opens_at"]),
        closes_at=_when(spec.get("closes_at")),
    )
    posts = [
        PostIn(p["id"], p["author"], _when(p["posted_at"]), p["body"], _when(p.get("edited_at")))
        for p in data["posts"]
    ]
    return data, vote, posts
