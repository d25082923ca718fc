"""A vote with a thread of any length, made fast: what bench/post_path.py and
bench/worker_read.py time against (django must be set up before importing this).

The vote goes through the real services (quest, chapter, prompts, publish); its
posts are bulk-inserted with their first revisions, ballots, chatter, an
endorsement and a revision in turn, and the quest's post counters (issue 14)
are moved past them as `post_create` would.
"""

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from chapters.models import Vote
from chapters.prompts import OptionData, PromptData
from chapters.services import chapter_create, chapter_publish, vote_prompts_set
from quest.models import Post, PostRevision, Quest
from quest.services import quest_create

PLAYERS = 20
PROMPTS = [
    PromptData(1, "single", "Agents?", [OptionData("A", "Leniency"), OptionData("B", "Punish")]),
    PromptData(2, "multi", "Ministries?", [OptionData(x, f"Ministry {x}") for x in "ABCD"]),
    PromptData(3, "write_in", "First decree?"),
]
BODIES = [
    "1-A\n2-B, C\n3-Build tractors",
    "I think the ministries matter more than the agents this time.",
    "Revised vote:\n1-B\n2-A",
    '[QUOTE="someone, post: 1"]1-A[/QUOTE]\nThis.',
    "Good luck to the Politburo, comrades.",
]


def vote_with_posts(size: int, players: list, *, title: str) -> Vote:
    """An open vote whose window holds `size` posts by `players`."""
    User = get_user_model()
    qm = User.objects.create_user(username=f"qm-{size}-{time.time_ns()}", password="bench-only-pw")
    quest = quest_create(title=f"{title} {size}", by=qm)
    chapter = chapter_create(quest=quest, title="Chapter One", by=qm)
    vote_prompts_set(
        chapter=chapter, prompts=PROMPTS, by=qm, closes_at=timezone.now() + timedelta(days=1)
    )
    chapter_publish(chapter=chapter, by=qm)
    _fill(quest, players, size)
    return Vote.objects.select_related("chapter__quest").get(chapter=chapter)


def _fill(quest: Quest, players: list, size: int) -> None:
    """`size` posts by the players, in one bulk insert, the quest's counters moved past them."""
    quest.refresh_from_db()
    now = timezone.now()
    posts = Post.objects.bulk_create(
        (
            Post(
                quest=quest,
                seq=quest.last_seq + i,
                ref=quest.last_ref + i,
                author=players[i % len(players)],
                body=BODIES[(i // len(players)) % len(BODIES)],
                posted_at=now,
            )
            for i in range(1, size + 1)
        ),
        batch_size=2000,
    )
    PostRevision.objects.bulk_create(
        (
            PostRevision(post=p, version=1, body=p.body, created_at=now, editor=p.author)
            for p in posts
        ),
        batch_size=2000,
    )
    Quest.objects.filter(pk=quest.pk).update(
        last_seq=quest.last_seq + size, last_ref=quest.last_ref + size
    )
