"""The reading preview shows what will be stored: one path for the worker and the previews.

On the public example thread (imported as a forum thread would be), every post
of the vote's window is read three ways that must agree: by the recount (all
posts at once, `read_thread`), by the worker (`services.post_reading_refresh`, one post at
a time), and by the preview (`selectors.reading_of` with the posts before it, as
the edit box reads an unchanged post). Then the edit box's preview view is asked
about a few of those posts, signed in as their authors, and must say what was
stored.
"""

from html import escape
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from chapters.models import Vote
from quest.models import Post
from votes import previews, selectors, services
from votes.models import Reading as ReadingRow
from votes.reading.types import PostKind, Reading

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
SLUG = "red-alert-1953"
HTMX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db

# The posts after the vote's post (8400128), to the end of the thread.
WINDOW = [8400135 + 7 * n for n in range(11)]


@pytest.fixture
def vote() -> Vote:
    call_command("import_thread", str(THREAD), stdout=StringIO())
    vote = Vote.objects.select_related("chapter__quest").get(chapter__quest__slug=SLUG)
    services.vote_recount(vote_id=vote.pk)
    return vote


def _window_posts(vote: Vote) -> list[Post]:
    pks = [pk for pk, _, _ in selectors.window_index(vote)]
    return list(Post.objects.filter(pk__in=pks).select_related("author").order_by("seq"))


def _stored(vote: Vote) -> dict[int, Reading]:
    rows = ReadingRow.objects.filter(vote=vote).select_related("post")
    return {row.post.ref: Reading.from_json(row.data) for row in rows}


def _previewed(vote: Vote, post: Post) -> Reading:
    earlier = selectors.reading_context(vote, before_seq=post.seq)
    return selectors.reading_of(vote=vote, post=selectors.post_in(post), earlier=earlier)


def _differences(expected: dict[int, Reading], got: dict[int, Reading]) -> list[str]:
    return [
        f"post {ref}:\n  stored   {expected.get(ref)}\n  previewed {got.get(ref)}"
        for ref in sorted(expected.keys() | got.keys())
        if expected.get(ref) != got.get(ref)
    ]


def test_it_reads_the_whole_window_of_the_example(vote):
    posts = _window_posts(vote)

    assert [p.ref for p in posts] == WINDOW
    assert sorted(_stored(vote)) == WINDOW
    kinds = {r.kind for r in _stored(vote).values()}
    # Counted ballots, endorsements and chatter: the comparisons below cover each.
    assert {PostKind.BALLOT, PostKind.ENDORSEMENT, PostKind.NOT_BALLOT} <= kinds


def test_it_previews_every_post_of_the_example_as_the_recount_stored_it(vote):
    stored = _stored(vote)
    previewed = {post.ref: _previewed(vote, post) for post in _window_posts(vote)}

    assert _differences(stored, previewed) == []


def test_it_stores_from_the_worker_what_the_recount_stored(vote):
    by_recount = _stored(vote)
    ReadingRow.objects.filter(vote=vote).delete()

    for post in _window_posts(vote):
        services.post_reading_refresh(post_id=post.pk)

    assert _differences(by_recount, _stored(vote)) == []


def test_it_shows_a_posted_ballot_as_it_was_stored(vote):
    stored = _stored(vote)
    spec = selectors.vote_spec(vote)
    for post in _window_posts(vote):
        reading = stored[post.ref]
        if reading.answers or reading.flags:  # chatter's wording also looks at the bare text
            shown = previews.posted_reading(vote=vote, post=post)
            assert shown == previews.describe(reading, spec, post.body), post.ref


# --- The edit box's preview, for a few posts: what its page says ---------------------


def _phrases(reading: Reading) -> list[str]:
    """What the preview must say for a stored Reading (escaped as the template escapes)."""
    phrases = [f"<li><strong>{a.prompt}</strong> →" for a in reading.answers]
    phrases += [f"({escape(a.reason)})" for a in reading.answers if a.reason]
    phrases += [f"<b>{letter}</b>" for a in reading.answers for letter in a.letters]
    phrases += [f"write-in “{escape(a.text)}”" for a in reading.answers if a.text is not None]
    phrases += [escape(f.reason) for f in reading.flags]
    if reading.flags:
        phrases.append("this post will be held for a moderator")
    if not reading.answers and not reading.flags:
        phrases.append("This would not be read as a ballot: ")
    return phrases


def _edit_preview(client, vote: Vote, post: Post) -> str:
    client.force_login(post.author)
    url = reverse("post-edit-reading", args=[vote.chapter.quest.slug, post.ref])
    response = client.post(url, {"body": post.body}, **HTMX)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    ("ref", "what"),
    [
        (8400135, "held back: answers only in prose"),
        (8400142, "counted, with a write-in"),
        (8400170, "an endorsement copying 8400142"),
        (8400177, "chatter"),
        (8400205, "counted in part, held in part"),
    ],
)
def test_it_says_in_the_edit_box_what_was_stored(client, vote, ref, what):
    reading = _stored(vote)[ref]
    post = Post.objects.select_related("author").get(quest=vote.chapter.quest, ref=ref)

    text = _edit_preview(client, vote, post)

    for phrase in _phrases(reading):
        assert phrase in text, (what, phrase)
    assert text.count("<li>") == len(reading.answers) + len(reading.flags)
    assert ("Counts:" in text) == bool(reading.answers)
    assert ("Held back for a moderator" in text) == bool(reading.flags)
