"""Importing saved XenForo 2 thread pages (`import_thread --format xenforo`) and exporting them.

The pages are the fixtures of tests/test_xenforo_parse.py (pages 1 and 2 of a
made-up quest thread) and a third page, saved later, with a new chapter, a
nested quote, a spoiler, a strike, an edit, an @mention and a post of hostile
HTML. Where a case needs a page changed (a post deleted on the forum since the
page was first saved), the test changes a copy.
"""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from chapters.models import Chapter, Option, Prompt, Vote
from quest.bbcode import render
from quest.models import Post, PostRevision, Quest
from quest.services import quest_master_grant
from votes import audit, selectors, services
from votes.importers.xenforo import parse_page
from votes.models import Reading

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "xenforo"
PAGES = [FIXTURES / f"thread-page-{n}.html" for n in (1, 2, 3)]
SLUG = "lighthouse-keepers-of-vael-a-coastal-quest-48213"
THREAD = "https://forums.example.net/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/"
QUEST_MASTER = "Harrow_Quill"
SPAMMER_POST = 5120027  # shown on page 1 as a deleted post's placeholder
MIRELLE_CH2 = 5120078  # "1-B\n2-A" on page 2, deleted on the forum in a later copy


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _import(*paths: Path, **options) -> str:
    return _run("import_thread", *map(str, paths), **options).strip()


