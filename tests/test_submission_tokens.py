"""Every posting form posts once per render and text (issue 13, quest.models.Submission).

A form carries a one-time token; the service that posts checks it in the
transaction that inserts. The same token with the same text (a double click,
a retry, Back then Post) lands on the first post; with changed text (Back,
edit, Post) it is a new post, so nothing the player wrote is lost.
"""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from chapters import services as chapter_services
from quest import services
from quest.models import (
    Post,
    PostRevision,
    Submission,
    new_submission_token,
    submission_token_issued_at,
)
from tests.factories import make_post, make_vote, prompt_list
from votes import posting
from votes.reading.types import Answer

pytestmark = pytest.mark.django_db

PROMPTS = prompt_list("single", "write_in")
TOKEN = "tok-1"


def _token_in(html: str) -> str:
    match = re.search(r'name="submission" value="([^"]+)"', html)
    assert match, "no submission token in the form"
    return match.group(1)


# --- The services -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sends", "posts"),
    [
        ([(TOKEN, "Hello")], 1),
        ([(TOKEN, "Hello"), (TOKEN, "Hello")], 1),  # a double click
        ([(TOKEN, "Hello"), (TOKEN, "Hello"), (TOKEN, "Hello")], 1),
        ([(TOKEN, "Hello"), (TOKEN, "Hello, edited")], 2),  # Back, edit, Post
        ([(TOKEN, "Hello"), ("tok-2", "Hello")], 2),  # another render of the form
        ([("", "Hello"), ("", "Hello")], 2),  # no token: as before tokens
    ],
)
def test_it_posts_a_reply_once_per_token_and_text(quest, player, sends, posts):
    made = [services.post_reply(quest=quest, author=player, body=b, token=t) for t, b in sends]
    assert Post.objects.filter(author=player).count() == posts
    assert len({p.pk for p in made}) == posts


def test_it_lands_a_repeat_on_the_first_post_with_its_text(quest, player):
    first = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    again = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    assert again.pk == first.pk
    assert again.body == "Hello"


def test_it_posts_again_when_the_text_goes_back_to_an_earlier_one(quest, player):
    # Only the token's latest text is a repeat: A, then B, then A again is three posts.
    bodies = ["Plan A", "Plan B", "Plan A"]
    for body in bodies:
        services.post_reply(quest=quest, author=player, body=body, token=TOKEN)
    assert list(Post.objects.filter(author=player).values_list("body", flat=True)) == bodies


def test_it_does_not_take_another_users_token_for_a_repeat(quest, player, outsider):
    services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    services.post_reply(quest=quest, author=outsider, body="Hello", token=TOKEN)
    assert Post.objects.filter(body="Hello").count() == 2


def test_it_does_not_take_a_token_from_another_form_for_a_repeat(quest, player):
    post = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    services.post_edit(post=post, body="Hello", by=player, token=TOKEN)  # same token, edit form
    again = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    assert again.pk != post.pk


def test_it_saves_an_edit_once_per_token_and_text(quest, player):
    post = make_post(quest, player, "Draft")
    services.post_edit(post=post, body="Final", by=player, token=TOKEN)
    # Meanwhile the player edits it back in another tab; the first form is sent again.
    services.post_edit(post=post, body="Draft", by=player, token="tok-2")
    services.post_edit(post=post, body="Final", by=player, token=TOKEN)
    post.refresh_from_db()
    assert post.body == "Draft"
    assert post.version == 3
    assert PostRevision.objects.filter(post=post).count() == 3


def test_it_saves_an_edit_whose_text_changed(quest, player):
    post = make_post(quest, player, "Draft")
    services.post_edit(post=post, body="Final", by=player, token=TOKEN)
    services.post_edit(post=post, body="Final, fixed", by=player, token=TOKEN)
    post.refresh_from_db()
    assert (post.body, post.version) == ("Final, fixed", 3)


