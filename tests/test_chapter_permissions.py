"""Who may do what with chapters and votes: every view here, for every persona.

Anonymous readers are sent to log in for anything that writes; signed-in users
who are not the quest master get 403; drafts do not exist (404) for anyone
but the quest master.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chapters import services
from chapters.models import Chapter, Vote, VoteEvent
from quest.models import Post
from tests.factories import make_post, make_vote, prompt_list, vote_in
from votes.permissions import can_see_results

ROLES = ("anonymous", "outsider", "player", "moderator", "other_moderator", "quest_master")
LOGIN = "login"

PROMPTS = prompt_list("single")


def _in(days: float) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def chapters(quest, quest_master, player):
    """Chapter 1 (vote closed), chapter 2 (vote open), chapter 3 (a draft)."""
    make_post(quest, player, "Hello from a player.")
    for title in ("One", "Two"):
        # Publishing chapter 2 closes chapter 1's vote.
        make_vote(quest, quest_master, PROMPTS, title=title, body="")
    services.chapter_create(quest=quest, title="Three", body="", by=quest_master)
    return {c.number: c for c in Chapter.objects.filter(quest=quest)}


PROMPT_FORM = {
    "op": "save",
    "p-0-number": "1",
    "p-0-kind": "write_in",
    "p-0-text": "Anything else?",
    "closes_at": "",
    "results_visibility": "always",
}

#  (url name, method, chapter number, data, expected for each of ROLES)
MATRIX = [
    ("chapter-index", "GET", None, {}, (200, 200, 200, 200, 200, 200)),
    ("chapter-detail", "GET", 2, {}, (200, 200, 200, 200, 200, 200)),
    ("chapter-detail", "GET", 3, {}, (404, 404, 404, 404, 404, 200)),
    ("chapter-create", "GET", None, {}, (LOGIN, 403, 403, 403, 403, 200)),
    ("chapter-create", "POST", None, {"title": "Four"}, (LOGIN, 403, 403, 403, 403, 302)),
    ("chapter-edit", "GET", 2, {}, (LOGIN, 403, 403, 403, 403, 200)),
    ("chapter-edit", "GET", 3, {}, (LOGIN, 404, 404, 404, 404, 200)),
    ("chapter-edit", "POST", 2, {"title": "Two", "body": "x"}, (LOGIN, 403, 403, 403, 403, 302)),
    ("chapter-publish", "POST", 3, {}, (LOGIN, 404, 404, 404, 404, 302)),
    ("chapter-publish", "GET", 3, {}, (LOGIN, 405, 405, 405, 405, 405)),
    ("vote-prompts", "GET", 2, {}, (LOGIN, 403, 403, 403, 403, 200)),
    ("vote-prompts", "POST", 2, PROMPT_FORM, (LOGIN, 403, 403, 403, 403, 302)),
    ("vote-prompts", "GET", 3, {}, (LOGIN, 404, 404, 404, 404, 200)),
    ("vote-paste", "GET", 2, {}, (LOGIN, 403, 403, 403, 403, 200)),
    (
        "vote-paste",
        "POST",
        2,
        {"op": "detect", "text": "1. Go?\nA) Yes\nB) No"},
        (LOGIN, 403, 403, 403, 403, 200),
    ),
    ("vote-close", "POST", 2, {"reason": "Done."}, (LOGIN, 403, 403, 403, 403, 302)),
    ("vote-close", "GET", 2, {}, (LOGIN, 405, 405, 405, 405, 405)),
    (
        "vote-extend",
        "POST",
        2,
        {"extend-closes_at": _in(5), "extend-reason": "More time."},
        (LOGIN, 403, 403, 403, 403, 302),
    ),
    (
        "vote-reopen",
        "POST",
        1,
        {"reopen-until_closed": "on", "reopen-reason": "Again."},
        (LOGIN, 403, 403, 403, 403, 302),
    ),
    ("vote-events", "GET", 2, {}, (LOGIN, 403, 403, 200, 403, 200)),
    ("vote-events", "GET", 3, {}, (LOGIN, 404, 404, 404, 404, 404)),  # a draft has no vote yet
]


@pytest.mark.parametrize(
    ("name", "method", "number", "data", "role", "expected"),
    [
        pytest.param(
            name, method, number, data, role, expected[i], id=f"{name}-{method}-{number}-{role}"
        )
        for name, method, number, data, expected in MATRIX
        for i, role in enumerate(ROLES)
    ],
)
def test_the_permission_matrix(
    as_role, quest, chapters, name, method, number, data, role, expected
):
    args = [quest.slug] if number is None else [quest.slug, number]
    url = reverse(name, args=args)
    client = as_role(role)
    response = client.post(url, data) if method == "POST" else client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


def test_a_private_quest_hides_its_chapters_from_anonymous_readers(client, quest, chapters):
    quest.is_public = False
    quest.save(update_fields=["is_public"])
    assert client.get(reverse("chapter-index", args=[quest.slug])).status_code == 404
    assert client.get(reverse("chapter-detail", args=[quest.slug, 2])).status_code == 404


def test_a_player_cannot_publish(client, quest, chapters, player):
    client.force_login(player)
    client.post(reverse("chapter-publish", args=[quest.slug, 3]))
    draft = Chapter.objects.get(quest=quest, number=3)
    assert draft.status == Chapter.Status.DRAFT
    assert not Post.objects.filter(quest=quest, chapter__number=3).exists()


@pytest.mark.parametrize("role", ["player", "moderator", "other_moderator"])
def test_only_the_quest_master_closes_extends_or_reopens(as_role, quest, chapters, role):
    client = as_role(role)
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    events_before = VoteEvent.objects.count()
    client.post(reverse("vote-close", args=[quest.slug, 2]), {"reason": "mine now"})
    client.post(
        reverse("vote-extend", args=[quest.slug, 2]),
        {"extend-until_closed": "on", "extend-reason": "mine now"},
    )
    client.post(
        reverse("vote-reopen", args=[quest.slug, 1]),
        {"reopen-until_closed": "on", "reopen-reason": "mine now"},
    )
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN
    assert vote.closes_at is not None
    assert Vote.objects.get(chapter__quest=quest, chapter__number=1).status == Vote.Status.CLOSED
    assert VoteEvent.objects.count() == events_before


# --- Results visibility -----------------------------------------------------------------

OPEN, CLOSED = Vote.Status.OPEN, Vote.Status.CLOSED
#  (visibility, vote status, has_voted, expected for each of ROLES)
RESULTS = [
    ("always", OPEN, False, (True, True, True, True, True, True)),
    ("after_voting", OPEN, False, (False, False, False, True, False, True)),
    ("after_voting", OPEN, True, (True, True, True, True, True, True)),
    ("after_voting", CLOSED, False, (True, True, True, True, True, True)),
    ("after_close", OPEN, False, (False, False, False, True, False, True)),
    ("after_close", OPEN, True, (False, False, False, True, False, True)),
    ("after_close", CLOSED, False, (True, True, True, True, True, True)),
]


@pytest.mark.parametrize(("visibility", "status", "has_voted", "expected"), RESULTS)
def test_who_sees_results(request, chapters, visibility, status, has_voted, expected):
    from django.contrib.auth.models import AnonymousUser

    vote = Vote.objects.select_related("chapter__quest").get(chapter=chapters[2])
    vote.results_visibility = visibility
    vote.status = status
    for role, allowed in zip(ROLES, expected, strict=True):
        user = AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)
        seen = can_see_results(user, vote, has_voted=has_voted)
        assert seen is allowed, f"{role} with {visibility}, {status}, has_voted={has_voted}"


def test_who_sees_results_looks_the_ballot_up_when_not_told(chapters, player, outsider):
    """The tally pages call the rule without `has_voted`: a current ballot is looked up."""
    vote = Vote.objects.select_related("chapter__quest").get(chapter=chapters[2])
    vote.results_visibility = Vote.Visibility.AFTER_VOTING
    vote.save(update_fields=["results_visibility"])
    vote_in(vote, player, "1-A")

    assert can_see_results(player, vote) is True
    assert can_see_results(outsider, vote) is False
