"""Accepting a suggestion never drops unseen a choice the post gave.

The reader may hold back "2-A, C maybe" with A suggested: the audit sets the
suggestion against the post's line (what it keeps, what it drops), the accept
button says what it drops, and a first button counts the answer as written.
"""

import pytest
from django.urls import reverse

from tests.factories import make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Decision, Reading
from votes.reading.types import Reading as ReadingOut

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "multi", "ranked", "write_in", options=3)


@pytest.fixture
def vote(quest, quest_master):
    return make_vote(quest, quest_master, PROMPTS, title="The Armistice")


def _check(vote, post) -> audit.SuggestionCheck | None:
    reading = ReadingOut.from_json(Reading.objects.get(vote=vote, post=post).data)
    [flag] = reading.flags
    return audit.suggestion_check(flag, selectors.vote_spec(vote), post.body)


# Post → (suggested, kept, dropped, the answer as written, or None where the prompt cannot take it)
CASES = {
    "2-A, C maybe": (("A",), ("A",), ("C",), ("A", "C")),
    "2-A and maybe C": (("A",), ("A",), ("C",), ("A", "C")),
    "2 - A/C maybe": (("A",), ("A",), ("C",), ("A", "C")),
    "2-A (C maybe)": (("A",), ("A",), ("C",), ("A", "C")),
    "2) a, c maybe": (("A",), ("A",), ("C",), ("A", "C")),
    "1-B\n2-A, C?": (("A",), ("A",), ("C",), ("A", "C")),
    "[X] 2-A, B, C maybe": (("A", "B"), ("A", "B"), ("C",), ("A", "B", "C")),
    "2-AC maybe": (("A", "C"), ("A", "C"), (), ("A", "C")),
    "3-C > A maybe": (("C",), ("C",), ("A",), ("C", "A")),
    "1-A or C maybe": (("A",), ("A",), ("C",), None),
    "1-B maybe": (("B",), ("B",), (), ("B",)),
}


@pytest.mark.parametrize(("body", "expected"), CASES.items(), ids=list(CASES))
def test_it_sets_the_suggestion_against_what_the_post_wrote(vote, player, body, expected):
    post = vote_in(vote, player, body)

    check = _check(vote, post)

    suggested, kept, dropped, full = expected
    assert check is not None
    assert (check.kept, check.dropped, check.full) == (kept, dropped, full)
    assert set(check.given) == set(kept) | set(dropped)
    assert check.written.endswith(body.splitlines()[-1].strip())
    reading = ReadingOut.from_json(Reading.objects.get(vote=vote, post=post).data)
    assert reading.flags[0].suggestion.letters == suggested


def test_it_has_nothing_to_compare_for_a_flag_without_letters(vote, player):
    post = vote_in(vote, player, "2-A, E")  # no option E: nothing suggested

    assert _check(vote, post) is None


def _audit_page(client, vote) -> str:
    return client.get(reverse("vote-audit", args=[vote.chapter.quest.slug, 1])).content.decode()


def test_it_shows_what_accepting_would_drop_and_offers_the_answer_as_written(
    client, vote, moderator, player
):
    post = vote_in(vote, player, "2-A, C maybe")
    client.force_login(moderator)

    page = _audit_page(client, vote)

    assert "The post wrote <q>2-A, C maybe</q>" in page
    assert "the suggestion keeps <strong>A</strong> and" in page
    assert '<strong class="dropped">drops C</strong>' in page
    assert "<button>Accept A only (drops C)</button>" in page
    assert '<button class="primary">Count A, C as written</button>' in page
    assert "Accept suggestion" not in page  # no unqualified one-click drop
    as_written = page[page.index('class="audit-form audit-as-written"') :]
    assert f'name="post" value="{post.ref}"' in as_written[:600]
    assert 'name="letters" value="A, C"' in as_written[:900]


def test_it_counts_every_choice_the_post_gave(client, vote, moderator, player):
    post = vote_in(vote, player, "2-A, C maybe")
    client.force_login(moderator)
    data = {"post": post.ref, "prompt": 2, "action": "set", "letters": "A, C", "show": "held"}

    client.post(
        reverse("vote-decide", args=[vote.chapter.quest.slug, 1]),
        {**data, "reason": "Counted every choice the post gave"},
        **HTMX,
    )
    services.vote_recount(vote_id=vote.pk)

    assert Decision.objects.get().answer["letters"] == ["A", "C"]
    options = selectors.latest_tally(vote).data["prompts"][1]["options"]
    assert {o["letter"]: o["voters"] for o in options} == {
        "A": ["player"],
        "B": [],
        "C": ["player"],
    }


def test_it_keeps_the_one_click_accept_where_nothing_is_dropped(client, vote, moderator, player):
    vote_in(vote, player, "2-AC maybe")
    client.force_login(moderator)

    page = _audit_page(client, vote)

    assert "every choice the post gave" in page
    assert '<button class="primary">Accept suggestion</button>' in page
    assert "as written</button>" not in page


def test_it_says_a_single_choice_prompt_takes_one_option(client, vote, moderator, player):
    vote_in(vote, player, "1-A or C maybe")
    client.force_login(moderator)

    page = _audit_page(client, vote)

    assert "<button>Accept A only (drops C)</button>" in page
    assert "Prompt 1 takes one option" in page
    assert "as written</button>" not in page