def test_it_posts_a_ballot_once_per_token_and_answers(quest, quest_master, player):
    vote = make_vote(quest, quest_master, PROMPTS)
    b = [Answer(prompt=1, letters=("B",))]
    first = posting.ballot_post(vote=vote, user=player, answers=b, token=TOKEN)
    again = posting.ballot_post(vote=vote, user=player, answers=b, token=TOKEN)
    assert again.pk == first.pk
    assert Post.objects.filter(author=player).count() == 1

    changed = posting.ballot_post(
        vote=vote, user=player, answers=[Answer(prompt=1, letters=("A",))], token=TOKEN
    )
    assert changed.pk != first.pk
    assert changed.body == "Revised vote:\n1-A"


def test_it_lands_a_repeated_ballot_on_the_first_even_after_the_vote_closed(
    quest, quest_master, player
):
    vote = make_vote(quest, quest_master, PROMPTS)
    b = [Answer(prompt=1, letters=("B",))]
    first = posting.ballot_post(vote=vote, user=player, answers=b, token=TOKEN)
    chapter_services.vote_close(vote=vote, by=quest_master, reason="time")
    vote.refresh_from_db()
    assert posting.ballot_post(vote=vote, user=player, answers=b, token=TOKEN).pk == first.pk


# --- A form shown again (Back) with a later token -----------------------------------------


def _later_token(post: Post) -> str:
    """A token issued after `post`: the form rendered again (the thread after posting)."""
    return new_submission_token(Submission.objects.get(post=post).at + timedelta(milliseconds=5))


def test_it_reads_when_a_token_was_issued():
    now = timezone.now()
    assert abs(submission_token_issued_at(new_submission_token(now)) - now) < timedelta(
        milliseconds=1
    )
    assert submission_token_issued_at("no-time-here") is None
    assert submission_token_issued_at("zz.abc") is None


def test_it_lands_a_form_shown_again_after_the_post_with_its_text_on_that_post(quest, player):
    first = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    again = services.post_reply(quest=quest, author=player, body="Hello", token=_later_token(first))
    assert again.pk == first.pk
    assert Post.objects.filter(author=player).count() == 1


def test_it_posts_a_form_shown_again_whose_text_changed(quest, player):
    first = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    services.post_reply(quest=quest, author=player, body="Hello!", token=_later_token(first))
    assert Post.objects.filter(author=player).count() == 2


def test_it_posts_the_same_text_from_a_form_shown_before_the_first_post(quest, player):
    earlier = new_submission_token(timezone.now() - timedelta(minutes=5))  # another tab
    services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    services.post_reply(quest=quest, author=player, body="Hello", token=earlier)
    assert Post.objects.filter(author=player).count() == 2


def test_it_posts_the_same_text_again_once_the_player_posted_something_else(
    quest, quest_master, player
):
    vote = make_vote(quest, quest_master, PROMPTS)
    b = [Answer(prompt=1, letters=("B",))]
    first = posting.ballot_post(vote=vote, user=player, answers=b, token=TOKEN)
    make_post(quest, player, "1-A")  # changed their mind in the thread
    later = posting.ballot_post(vote=vote, user=player, answers=b, token=_later_token(first))
    assert later.pk != first.pk
    assert later.body == "Revised vote:\n1-B"


# --- A stray second click on the page the first one opened ----------------------------------


def test_it_lands_an_empty_reply_sent_just_after_a_post_on_that_post(client, quest, player):
    client.force_login(player)
    url = reverse("post-reply", args=[quest.slug])
    client.post(url, {"body": "Hello", "submission": TOKEN})
    post = Post.objects.get(author=player)
    shown_after = _later_token(post)  # the thread the first click opened, its box empty

    response = client.post(url, {"body": "", "submission": shown_after})

    assert response.status_code == 302
    assert response["Location"] == post.get_absolute_url()
    assert Post.objects.filter(author=player).count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "",  # no token
        "tok-2",  # a token of another shape
        "later",  # shown too long after the post (see below)
    ],
)
def test_it_refuses_an_empty_reply_otherwise(client, quest, player, token):
    client.force_login(player)
    post = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
    if token == "later":
        token = new_submission_token(timezone.now() - services.STRAY_CLICK - timedelta(seconds=1))
        Submission.objects.filter(post=post).update(at=timezone.now() - timedelta(minutes=1))

    response = client.post(
        reverse("post-reply", args=[quest.slug]), {"body": "", "submission": token}
    )

    assert response.status_code == 400
    assert "the message is empty" in response.content.decode()


