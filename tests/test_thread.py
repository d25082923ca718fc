"""The quest thread: pages, permalinks, replying, quoting, editing, revisions."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chapters.models import Chapter, Vote
from quest import services
from quest.models import Post
from tests.factories import make_post, make_posts, make_user

pytestmark = pytest.mark.django_db


def thread_url(quest, **query):
    url = reverse("quest-thread", args=[quest.slug])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def refs_on(response) -> list[int]:
    return [
        int(r) for r in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', response.text)
    ]


def test_it_shows_25_posts_a_page(client, quest, player):
    make_posts(quest, player, 60)

    first = client.get(thread_url(quest))
    third = client.get(thread_url(quest, page=3))

    assert refs_on(first) == list(range(1, 26))
    assert refs_on(third) == list(range(51, 61))
    assert "Page 1 of 3" in first.text


def test_it_links_newest_first_previous_and_next(client, quest, player):
    make_posts(quest, player, 60)

    first = client.get(thread_url(quest))
    middle = client.get(thread_url(quest, page=2))

    assert 'href="?page=3"' in first.text  # Newest, in one click
    assert ">Newest</a>" in first.text
    assert ">First</a>" not in first.text
    assert 'href="?page=1"' in middle.text and ">First</a>" in middle.text
    assert ">Previous</a>" in middle.text and ">Next</a>" in middle.text


def test_it_shows_author_time_and_permalink_anchor(client, quest, player):
    post = make_post(quest, player, "Hello there.")

    client.cookies["tz"] = "Asia/Tokyo"
    response = client.get(thread_url(quest))

    assert f'id="post-{post.ref}"' in response.text
    assert "player" in response.text
    assert "Hello there." in response.text
    # The time is shown in the reader's zone, with the exact instant in datetime=.
    assert "+09:00" in re.search(r'<time datetime="([^"]+)"', response.text).group(1)


def test_it_renders_chapter_posts_with_a_chapter_badge(client, quest, quest_master, player):
    post = make_post(quest, quest_master, "The chapter text.")
    Chapter.objects.create(quest=quest, number=1, title="Awakening", post=post, status="published")
    make_post(quest, player, "1-A")

    response = client.get(thread_url(quest))

    chapter_url = reverse("chapter-detail", args=[quest.slug, 1])
    assert f'href="{chapter_url}">Chapter 1: Awakening</a>' in response.text
    assert reverse("chapter-index", args=[quest.slug]) in response.text


def test_it_links_to_the_open_vote_and_how_to_vote(client, quest, quest_master):
    post = make_post(quest, quest_master, "Chapter two.")
    chapter = Chapter.objects.create(
        quest=quest, number=2, title="The Door", post=post, status="published"
    )
    Vote.objects.create(chapter=chapter, status=Vote.Status.OPEN, post=post)

    response = client.get(thread_url(quest))

    assert "A vote is open" in response.text
    assert reverse("chapter-detail", args=[quest.slug, 2]) in response.text
    assert reverse("help-voting") in response.text


def test_it_has_the_same_number_of_queries_for_5_and_25_posts(client, quest, player):
    client.force_login(player)
    make_posts(quest, player, 5)
    with CaptureQueriesContext(connection) as five:
        client.get(thread_url(quest))
    for n in range(20):
        make_post(quest, make_user(f"author{n}"), f"post {n}")
    with CaptureQueriesContext(connection) as twenty_five:
        response = client.get(thread_url(quest))

    assert len(refs_on(response)) == 25
    assert len(twenty_five) == len(five)


def test_it_makes_a_fixed_number_of_queries(client, django_assert_num_queries, quest, player):
    for n in range(25):
        make_post(quest, make_user(f"author{n}"), f"post {n}")
    client.force_login(player)

    # user, quest, role, count, posts, the posts' readings, open vote, the vote closed
    # last, ballot vote; the session comes from the cache (quest/sessions.py)
    with django_assert_num_queries(9):
        client.get(thread_url(quest))


def test_it_redirects_a_permalink_to_the_posts_page(client, quest, player):
    posts = make_posts(quest, player, 30)

    response = client.get(reverse("post-permalink", args=[quest.slug, posts[27].ref]))
    first = client.get(reverse("post-permalink", args=[quest.slug, posts[0].ref]))

    assert response.status_code == 302
    assert response["Location"] == f"/q/{quest.slug}/?page=2#post-{posts[27].ref}"
    assert first["Location"] == f"/q/{quest.slug}/#post-{posts[0].ref}"


def test_it_posts_a_reply_and_redirects_to_it(client, quest, player):
    client.force_login(player)

    response = client.post(reverse("post-reply", args=[quest.slug]), {"body": "[B]1-A[/B]"})

    post = Post.objects.get(quest=quest)
    assert post.author == player and post.body == "[B]1-A[/B]"
    assert response["Location"] == post.get_absolute_url()
    page = client.get(client.get(response["Location"])["Location"])
    assert "<b>1-A</b>" in page.text


def test_it_shows_the_reply_form_only_on_the_last_page(client, quest, player):
    make_posts(quest, player, 30)
    client.force_login(player)

    assert 'id="reply"' not in client.get(thread_url(quest)).text
    assert 'id="reply"' in client.get(thread_url(quest, page=2)).text


def test_it_prefills_the_reply_with_a_quote(client, quest, player, outsider):
    quoted = make_post(quest, outsider, '[QUOTE="someone"]old[/QUOTE]\nI pick 2-B & more')
    make_posts(quest, player, 30)
    client.force_login(player)

    response = client.get(thread_url(quest, quote=quoted.ref))

    assert "Page 2 of 2" in response.text  # quoting opens the last page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.text, re.S).group(1)
    assert f"[QUOTE=&quot;outsider, post: {quoted.ref}&quot;]" in textarea
    assert "I pick 2-B &amp; more" in textarea
    assert "old" not in textarea  # nested quotes are dropped


def test_it_links_quote_to_the_reply_box(client, quest, player):
    post = make_post(quest, player, "hi")
    client.force_login(player)

    response = client.get(thread_url(quest))

    assert f'href="/q/{quest.slug}/?quote={post.ref}#reply"' in response.text


def test_it_edits_a_post_keeping_revisions(client, quest, player):
    post = make_post(quest, player, "1-A")
    client.force_login(player)

    form = client.get(reverse("post-edit", args=[quest.slug, post.ref]))
    response = client.post(reverse("post-edit", args=[quest.slug, post.ref]), {"body": "1-B"})

    assert "1-A</textarea>" in form.text
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "1-B" and post.version == 2
    assert list(post.revisions.values_list("body", flat=True)) == ["1-A", "1-B"]
    assert "Last edited" in client.get(thread_url(quest)).text


def test_it_shows_revisions_to_quest_master_and_moderators(
    client, quest, quest_master, moderator, player
):
    post = make_post(quest, player, "first text")
    services.post_edit(post=post, body="second text", by=player)
    url = reverse("post-revisions", args=[quest.slug, post.ref])

    for staff in (quest_master, moderator):
        client.force_login(staff)
        page = client.get(url)
        assert page.status_code == 200
        assert "first text" in page.text and "second text" in page.text
        assert "Revision 2" in page.text
        assert url in client.get(thread_url(quest)).text

    client.force_login(player)
    assert client.get(url).status_code == 403
    assert url not in client.get(thread_url(quest)).text


def test_it_hides_the_revisions_link_for_unedited_posts(client, quest, quest_master, player):
    post = make_post(quest, player, "never edited")
    client.force_login(quest_master)

    response = client.get(thread_url(quest))

    assert reverse("post-revisions", args=[quest.slug, post.ref]) not in response.text


XSS_BODIES = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[URL=javascript:alert(1)]click[/URL]",
    "[IMG]javascript:alert(1)[/IMG]",
    '<div hx-get="/admin/" hx-trigger="load">x</div>',
    '[QUOTE="a\\" onmouseover=\\"alert(1)"]q[/QUOTE]',
    "[B][I]<svg/onload=alert(1)>",
]


@pytest.mark.parametrize("body", XSS_BODIES)
def test_it_renders_hostile_bodies_safely(client, quest, player, body):
    make_post(quest, player, body)

    response = client.get(thread_url(quest))

    post_html = re.search(
        r'<div class="post-body bbcode" hx-disable>(.*?)</div>\s*<footer', response.text, re.S
    ).group(1)
    assert "<script" not in post_html
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", post_html, re.I)
    assert not re.search(r"<[^>]+\son\w+\s*=", post_html)
    assert not re.search(r"<[^>]+\shx-", post_html)
    assert "<svg" not in post_html


def test_it_renders_only_the_thread_for_htmx_page_changes(client, quest, player):
    make_posts(quest, player, 30)

    response = client.get(thread_url(quest, page=2), headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<div id="thread">')
    assert "<html" not in response.text
    assert refs_on(response) == list(range(26, 31))
    assert "HX-Request" in response["Vary"]