def _counts() -> dict[str, int]:
    models = (Quest, Post, PostRevision, Chapter, Vote, Prompt, Option, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


def _forum_posts() -> dict:
    """Every post of the three pages as the parser reads it, by id."""
    return {post.id: post for path in PAGES for post in parse_page(path.read_text()).posts}


def _tally(chapter: int) -> dict:
    return json.loads(_run("tally", SLUG, chapter=chapter, format="json"))


def _deleted_on_forum(html: str, post_id: int) -> str:
    """The page as the forum shows it once the post is deleted: a placeholder."""
    opening = re.compile(
        r'(<article class="message )(message--post[^"]*"\s+data-author="[^"]*"\s+'
        rf'data-content="post-{post_id}")'
    )
    changed, count = opening.subn(r"\1message--deleted \2", html)
    assert count == 1
    return changed


# --- Import -------------------------------------------------------------------


def test_it_imports_pages_into_one_quest_and_prints_its_slug():
    assert _import(*PAGES) == SLUG

    quest = Quest.objects.get(slug=SLUG)
    assert quest.title == "Lighthouse Keepers of Vael - A Coastal Quest"
    assert quest.quest_master.username == QUEST_MASTER
    assert (quest.source_url, quest.forum) == (THREAD, "forums.example.net")
    forum = _forum_posts()
    assert list(quest.posts.order_by("seq").values_list("ref", flat=True)) == list(forum)


def test_it_keeps_every_posts_author_times_body_and_forum_fields():
    _import(*PAGES)

    for post in Post.objects.select_related("author"):
        given = _forum_posts()[post.ref]
        assert post.author.username == given.author
        assert (post.posted_at, post.edited_at) == (given.posted_at, given.edited_at)
        assert post.body == given.body
        assert post.source_url == given.source_url
        assert post.forum_user_id == given.forum_user_id
        assert post.deleted is given.deleted


def test_it_makes_threadmarks_chapters_and_quest_master_prompt_posts_votes():
    _import(*PAGES)

    chapters = Chapter.objects.filter(quest__slug=SLUG).order_by("number")
    assert [(c.number, c.title, c.post.ref) for c in chapters] == [
        (1, "Chapter One: The Lamp Goes Dark", 5120001),
        (2, "Chapter Two: Storm Glass", 5120071),
        (3, "Chapter Three: The Reef Lantern", 5120140),
    ]
    votes = {v.chapter.number: v for v in Vote.objects.select_related("chapter", "post")}
    assert {n: v.post.ref for n, v in votes.items()} == {1: 5120001, 2: 5120071, 3: 5120140}
    # Each vote closes at the next chapter's post; the last one stays open.
    assert votes[1].closes_at == Post.objects.get(ref=5120071).posted_at
    assert votes[2].closes_at == Post.objects.get(ref=5120140).posted_at
    assert (votes[1].status, votes[3].status, votes[3].closes_at) == ("closed", "open", None)
    prompts = [(p.number, p.kind, p.options.count()) for p in votes[1].prompts.all()]
    assert prompts == [(1, "single", 3), (2, "multi", 3), (3, "write_in", 0)]


def test_it_reads_the_thread_starters_posts_as_the_quest_masters():
    _import(*PAGES)
    vote = Vote.objects.get(chapter__quest__slug=SLUG, chapter__number=1)

    services.vote_recount(vote_id=vote.pk)

    # The quest master's reply and tally post in the window ("1-B: 11" in a spoiler).
    kinds = dict(
        Reading.objects.filter(vote=vote, post__ref__in=[5120044, 5120070]).values_list(
            "post__ref", "kind"
        )
    )
    assert kinds == {5120044: "quest_master", 5120070: "quest_master"}
    assert QUEST_MASTER not in json.dumps(_tally(1)["prompts"])


def test_it_takes_pages_in_page_order_whatever_order_they_are_given_in():
    _import(PAGES[2], PAGES[0], PAGES[1])

    refs = list(Post.objects.order_by("seq").values_list("ref", flat=True))
    assert refs == list(_forum_posts())


def test_it_counts_ballots_quotes_endorsements_and_strikes_of_the_new_page():
    _import(*PAGES)

    tally = _tally(3)

    first = {o["letter"]: o["voters"] for o in tally["prompts"][0]["options"]}
    assert first == {"A": ["Mallory"], "B": ["Quiet_Fen"], "C": ["Mirelle", "Tobias_Wren"]}
    second = {o["letter"]: o["voters"] for o in tally["prompts"][1]["options"]}
    # The spoiler's "2-C" is not a vote; Tobias seconds Mirelle's whole ballot.
    assert second == {
        "A": ["Mirelle", "Quiet_Fen", "Tobias_Wren"],
        "B": ["Mirelle", "Tobias_Wren"],
        "C": [],
    }


# --- Importing again ----------------------------------------------------------


def test_it_changes_nothing_when_the_same_pages_are_imported_again():
    _import(*PAGES)
    before = _counts()
    versions = dict(Post.objects.values_list("ref", "version"))

    assert _import(*PAGES) == SLUG
    assert _import(PAGES[1]) == SLUG

    assert _counts() == before
    assert dict(Post.objects.values_list("ref", "version")) == versions


def test_it_takes_a_page_given_twice_once():
    _import(PAGES[0], PAGES[1], PAGES[1])

    assert Post.objects.count() == len({*_forum_posts()} - {p.id for p in _page3_posts()})


def _page3_posts():
    return parse_page(PAGES[2].read_text()).posts


def test_it_adds_a_later_page_to_the_quest_imported_before():
    _import(PAGES[0], PAGES[1])
    versions = dict(Post.objects.values_list("ref", "version"))

    _import(PAGES[2])

    assert Post.objects.count() == len(_forum_posts())
    assert Chapter.objects.filter(quest__slug=SLUG).count() == 3
    assert {ref: v for ref, v in Post.objects.values_list("ref", "version") if ref in versions} == (
        versions
    )


# --- Deleted posts ------------------------------------------------------------


def test_it_marks_a_deleted_posts_placeholder_and_does_not_count_it():
    _import(*PAGES)

    post = Post.objects.get(ref=SPAMMER_POST)
    assert (post.deleted, post.author.username, post.body) == (True, "Spammer99", "")
    assert {
        "post": SPAMMER_POST,
        "author": "Spammer99",
        "reason": selectors.DELETED_ON_FORUM,
    } in _tally(1)["excluded"]


def test_it_marks_a_post_deleted_since_it_was_imported_keeps_it_and_stops_counting_it(tmp_path):
    _import(*PAGES)
    assert "Mirelle" in json.dumps(_tally(2)["prompts"])
    later = tmp_path / "thread-page-2.html"
    later.write_text(_deleted_on_forum(PAGES[1].read_text(), MIRELLE_CH2), encoding="utf-8")

    _import(later)

    post = Post.objects.get(ref=MIRELLE_CH2)
    assert (post.deleted, post.body, post.version) == (True, "1-B\n2-A", 2)
    assert post.revisions.get(version=2).deleted is True
    tally = _tally(2)
    assert "Mirelle" not in json.dumps(tally["prompts"])
    assert {
        "post": MIRELLE_CH2,
        "author": "Mirelle",
        "reason": "deleted on the forum",
    } in tally["excluded"]
    exported = json.loads(_run("export_thread", SLUG))
    assert next(p for p in exported["posts"] if p["id"] == MIRELLE_CH2)["deleted"] is True


def test_it_says_why_a_deleted_post_is_not_counted_and_verifies_the_tally(tmp_path):
    _import(*PAGES)
    later = tmp_path / "thread-page-2.html"
    later.write_text(_deleted_on_forum(PAGES[1].read_text(), MIRELLE_CH2), encoding="utf-8")
    _import(later)
    vote = Vote.objects.get(chapter__quest__slug=SLUG, chapter__number=2)

    run = services.vote_recount(vote_id=vote.pk)

    row = Reading.objects.get(vote=vote, post__ref=MIRELLE_CH2)
    assert row.data["excluded"] == "deleted on the forum"
    assert audit.tally_verify(run=run)["match"] is True


def test_it_shows_the_quest_master_in_the_audit_why_a_deleted_post_is_not_counted(client):
    _import(*PAGES)
    vote = Vote.objects.get(chapter__quest__slug=SLUG, chapter__number=1)
    services.vote_recount(vote_id=vote.pk)
    # The thread's starter is a forum name nobody signs in as: the importer runs the quest.
    importer = get_user_model().objects.create_user("importer", password="x")
    quest_master_grant(quest=vote.chapter.quest, user=importer)
    client.force_login(importer)

    url = reverse("vote-audit", args=[SLUG, 1]) + "?show=excluded"
    page = client.get(url).content.decode()

    assert 'id="post-5120027"' in page
    assert "Not counted: <span hx-disable>deleted on the forum</span>" in page


def test_it_marks_a_deleted_post_in_the_thread(client):
    _import(*PAGES)

    page = client.get(reverse("quest-thread", args=[SLUG])).content.decode()

    article = page[page.index('id="post-5120027"') :]
    article = article[: article.index("</article>")]
    assert "Deleted on the forum" in article
    assert page.count("Deleted on the forum") == 1


def test_it_counts_a_post_again_when_it_comes_back_on_the_forum(tmp_path):
    _import(*PAGES)
    later = tmp_path / "thread-page-2.html"
    later.write_text(_deleted_on_forum(PAGES[1].read_text(), MIRELLE_CH2), encoding="utf-8")
    _import(later)

    _import(PAGES[1])

    post = Post.objects.get(ref=MIRELLE_CH2)
    assert (post.deleted, post.version) == (False, 3)
    assert "Mirelle" in json.dumps(_tally(2)["prompts"])


# --- Round trip ---------------------------------------------------------------


def _instant(value):
    return parse_datetime(value) if value else None


def test_it_exports_every_post_chapter_vote_prompt_and_forum_field():
    _import(*PAGES)

    exported = json.loads(_run("export_thread", SLUG))

    assert exported["quest"]["source_url"] == THREAD
    assert exported["quest"]["forum"] == "forums.example.net"
    forum = _forum_posts()
    assert [p["id"] for p in exported["posts"]] == list(forum)
    for post in exported["posts"]:
        given = forum[post["id"]].as_thread_post()
        assert {**post, "posted_at": None, "edited_at": None} == {
            **given,
            "posted_at": None,
            "edited_at": None,
        }
        assert _instant(post["posted_at"]) == _instant(given["posted_at"])
        assert _instant(post["edited_at"]) == _instant(given["edited_at"])
    assert [(c["number"], c["post"], c["vote"]["post"]) for c in exported["chapters"]] == [
        (1, 5120001, 5120001),
        (2, 5120071, 5120071),
        (3, 5120140, 5120140),
    ]


def test_it_imports_its_own_export_unchanged(tmp_path):
    _import(*PAGES)
    first = json.loads(_run("export_thread", SLUG))
    Quest.objects.all().delete()
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(first), encoding="utf-8")

    assert _import(path) == SLUG

    assert json.loads(_run("export_thread", SLUG)) == first
    assert Post.objects.get(ref=SPAMMER_POST).deleted is True


