"""Posts per second for the ballot reader, and the ratio to one plain regex scan.

Run: .venv/bin/python bench/reading.py [--posts N] [--window N] [--profile]

The corpus imitates a quest thread: cycles of 200 posts, each the public example
thread (16 posts: discussion before the vote, the quest master's 44 KB chapter
post and vote post, quoted prompts, ballots with long commentary) followed by
184 generated posts in the proportions of a real vote thread: ballots in the
accepted shapes (some with commentary, some with write-ins), discussion (some
quoting an earlier post), short chatter, endorsements under a quoted ballot and
proxies. So one post in 200 is a chapter post.

Four figures: `read_thread` over the whole corpus in one pass (the recount path),
`read_post` for one new post with a window of earlier posts (the worker
path, which reads each new post with the whole window as `earlier`), the same
posts through a `ReadingContext` that already holds the window (each new post
read alone, issue 14), and the
adversarial set (tests/reading/adversarial.py: every separator and repetition
the grammar accepts, run to 60,000 characters): the slowest adversarial post's
reading time as a multiple of a plain post of the same size (the corpus's own
ballots and discussion, joined), measured in the same run; and how many chatter
posts are held back next to how many ballots are lost (issue 9), over the posts
labelled by hand in tests/reading/labelled_posts.json and over the generated posts
(each labelled by the branch that wrote it: ballots, endorsements and proxies are
ballots; discussion and short chatter are chatter).

The reader runs as `make reader` left it: compiled with mypyc when the build
matches the sources (votes/reading/compiled.py), else the plain modules;
QUEST_PURE_READER=1 forces the plain modules. The first line says which.

Times are the process's CPU time (the reader is single-threaded), best of
several rounds: on a shared machine another process's work does not count
against the reader or the floor.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reading import adversarial, labelled
from tests.reading.example import XBALLOTS, load_thread
from votes.reading import COMPILED, ReadingContext, read_post, read_thread
from votes.reading.types import PostIn, Reading, VoteSpec

FLOOR = re.compile(r"\d+\s*[-.):]?\s*[A-Za-z]")
QUOTED_ID = re.compile(r"post: (\d+)")
CYCLE = 200  # posts per chapter cycle: the example thread plus generated posts
VOCABULARY = (
    "we should build more roads in Kiev and punish the traitors because Korea is a drain "
    "on the army the party must not forget the peasants who fed the cities during the war "
    "Zhukov will never accept a purge of the officers so the Politburo needs his support "
    "Malenkov Khrushchev Molotov Stalin Beria Moscow Leningrad China Mao Eisenhower the "
    "Americans housing grain tractors railways ports factories reform prisoners camps "
    "amnesty elections trials leniency justice socialism workers councils economy plan"
)
WORDS = VOCABULARY.split()
NUMBERS = ["1953", "1930s", "5 year plan", "100 days", "2 divisions", "3 years", "the 2nd front"]
CHATTER = [
    "Great chapter!",
    "lol",
    "Thanks for the update, can't wait for the next one.",
    "Oh no, Beria...",
    "This is going to be interesting.",
    "Wait, what happened to Molotov?",
    "Nice.",
]
AGREE = ["+1", "I second this", "Agreed", "Seconded", "This.", "Same", "I also support this"]
# What each generated post is, by the branch that wrote it: these kinds vote.
BALLOT_KINDS = {"ballot", "endorsement", "proxy"}


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 22))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(NUMBERS))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".!?.")


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 5)))


def _ballot(rng: random.Random) -> str:
    a, b = rng.choice("AB"), rng.choice("AB")
    write_in = _sentence(rng)
    shape = rng.choice(
        [
            f"1-{a}\n2-{b}\n3-{write_in}",
            f"1 {a};\n2 - {b}\n3. {write_in}",
            f"Vote: 1{a} 2{b}\n3: {write_in}",
            f"[X] 1-{a}\n[X] 2-{b}",
            f"1. {a}. {_sentence(rng)}\n2. {b}. {_sentence(rng)}\n3. {write_in}",
            f"1-{a} 2-{b}",
            f"Changing my vote: 2{b}",
        ]
    )
    if rng.random() < 0.4:
        shape += "\n\n" + "\n\n".join(_paragraph(rng) for _ in range(rng.randint(1, 3)))
    return shape


def _quote(post: PostIn) -> str:
    return f'[QUOTE="{post.author}, post: {post.id}"]\n{post.body}\n[/QUOTE]\n'


def _generated(
    rng: random.Random,
    n: int,
    start: PostIn,
    first_id: int,
    before: list[PostIn],
    kinds: dict[int, str],
):
    """`n` posts; `kinds` gets each one's kind (the random sequence is as before)."""
    posts: list[PostIn] = []
    ballots: list[PostIn] = []
    for i in range(n):
        roll = rng.random()
        earlier = posts or before
        if roll < 0.45:
            body, kind = _ballot(rng), "ballot"
        elif roll < 0.80:
            kind = "discussion"
            body = "\n\n".join(_paragraph(rng) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.3:
                body = _quote(rng.choice(earlier[-20:])) + body
        elif roll < 0.88:
            body, kind = rng.choice(CHATTER), "chatter"
        elif roll < 0.96 and ballots:
            body, kind = _quote(rng.choice(ballots[-10:])) + rng.choice(AGREE), "endorsement"
        elif ballots:
            body, kind = f"[X] {rng.choice(ballots).author}", "proxy"
        else:
            body, kind = rng.choice(CHATTER), "chatter"
        post = replace(
            start,
            id=first_id + i,
            author=f"voter{rng.randint(0, 3000)}",
            posted_at=start.posted_at + timedelta(seconds=i),
            body=body,
            edited_at=None,
        )
        posts.append(post)
        kinds[post.id] = kind
        if roll < 0.45:
            ballots.append(post)
    return posts


def corpus(
    total: int, seed: int = 1953, kinds: dict[int, str] | None = None
) -> tuple[VoteSpec, list[PostIn]]:
    """`total` posts; `kinds`, when given, gets the kind of every generated post."""
    kinds = {} if kinds is None else kinds
    _, vote, example = load_thread()
    rng = random.Random(seed)
    first = next(p for p in example if p.posted_at >= vote.opens_at)
    out: list[PostIn] = []
    cycle = 0
    while len(out) < total:
        offset = cycle * 1_000_000
        for p in example:
            # Quotes point at this cycle's copy of the quoted post, as in a real thread.
            body = QUOTED_ID.sub(lambda m, off=offset: f"post: {int(m.group(1)) + off}", p.body)
            out.append(replace(p, id=p.id + offset, body=body))
        gen = _generated(rng, CYCLE - len(example), first, 10_000_000 + offset, out[-16:], kinds)
        out += gen
        cycle += 1
    return vote, out[:total]


def _floor(posts: list[PostIn]) -> float:
    started = time.process_time()
    for p in posts:
        for _ in FLOOR.finditer(p.body):
            pass
    return time.process_time() - started


def _best(body: str, vote: VoteSpec, template: PostIn, rounds: int) -> float:
    post = replace(template, id=1, author="bench", body=body, edited_at=None, revisions=())
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        read_post(post, vote)
        best = min(best, time.process_time() - started)
    return best


def adversarial_ratio(vote: VoteSpec, posts: list[PostIn], rounds: int) -> None:
    """The slowest adversarial post against a plain post of the same size, same run."""
    template = next(p for p in posts if p.posted_at >= vote.opens_at)
    plain_parts, size = [], 0
    for p in posts:
        if len(p.body) < 5_000 and "[QUOTE" not in p.body:  # ballots and discussion
            plain_parts.append(p.body)
            size += len(p.body) + 2
            if size >= adversarial.SIZE:
                break
    plain = "\n\n".join(plain_parts)[: adversarial.SIZE]
    plain_time = _best(plain, vote, template, rounds)
    times = sorted(
        ((_best(body, vote, template, rounds), name) for name, body in adversarial.cases()),
        reverse=True,
    )
    slowest, name = times[0]
    print(
        f"adversarial set: {len(times)} posts of {adversarial.SIZE:,} characters; "
        f"plain post of the same size: {plain_time * 1000:.1f} ms"
    )
    print(
        f"slowest adversarial: {name}: {slowest * 1000:.1f} ms = {slowest / plain_time:.1f}x plain"
    )
    for took, name in times[1:5]:
        print(f"  then {name}: {took * 1000:.1f} ms = {took / plain_time:.1f}x")


def labelled_report(readings: list[Reading], kinds: dict[int, str]) -> None:
    """Chatter held back and ballots lost: each hand-labelled source, then the generated posts."""
    measures = labelled.measure_all()
    for m in measures:
        print(f"labelled {m.source}: {m.line()}")
    print(f"labelled, all sources: {labelled.pooled_line(measures)}")
    marks = {
        post_id: labelled.Label(labelled.BALLOT if kind in BALLOT_KINDS else labelled.CHATTER)
        for post_id, kind in kinds.items()
    }
    generated = labelled.measure("generated", readings, marks)
    print(f"generated posts of the corpus: {generated.line()}")
    held = Counter(kinds[p] for p in generated.chatter_held)
    lost = Counter(kinds[p] for p in generated.ballots_lost)
    if held or lost:
        print(f"  held chatter by kind: {dict(held)}; lost ballots by kind: {dict(lost)}")


# --- The [X] corpus (issue 15) ---------------------------------------------------

X_FLOOR = re.compile(r"(?m)^[ \t]*-*[ \t]*\[[^\]\n]{0,8}\]")
X_ENTRIES = [
    "Store it for the winter", "Send 2 squads to scout the ridge", "Ration the flour",
    "Repair the north wall", "Trade furs with the river folk", "Hold a council at dawn",
    "Build a second granary", "Train the militia in the yard", "Ask the ferryman for news",
]  # fmt: skip
X_SUBS = ["With quarried stone", "With timber from the ford", "Before the frost", "Quietly"]
X_LEADERS = ["Captain Oriel", "Sister Maud", "Ilse the ferryman"]


def _x_ballot(rng: random.Random, voters: list[str], plans: list[str]) -> str:
    """An [X] ballot in one of the shapes the communities write."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        mark = rng.choice(["[X]", "[x]", "[X]", "[\u2713]", "[ x ]", "-[X]"[1:]])
        if roll < 0.45:
            task = rng.choice(["", "", "[Keep] ", "[WALL] "])
            block = [f"{mark} {task}{rng.choice(X_ENTRIES)}"]
            block += [f"-[X] {sub}" for sub in rng.sample(X_SUBS, rng.randint(0, 2))]
            parts.append("\n".join(block))
        elif roll < 0.6:
            name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
            plans.append(name)
            subs = [f"-[X] {rng.choice(X_ENTRIES)}" for _ in range(rng.randint(2, 5))]
            parts.append("\n".join([f"[X] Plan {name}", *subs]))
        elif roll < 0.75 and plans:
            parts.append(f"[X] Plan {rng.choice(plans)}")
        elif roll < 0.85 and voters:
            parts.append(f"[X] {rng.choice(voters)}")
        else:
            ranks = rng.sample(X_LEADERS, 3)
            parts.append("2.\n" + "\n".join(f"[#{k}] {n}" for k, n in enumerate(ranks, 1)))
    if rng.random() < 0.5:
        parts.append(f"3-{rng.choice('ABC')}")
    if rng.random() < 0.4:
        parts.insert(0, _paragraph(rng))
    return "\n\n".join(parts)


def x_corpus(total: int, seed: int = 1953, kinds: dict[int, str] | None = None):
    """`total` posts of an [X] vote: the test thread, then generated posts, in cycles."""
    kinds = {} if kinds is None else kinds
    _, vote, thread = load_thread(XBALLOTS / "thread.json")
    rng = random.Random(seed)
    first = next(p for p in thread if vote.opens_at and p.posted_at >= vote.opens_at)
    out: list[PostIn] = []
    voters: list[str] = []
    plans: list[str] = []
    cycle = 0
    while len(out) < total:
        offset = cycle * 1_000_000
        out += [replace(p, id=p.id + offset) for p in thread if p.posted_at <= first.posted_at]
        ballots: list[PostIn] = []
        for i in range(CYCLE - len(thread)):
            roll = rng.random()
            author = f"voter{rng.randint(0, 3000)}"
            if roll < 0.5:
                body, kind = _x_ballot(rng, voters[-200:], plans[-50:]), "ballot"
            elif roll < 0.8:
                body, kind = "\n\n".join(_paragraph(rng) for _ in range(rng.randint(1, 3))), "chat"
            elif roll < 0.9 and ballots:
                body, kind = _quote(rng.choice(ballots[-10:])) + rng.choice(AGREE), "endorsement"
            else:
                body, kind = rng.choice(CHATTER), "chatter"
            post = replace(
                first,
                id=20_000_000 + offset + i,
                author=author,
                posted_at=first.posted_at + timedelta(seconds=i + 1),
                body=body,
                edited_at=None,
            )
            out.append(post)
            kinds[post.id] = kind
            if kind == "ballot":
                ballots.append(post)
                voters.append(author)
        cycle += 1
    return vote, out[:total]


def _gives(reading: Reading) -> bool:
    """Whether a post counts or waits for a moderator: answers, flags or a proxy."""
    return bool(reading.answers or reading.flags or reading.proxy_of)


def x_report(total: int, rounds: int) -> None:
    """The [X] corpus: speed against its own floor, ballots lost, the adversarial [X] set."""
    kinds: dict[int, str] = {}
    vote, posts = x_corpus(total, kinds=kinds)
    floor = took = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for p in posts:
            for _ in X_FLOOR.finditer(p.body):
                pass
        floor = min(floor, time.process_time() - started)
        started = time.process_time()
        readings = read_thread(vote, posts)
        took = min(took, time.process_time() - started)
    print(f"[X] corpus: {len(posts)} posts, {sum(len(p.body) for p in posts):,} characters")
    print(f"[X] reader: {took:.3f} s  {len(posts) / took:,.0f} posts/s")
    print(f"[X] floor (one [marker] scan): {floor:.3f} s  ratio reader/floor: {took / floor:.1f}x")
    by_id = {r.post_id: r for r in readings}
    kinds = {pid: k for pid, k in kinds.items() if pid in by_id}  # the last cycle is cut
    ballots = [pid for pid, k in kinds.items() if k in BALLOT_KINDS]
    lost = [pid for pid in ballots if not _gives(by_id[pid])]
    held = [pid for pid in ballots if by_id[pid].flags]
    chat = [pid for pid, k in kinds.items() if k not in BALLOT_KINDS]
    chat_held = [pid for pid in chat if by_id[pid].flags]
    print(
        f"[X] generated: ballots {len(ballots)}, lost {len(lost)}, held {len(held)}; "
        f"chatter {len(chat)}, held {len(chat_held)}"
    )
    template = next(p for p in posts if vote.opens_at and p.posted_at >= vote.opens_at)
    plain = "\n\n".join(p.body for p in posts if kinds.get(p.id) == "ballot")
    plain = plain[: adversarial.SIZE]
    plain_time = _best(plain, vote, template, rounds)
    times = sorted(
        ((_best(b, vote, template, rounds), name) for name, b in adversarial.x_cases()),
        reverse=True,
    )
    slowest, name = times[0]
    print(f"[X] plain ballots of {len(plain):,} characters: {plain_time * 1000:.1f} ms")
    print(f"[X] slowest adversarial: {name}: {slowest * 1000:.1f} ms = {slowest / plain_time:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=2_000, help="earlier posts for read_post")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--x-posts", type=int, default=10_000, help="posts of the [X] corpus")
    args = parser.parse_args()
    kinds: dict[int, str] = {}
    vote, posts = corpus(args.posts, kinds=kinds)
    chars = sum(len(p.body) for p in posts)
    chapters = sum(1 for p in posts if len(p.body) > 20_000)

    # Best of several rounds for both, interleaved, so that a busy moment on a
    # shared machine does not decide the ratio.
    floor = took = float("inf")
    for _ in range(args.rounds):
        floor = min(floor, _floor(posts))
        started = time.process_time()
        readings = read_thread(vote, posts)
        took = min(took, time.process_time() - started)

    print(f"posts: {len(posts)}  characters: {chars:,}  chapter posts: {chapters}")
    build = "compiled with mypyc (make reader)" if COMPILED else "plain Python modules"
    print(f"reader build: {build}")
    print(f"reader: {took:.3f} s  {len(posts) / took:,.0f} posts/s")
    print(f"floor (one re.finditer scan): {floor:.3f} s  {len(posts) / floor:,.0f} posts/s")
    print(f"ratio reader/floor: {took / floor:.1f}x")
    print(f"answers read: {sum(len(r.answers) for r in readings)}")
    labelled_report(readings, kinds)

    # The worker path: each new post read with the window before it as `earlier`.
    window = args.window
    calls = posts[window : window + 200]
    per_call = float("inf")
    for _ in range(args.rounds):
        started = time.process_time()
        for k, post in enumerate(calls):
            # A fresh, equal VoteSpec per call, as the app builds one for every post.
            read_post(post, replace(vote), posts[k : window + k])
        per_call = min(per_call, (time.process_time() - started) / len(calls))
    print(f"read_post with {window} earlier posts: {per_call * 1000:.2f} ms per call")

    # The same posts through a ReadingContext that already holds the window: the
    # worker's context (votes/contexts.py) appends each new post and reads it alone.
    per_call = float("inf")
    for _ in range(args.rounds):
        context = ReadingContext(replace(vote), posts[:window])
        started = time.process_time()
        for post in calls:
            context.read(post)
        per_call = min(per_call, (time.process_time() - started) / len(calls))
    print(f"ReadingContext.read, {window} posts held: {per_call * 1000:.2f} ms per call")

    adversarial_ratio(vote, posts, args.rounds)
    x_report(args.x_posts, args.rounds)

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        read_thread(vote, posts)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