# --- The forms and views -------------------------------------------------------------------


def test_it_gives_each_render_of_the_reply_form_a_new_token(client, quest, player):
    client.force_login(player)
    url = reverse("quest-thread", args=[quest.slug])
    tokens = {_token_in(client.get(url).content.decode()) for _ in range(3)}
    assert len(tokens) == 3


def test_it_lands_a_resent_reply_form_on_the_first_post(client, quest, player):
    client.force_login(player)
    token = _token_in(client.get(reverse("quest-thread", args=[quest.slug])).content.decode())
    url = reverse("post-reply", args=[quest.slug])
    first = client.post(url, {"body": "Hello", "submission": token})
    again = client.post(url, {"body": "Hello", "submission": token})
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Post.objects.filter(author=player).count() == 1
    assert Submission.objects.get(user=player).post == Post.objects.get(author=player)


def test_it_keeps_the_token_when_the_reply_form_comes_back_with_errors(client, quest, player):
    client.force_login(player)
    response = client.post(
        reverse("post-reply", args=[quest.slug]), {"body": " ", "submission": "t"}
    )
    assert response.status_code == 400
    assert _token_in(response.content.decode()) == "t"


def test_it_posts_a_form_with_a_malformed_token_as_without_one(client, quest, player):
    client.force_login(player)
    url = reverse("post-reply", args=[quest.slug])
    for _ in range(2):
        assert client.post(url, {"body": "Hi", "submission": "<b>"}).status_code == 302
    assert Post.objects.filter(author=player).count() == 2
    assert not Submission.objects.exists()


def test_it_saves_a_resent_edit_form_once(client, quest, player):
    post = make_post(quest, player, "Draft")
    client.force_login(player)
    url = reverse("post-edit", args=[quest.slug, post.ref])
    token = _token_in(client.get(url).content.decode())
    for _ in range(2):
        assert client.post(url, {"body": "Final", "submission": token}).status_code == 302
    post.refresh_from_db()
    assert (post.body, post.version) == ("Final", 2)


def test_it_shows_the_ballot_form_again_with_the_same_token_after_posting(
    client, quest, quest_master, player
):
    make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)
    url = reverse("ballot-submit", args=[quest.slug, 1])
    token = _token_in(client.get(url, headers={"HX-Request": "true"}).content.decode())
    sent = {"p1": "B", "p2": "", "submission": token}
    first = client.post(url, sent, headers={"HX-Request": "true"}).content.decode()
    assert _token_in(first) == token
    post = Post.objects.get(author=player)
    # The form stays filled in: sent again unchanged, it shows the same post.
    again = client.post(url, sent, headers={"HX-Request": "true"}).content.decode()
    assert f"post #{post.ref}" in again
    assert Post.objects.filter(author=player).count() == 1
    # Changed, it is a new ballot.
    client.post(url, {**sent, "p1": "A"}, headers={"HX-Request": "true"})
    assert Post.objects.filter(author=player).count() == 2


def test_it_focuses_the_result_after_the_ballot_form_posts(client, quest, quest_master, player):
    make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)
    url = reverse("ballot-submit", args=[quest.slug, 1])
    html = client.post(url, {"p1": "B"}, headers={"HX-Request": "true"}).content.decode()
    # htmx focuses the swapped-in [autofocus] element: no script of ours, CSP intact.
    assert re.search(r'<div class="ballot-posted"[^>]*tabindex="-1" autofocus>', html)
    assert "autofocus" not in client.get(url, headers={"HX-Request": "true"}).content.decode()


# --- At once, on PostgreSQL -------------------------------------------------------------------


@pytest.mark.services
def test_it_posts_once_when_the_same_form_arrives_twice_at_once(transactional_db, quest, player):
    barrier = threading.Barrier(4)
    made: list[int] = []

    def send() -> None:
        barrier.wait()
        try:
            post = services.post_reply(quest=quest, author=player, body="Hello", token=TOKEN)
            made.append(post.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 4
    assert len(set(made)) == 1
    assert Post.objects.filter(author=player).count() == 1