def test_it_takes_pages_again_after_its_own_export_was_imported(tmp_path):
    _import(*PAGES)
    path = tmp_path / "thread.json"
    path.write_text(_run("export_thread", SLUG), encoding="utf-8")
    Quest.objects.all().delete()
    _import(path)
    before = _counts()

    _import(*PAGES)

    assert _counts() == before


# --- Hostile HTML -------------------------------------------------------------


def test_it_stores_hostile_html_as_harmless_bbcode_text():
    _import(*PAGES)

    body = Post.objects.get(ref=5120150).body
    html = render(body)

    for hostile in ("<script", "onerror", "onclick", "onmouseover", "<iframe", "<style"):
        assert hostile not in body.lower()
        assert hostile not in html.lower()
    assert 'href="javascript' not in html.lower()
    assert "alert(document.cookie)" not in body  # the javascript: link is dropped
    # Text that spells HTML or BBCode stays text: it opens and closes nothing.
    assert "<b>not bold</b>" in body
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "[PLAIN][[/PLAIN]/QUOTE]" in body
    assert body.endswith("\n1-A")


# --- Bad pages ----------------------------------------------------------------

NOT_XENFORO = "<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>"


def _broken_post(html: str) -> str:
    return html.replace('data-content="post-5120078"', 'data-content="comment-7"', 1)


def _other_thread(html: str) -> str:
    return html.replace("lighthouse-keepers-of-vael-a-coastal-quest.48213", "sea-serpents.999")


BAD_PAGES = [
    pytest.param(
        lambda html: NOT_XENFORO,
        "bad.html: Not a XenForo 2 thread page: it has no posts",
        id="not a XenForo page",
    ),
    pytest.param(
        _broken_post,
        "bad.html: Post 4 on the page has data-content='comment-7'",
        id="a post without its id",
    ),
    pytest.param(
        lambda html: "1-B and a plain sentence.\n",
        "(it looks like plain text: try --format text)",
        id="text read as a page",
    ),
    pytest.param(
        _other_thread,
        "is of the thread https://forums.example.net/threads/sea-serpents.999/",
        id="a page of another thread",
    ),
]


@pytest.mark.parametrize(("spoil", "message"), BAD_PAGES)
def test_it_refuses_a_bad_page_with_a_message_and_saves_nothing(tmp_path, spoil, message):
    bad = tmp_path / "bad.html"
    bad.write_text(spoil(PAGES[1].read_text()), encoding="utf-8")

    with pytest.raises(CommandError, match=re.escape(message)):
        _import(PAGES[0], bad, format="xenforo")

    assert not Quest.objects.exists()
    assert _counts()["Post"] == 0
