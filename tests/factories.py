"""Test data built through the real services.

The persona fixtures (`quest_master`, `moderator`, `player`, `outsider`,
`quest`, ...) live in tests/conftest.py, where pytest finds them without an
import. This module holds the helpers a test calls by name:

    from tests.factories import make_post, make_vote, prompt_list
"""

from datetime import timedelta
from string import ascii_uppercase

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from chapters.prompts import OptionData, PromptData
from quest import services
from quest.models import Post, Quest

User = get_user_model()

__all__ = [
    "PASSWORD",
    "chapter_url",
    "make_post",
    "make_posts",
    "make_quest",
    "make_user",
    "make_vote",
    "prompt_list",
    "vote_in",
]

# Only users made with `password=PASSWORD` have it; others log in with force_login,
# which skips the (deliberately slow) password hashing.
PASSWORD = "a-long-test-password-42"


def make_user(name: str, *, password: str | None = None, **fields):
    user = User(username=name, **fields)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


def make_quest(quest_master, title: str = "The Red Alert", **kwargs) -> Quest:
    return services.quest_create(title=title, by=quest_master, **kwargs)


def make_post(quest: Quest, author, body: str = "Hello.", **kwargs) -> Post:
    return services.post_create(quest=quest, author=author, body=body, **kwargs)


# Each kind's stock question and the options it can offer, in letter order.
STOCK_PROMPTS = {
    "single": ("Where do we march?", ["North", "South", "East"]),
    "multi": ("Who comes with us?", ["The scouts", "The cooks", "The band"]),
    "ranked": ("Rank the banners.", ["Red", "Gold", "Green"]),
    "write_in": ("What do we sing on the way?", []),
}


def prompt_list(
    *kinds: str,
    options: int = 2,
    texts: dict[int, str] | None = None,
    option_texts: dict[int, list[str]] | None = None,
) -> list[PromptData]:
    """One prompt per kind, numbered from 1, as `vote_prompts_set` takes them.

    Each has its kind's stock question and its first `options` stock options,
    lettered from A (a write-in has none). `texts` ({number: question}) and
    `option_texts` ({number: [option, ...]}) word a prompt otherwise, for tests
    whose ballots or assertions name those words:

        prompt_list("single", "write_in")  # Where do we march? A) North B) South; a write-in
        prompt_list("single", texts={1: "Agents?"}, option_texts={1: ["Leniency", "Punish"]})
    """
    texts, option_texts = texts or {}, option_texts or {}
    prompts = []
    for number, kind in enumerate(kinds, start=1):
        question, stock = STOCK_PROMPTS[kind]
        choices = option_texts.get(number, stock[:options])
        prompts.append(
            PromptData(
                number=number,
                kind=kind,
                text=texts.get(number, question),
                options=[
                    OptionData(letter, text)
                    for letter, text in zip(ascii_uppercase, choices, strict=False)
                ],
            )
        )
    return prompts


def make_vote(
    quest: Quest,
    by,
    prompts,
    *,
    title: str = "The March",
    body: str = "The column waits.",
    publish: bool = True,
    **settings,
):
    """A published chapter with an open vote on `prompts`, closing in two days by default.

    `publish=False` leaves the chapter a draft, whose vote does not open.
    """
    from chapters import services as chapter_services
    from chapters.models import Vote

    chapter = chapter_services.chapter_create(quest=quest, title=title, body=body, by=by)
    settings.setdefault("closes_at", timezone.now() + timedelta(days=2))
    chapter_services.vote_prompts_set(chapter=chapter, prompts=prompts, by=by, **settings)
    if publish:
        chapter_services.chapter_publish(chapter=chapter, by=by)
    return Vote.objects.get(chapter=chapter)


def vote_in(vote, author, body: str) -> Post:
    """A post in the vote's window, read and counted as the worker would."""
    from votes import services as vote_services

    post = make_post(vote.chapter.quest, author, body)
    vote_services.vote_recount(vote_id=vote.pk)
    return post


def chapter_url(vote, name: str) -> str:
    """The URL named `name` for the vote's chapter (/q/<slug>/chapters/<n>/…)."""
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def make_posts(quest: Quest, author, count: int, body: str = "Post {n}") -> list[Post]:
    return [make_post(quest, author, body.format(n=n)) for n in range(1, count + 1)]


def posts_append(quest: Quest, authors: list, bodies: list[str], n: int) -> None:
    """`n` posts appended at once, authors and bodies in turn, the quest's counters
    moved past them (post_create would take minutes for 2,000)."""
    quest.refresh_from_db()
    now = timezone.now()
    Post.objects.bulk_create(
        Post(
            quest=quest,
            seq=quest.last_seq + i,
            ref=quest.last_ref + i,
            author=authors[i % len(authors)],
            body=bodies[i % len(bodies)],
            posted_at=now,
        )
        for i in range(1, n + 1)
    )
    Quest.objects.filter(pk=quest.pk).update(
        last_seq=quest.last_seq + n, last_ref=quest.last_ref + n
    )
