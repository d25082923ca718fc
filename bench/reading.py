"""Posts per second for the ballot reader, and the ratio to one plain regex scan.

Run: .venv/bin/python bench/reading.py [--posts N] [--profile]
The corpus is the public example thread repeated plus generated ballot posts.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reading.example import load_thread
from votes.reading import read_thread
from votes.reading.types import PostIn

FLOOR = re.compile(r"\d+\s*[-.):]?\s*[A-Za-z]")
WORDS = [
    "we",
    "should",
    "build",
    "more",
    "roads",
    "in",
    "Kiev",
    "and",
    "punish",
    "the",
    "traitors",
    "because",
    "Korea",
]


def _generated(rng: random.Random, n: int, start: PostIn) -> list[PostIn]:
    posts = []
    for i in range(n):
        shape = rng.choice(["1-{}\n2-{}\n3-{}", "1 {};\n2 - {}\n3. {}", "Vote: 1{} 2{}\n3: {}"])
        body = shape.format(rng.choice("AB"), rng.choice("AB"), " ".join(rng.sample(WORDS, 8)))
        if rng.random() < 0.3:
            body += "\n\n" + " ".join(rng.choices(WORDS, k=rng.randint(10, 80)))
        posts.append(
            replace(
                start,
                id=10_000_000 + i,
                author=f"voter{rng.randint(0, 3000)}",
                posted_at=start.posted_at + timedelta(seconds=i),
                body=body,
                edited_at=None,
            )
        )
    return posts


def corpus(total: int) -> tuple:
    _, vote, posts = load_thread()
    rng = random.Random(1953)
    out: list[PostIn] = []
    copy = 0
    while len(out) < total // 2:
        for p in posts:
            out.append(replace(p, id=p.id + copy * 1000))
        copy += 1
    first = next(p for p in posts if p.posted_at >= vote.opens_at)
    out += _generated(rng, total - len(out), first)
    return vote, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    vote, posts = corpus(args.posts)
    chars = sum(len(p.body) for p in posts)

    started = time.perf_counter()
    hits = sum(1 for p in posts for _ in FLOOR.finditer(p.body))
    floor = time.perf_counter() - started

    started = time.perf_counter()
    readings = read_thread(vote, posts)
    took = time.perf_counter() - started

    print(f"posts: {len(posts)}  characters: {chars:,}  floor matches: {hits}")
    print(f"reader: {took:.3f} s  {len(posts) / took:,.0f} posts/s")
    print(f"floor (one re.finditer scan): {floor:.3f} s  {len(posts) / floor:,.0f} posts/s")
    print(f"ratio reader/floor: {took / floor:.1f}x")
    print(f"answers read: {sum(len(r.answers) for r in readings)}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        read_thread(vote, posts)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
