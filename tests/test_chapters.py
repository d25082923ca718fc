"""Writing, publishing and reading chapters: drafts, preview, publish, threadmarks, prev/next."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from chapters import services
from chapters.models import Chapter, Vote, VoteEvent
from chapters.prompts import vote_block
from quest.models import Post
from tests.factories import make_post, prompt_list

PROMPTS = prompt_list("single", "write_in", texts={2: "Name the new general."})


def make_chapter(quest, by, title="The Thaw", body="It was [B]cold[/B].", **kwargs) -> Chapter:
    return services.chapter_create(quest=quest, title=title, body=body, by=by, **kwargs)


def make_published(quest, by, title="The Thaw", prompts=None, **kwargs) -> Chapter:
    chapter = make_chapter(quest, by, title=title, **kwargs)
    if prompts:
        services.vote_prompts_set(
            chapter=chapter, prompts=prompts, by=by, closes_at=timezone.now() + timedelta(days=2)
        )
    return services.chapter_publish(chapter=chapter, by=by)


def url(name, quest, *args):
    return reverse(name, args=[quest.slug, *args])


# --- Writing --------------------------------------------------------------------


def test_it_creates_a_draft(client, quest, quest_master):
    client.force_login(quest_master)
    response = client.post(
        url("chapter-create", quest), {"title": "  The Thaw ", "body": "It was cold."}
    )
    chapter = Chapter.objects.get(quest=quest)
    assert response.status_code == 302
    assert response["Location"] == url("chapter-edit", quest, chapter.number)
    assert (chapter.number, chapter.title, chapter.body) == (1, "The Thaw", "It was cold.")
    assert chapter.status == Chapter.Status.DRAFT
    assert chapter.post is None
    assert not Post.objects.filter(quest=quest).exists()


def test_it_numbers_new_chapters_after_the_last(client, quest, quest_master):
    make_chapter(quest, quest_master)
    client.force_login(quest_master)
    client.post(url("chapter-create", quest), {"title": "Spring", "body": ""})
    assert list(Chapter.objects.filter(quest=quest).values_list("number", "title")) == [
        (1, "The Thaw"),
        (2, "Spring"),
    ]


@pytest.mark.parametrize("title", ["", "   "])
def test_it_keeps_the_body_when_the_title_is_empty(client, quest, quest_master, title):
    client.force_login(quest_master)
    response = client.post(url("chapter-create", quest), {"title": title, "body": "Kept text."})
    assert response.status_code == 200
    assert "A chapter needs a title." in response.text
    assert "Kept text." in response.text
    assert not Chapter.objects.exists()


def test_it_wires_the_body_to_the_live_preview(client, quest, quest_master):
    chapter = make_chapter(quest, quest_master)
    client.force_login(quest_master)
    response = client.get(url("chapter-edit", quest, chapter.number))
    assert f'hx-post="{reverse("chapter-preview", args=[quest.slug])}"' in response.text
    assert 'hx-trigger="input changed delay:400ms"' in response.text
    assert 'hx-target="#chapter-preview"' in response.text
    assert 'id="chapter-preview"' in response.text
    # The page opens with the saved text already rendered.
    assert "It was <b>cold</b>." in response.text


def test_it_previews_the_body_through_the_preview_endpoint(client, quest, quest_master):
    client.force_login(quest_master)
    response = client.post(
        reverse("chapter-preview", args=[quest.slug]),
        {"title": "", "body": "[B]March[/B] <script>x</script>"},  # no title yet: still shown
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "<b>March</b>" in response.text
    assert "<script>" not in response.text


def test_it_previews_chapters_only_for_the_quest_master(client, quest, moderator, player):
    for user in (moderator, player):
        client.force_login(user)
        response = client.post(reverse("chapter-preview", args=[quest.slug]), {"body": "Hi"})
        assert response.status_code == 403


def test_it_saves_a_draft_edit(client, quest, quest_master):
    chapter = make_chapter(quest, quest_master)
    client.force_login(quest_master)
    response = client.post(
        url("chapter-edit", quest, chapter.number), {"title": "The Long Thaw", "body": "Later."}
    )
    assert response.status_code == 302
    chapter.refresh_from_db()
    assert (chapter.title, chapter.body, chapter.status) == ("The Long Thaw", "Later.", "draft")


def test_it_edits_the_thread_post_of_a_published_chapter(client, quest, quest_master):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    client.force_login(quest_master)
    response = client.post(
        url("chapter-edit", quest, chapter.number), {"title": "The Thaw", "body": "Rewritten."}
    )
    assert response.status_code == 302
    post = Post.objects.get(pk=chapter.post_id)
    assert "Rewritten." in post.body
    assert vote_block(PROMPTS) in post.body
    assert post.version == 2


# --- Publishing -------------------------------------------------------------------


def test_it_publishes_into_the_thread_as_the_quest_masters_post(client, quest, quest_master):
    make_post(quest, quest_master, "Welcome to the quest.")
    chapter = make_chapter(quest, quest_master)
    services.vote_prompts_set(
        chapter=chapter,
        prompts=PROMPTS,
        by=quest_master,
        closes_at=timezone.now() + timedelta(days=3),
    )
    client.force_login(quest_master)
    response = client.post(url("chapter-publish", quest, chapter.number))

    assert response.status_code == 302
    assert response["Location"] == url("chapter-detail", quest, chapter.number)
    chapter.refresh_from_db()
    post = chapter.post
    assert chapter.status == Chapter.Status.PUBLISHED
    assert chapter.published_at is not None
    assert post.author == quest_master
    assert post.seq == 2  # the end of the thread
    assert post.body == f"[B]The Thaw[/B]\n\nIt was [B]cold[/B].\n\n{vote_block(PROMPTS)}"
    vote = Vote.objects.get(chapter=chapter)
    assert vote.status == Vote.Status.OPEN
    assert vote.post == post
    assert list(vote.events.values_list("kind", "by")) == [(VoteEvent.Kind.OPENED, quest_master.pk)]


def test_it_publishes_a_chapter_without_a_vote(client, quest, quest_master):
    chapter = make_chapter(quest, quest_master)
    client.force_login(quest_master)
    client.post(url("chapter-publish", quest, chapter.number))
    chapter.refresh_from_db()
    assert chapter.is_published
    assert chapter.post.body == "[B]The Thaw[/B]\n\nIt was [B]cold[/B]."
    assert not Vote.objects.exists()


def test_it_says_so_when_the_chapter_is_already_published(client, quest, quest_master):
    chapter = make_published(quest, quest_master)
    client.force_login(quest_master)
    response = client.post(url("chapter-publish", quest, chapter.number), follow=True)
    assert "This chapter is already published." in response.text
    assert Post.objects.filter(quest=quest).count() == 1


def test_it_closes_the_previous_vote_when_the_next_chapter_is_published(quest, quest_master):
    first = make_published(quest, quest_master, prompts=PROMPTS)
    make_published(quest, quest_master, title="Spring", prompts=PROMPTS)
    vote = Vote.objects.get(chapter=first)
    assert vote.status == Vote.Status.CLOSED
    assert vote.events.last().reason == "the next chapter was published"


# --- Reading: the index and the chapter page --------------------------------------------


def test_it_lists_published_chapters_in_order_with_their_vote_state(
    client, quest, quest_master, player
):
    make_published(quest, quest_master, title="One")
    make_published(quest, quest_master, title="Two", prompts=PROMPTS)
    make_chapter(quest, quest_master, title="Secret draft")
    client.force_login(player)
    response = client.get(url("chapter-index", quest))
    text = response.text
    assert response.status_code == 200
    assert text.index("Chapter 1: One") < text.index("Chapter 2: Two")
    assert "Vote open" in text
    assert "Secret draft" not in text
    assert "New chapter" not in text


def test_it_shows_drafts_and_the_new_chapter_button_to_the_quest_master(
    client, quest, quest_master
):
    make_published(quest, quest_master, title="One")
    make_chapter(quest, quest_master, title="Secret draft")
    client.force_login(quest_master)
    response = client.get(url("chapter-index", quest))
    assert "Chapter 2: Secret draft" in response.text
    assert "Draft" in response.text
    assert f'href="{url("chapter-create", quest)}"' in response.text


def test_it_lists_chapters_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, quest, quest_master, player
):
    for n in range(5):
        make_published(quest, quest_master, title=f"Part {n}", prompts=PROMPTS)
    client.force_login(player)
    # user, quest, membership (role), chapters with votes joined; the session comes
    # from the cache (quest/sessions.py)
    with django_assert_num_queries(4):
        response = client.get(url("chapter-index", quest))
    assert response.text.count('<li class="threadmark') == 5


def test_it_links_previous_and_next_published_chapters(client, quest, quest_master, player):
    make_published(quest, quest_master, title="One")
    make_chapter(quest, quest_master, title="Draft two")
    make_published(quest, quest_master, title="Three")
    make_published(quest, quest_master, title="Four")
    client.force_login(player)

    middle = client.get(url("chapter-detail", quest, 3)).text
    assert f'rel="prev" href="{url("chapter-detail", quest, 1)}"' in middle
    assert f'rel="next" href="{url("chapter-detail", quest, 4)}"' in middle
    assert "Draft two" not in middle

    first = client.get(url("chapter-detail", quest, 1)).text
    assert 'rel="prev"' not in first
    last = client.get(url("chapter-detail", quest, 4)).text
    assert 'rel="next"' not in last


def test_it_shows_the_chapter_its_prompts_and_the_announcing_post(client, quest, quest_master):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    response = client.get(url("chapter-detail", quest, chapter.number))
    text = response.text
    assert response.status_code == 200
    assert "It was <b>cold</b>." in text
    assert '<div class="chapter-body bbcode" hx-disable>' in text
    assert "Where do we march?" in text
    assert 'option-letter">A)</span> North' in text
    assert "Name the new general." in text
    assert "(write-in)" in text
    assert f'href="{chapter.post.get_absolute_url()}"' in text
    assert '<section id="ballot"' in text
    assert '<section id="tally"' in text


def test_it_shows_the_closing_time_in_the_readers_zone(client, quest, quest_master):
    chapter = make_chapter(quest, quest_master)
    closes_at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    services.vote_prompts_set(
        chapter=chapter, prompts=PROMPTS, by=quest_master, closes_at=closes_at
    )
    services.chapter_publish(chapter=chapter, by=quest_master)

    client.cookies["tz"] = "Asia/Tokyo"
    text = client.get(url("chapter-detail", quest, chapter.number)).text
    tokyo = timezone.localtime(closes_at, timezone=ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M} JST" in text
    assert f'datetime="{tokyo.isoformat()}"' in text
    assert "left)" in text


def test_it_renders_only_the_vote_for_htmx(client, quest, quest_master):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    response = client.get(url("chapter-detail", quest, chapter.number), HTTP_HX_REQUEST="true")
    assert response.text.lstrip().startswith('<section id="vote"')
    assert "Where do we march?" in response.text
    assert "It was" not in response.text
    assert "HX-Request" in response["Vary"]


def test_it_shows_the_quest_master_the_vote_controls_and_record(client, quest, quest_master):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    client.force_login(quest_master)
    text = client.get(url("chapter-detail", quest, chapter.number)).text
    assert url("vote-close", quest, chapter.number) in text
    assert url("vote-extend", quest, chapter.number) in text
    assert url("vote-events", quest, chapter.number) in text
    assert url("chapter-edit", quest, chapter.number) in text


def test_it_shows_readers_no_controls(client, quest, quest_master, player):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    client.force_login(player)
    text = client.get(url("chapter-detail", quest, chapter.number)).text
    assert url("vote-close", quest, chapter.number) not in text
    assert url("vote-events", quest, chapter.number) not in text
    assert url("chapter-edit", quest, chapter.number) not in text


def test_it_shows_the_chapter_page_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, quest, quest_master, player
):
    chapter = make_published(quest, quest_master, prompts=PROMPTS)
    client.force_login(player)
    # session, user, chapter+quest+post, membership, vote+post, prompts, options, prev, next,
    # and the player's ballot panel: their ballot, the latest tally (none yet)
    with django_assert_num_queries(11):
        client.get(url("chapter-detail", quest, chapter.number))
