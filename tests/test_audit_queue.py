"""The audit's queue: decided posts leave "Held back", and every decision can be undone.

A decision made from a tab the post then no longer belongs to answers (htmx)
with a one-line "Decided: … Undo" row in the post's place, and out of band
the tab counts, the page title and the decision list. Without JavaScript the
POST redirects to the page, which shows that row. An undo is a decision of its
own (an UNDO row with its reason, naming what it took back); the recount
leaves both out, so the post is held back again.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from tests.factories import make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Decision

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "multi", options=3)


@pytest.fixture
def vote(quest, quest_master):
    return make_vote(quest, quest_master, PROMPTS, title="The Armistice")


def _url(vote, name: str = "vote-audit") -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def _voters(vote, prompt: int, letter: str) -> list[str]:
    data = selectors.latest_tally(vote).data
    options = next(p for p in data["prompts"] if p["number"] == prompt)["options"]
    return next(o for o in options if o["letter"] == letter)["voters"]


def _held(vote) -> list[tuple[int, int | None]]:
    return [(f["post"], f["prompt"]) for f in selectors.latest_tally(vote).data["flagged"]]


def _accept(client, vote, post, prompt: int = 1, show: str = "held", **extra):
    data = {"post": post.ref, "prompt": prompt, "action": "accept", "reason": "Clearly A"}
    return client.post(_url(vote, "vote-decide"), {**data, "show": show}, **extra)


def _tabs(body: str) -> dict[str, str]:
    """The tab labels with their counts, as the (out-of-band) tab bar shows them."""
    nav = body[body.index('<nav id="audit-tabs"') : body.index("</nav>", body.index("audit-tabs"))]
    found = re.findall(r'>(\w[\w ]*?) <span class="tab-count">\((\d+)\)</span>', nav)
    return dict(found)


@pytest.fixture
def held_post(vote, player):
    post = vote_in(vote, player, "1-A maybe")  # held back on prompt 1, A suggested
    assert _held(vote) == [(post.ref, 1)]
    return post


# --- Leaving the queue -------------------------------------------------------------


def test_it_takes_a_decided_post_out_of_held_back(client, vote, moderator, held_post):
    client.force_login(moderator)
    page = client.get(_url(vote)).content.decode()
    assert _tabs(page)["Held back"] == "1"
    assert "<title>Audit (1 held back): The Armistice" in page

    body = _accept(client, vote, held_post, **HTMX).content.decode()

    row = body[: body.index("</article>")]
    assert row.lstrip().startswith(
        f'<article class="audit-post audit-decided-row" id="post-{held_post.ref}">'
    )
    assert "Decided:</strong>" in row and "Accept the suggested reading: <strong>A</strong>" in row
    assert "Undo this decision" in row
    assert 'action="accept"' not in row  # no decision forms left in the queue
    assert '<nav id="audit-tabs" class="audit-tabs" aria-label="Show" hx-swap-oob="true">' in body
    assert _tabs(body) == {
        "Held back": "0",
        "All": "1",
        "Excluded": "0",
        "Mentions": "0",
        "Decided": "1",
    }
    decisions = body[body.index('<section id="audit-decisions"') :]
    assert 'hx-swap-oob="true"' in decisions[:200]
    assert "Clearly A" in decisions and "No decisions yet" not in decisions
    assert "<title>Audit: The Armistice · Quest Tally</title>" in body
    # What the next load of the tab shows: nothing waiting.
    again = client.get(_url(vote) + "?show=held").content.decode()
    assert f'id="post-{held_post.ref}"' not in again
    assert "Nothing is waiting for a moderator." in again


def test_it_keeps_the_post_in_the_all_tab_with_its_new_state(client, vote, moderator, held_post):
    client.force_login(moderator)

    body = _accept(client, vote, held_post, show="all", **HTMX).content.decode()

    block = body[: body.index("</article>")]
    assert block.lstrip().startswith(
        f'<article class="audit-post is-held" id="post-{held_post.ref}">'
    )
    assert "Decision recorded; the tally is being recounted." in block
    assert "Decided: Accept the suggested reading" in block
    assert _tabs(body)["Held back"] == "0"


def test_it_keeps_a_post_queued_while_one_of_its_prompts_waits(client, vote, moderator, player):
    post = vote_in(vote, player, "1-A maybe\n2-A, C maybe")
    assert sorted(_held(vote)) == [(post.ref, 1), (post.ref, 2)]
    client.force_login(moderator)

    body = _accept(client, vote, post, prompt=1, **HTMX).content.decode()

    assert f'<article class="audit-post is-held" id="post-{post.ref}">' in body
    assert "Decision recorded" in body
    assert _tabs(body)["Held back"] == "1"


def test_it_counts_a_ruling_on_the_whole_post_as_settling_its_prompts(vote, moderator, player):
    post = vote_in(vote, player, "1-A maybe")
    audit.decision_record(
        vote=vote, post=post, prompt=None, action="reject", answer=None, reason="Joke", by=moderator
    )
    spec = selectors.vote_spec(vote)

    [item] = audit.audit_posts(vote, spec=spec, decisions=audit.decisions_for(vote), show="all")

    assert not item.is_awaiting
    assert item.flags[0].decision.reason == "Joke"
    assert audit.tab_counts([item])["held"] == 0


def test_it_shows_the_decided_row_after_a_decision_without_javascript(
    client, vote, moderator, held_post
):
    client.force_login(moderator)

    response = _accept(client, vote, held_post)
    decision = Decision.objects.get()
    assert response.status_code == 302
    assert (
        response["Location"]
        == _url(vote) + f"?show=held&decided={decision.pk}#post-{held_post.ref}"
    )
    page = client.get(response["Location"]).content.decode()

    assert "Decision recorded; the tally is being recounted." in page
    assert f'<article class="audit-post audit-decided-row" id="post-{held_post.ref}">' in page
    assert f'name="decision" value="{decision.pk}"' in page
    assert _tabs(page)["Held back"] == "0"


# --- Undo --------------------------------------------------------------------------


def test_it_undoes_a_decision_with_its_own_reason(client, vote, moderator, held_post):
    client.force_login(moderator)
    _accept(client, vote, held_post)
    services.vote_recount(vote_id=vote.pk)
    accepted = Decision.objects.get()
    assert _voters(vote, 1, "A") == ["player"] and _held(vote) == []

    body = client.post(
        _url(vote, "vote-undo"),
        {"decision": accepted.pk, "reason": "Asked the player: not sure yet", "show": "held"},
        **HTMX,
    ).content.decode()
    services.vote_recount(vote_id=vote.pk)

    undo = Decision.objects.exclude(pk=accepted.pk).get()
    assert (undo.action, undo.reverts, undo.post, undo.prompt, undo.by, undo.reason) == (
        "undo",
        accepted,
        held_post,
        1,
        moderator,
        "Asked the player: not sure yet",
    )
    assert _voters(vote, 1, "A") == [] and _held(vote) == [(held_post.ref, 1)]
    block = body[: body.index("</article>")]
    assert f'<article class="audit-post is-held" id="post-{held_post.ref}">' in block
    assert "Decision undone; the tally is being recounted." in block
    assert 'value="accept"' in block  # its forms are back
    assert _tabs(body)["Held back"] == "1"
    decisions = body[body.index('<section id="audit-decisions"') :]
    assert "Undid “Accept the suggested reading: <strong>A</strong>” by moderator" in decisions
    assert "Asked the player: not sure yet" in decisions
    assert '<tr class="is-undone">' in decisions


def test_it_undoes_without_javascript(client, vote, moderator, held_post):
    client.force_login(moderator)
    _accept(client, vote, held_post)
    accepted = Decision.objects.get()

    response = client.post(
        _url(vote, "vote-undo"), {"decision": accepted.pk, "reason": "Too quick", "show": "held"}
    )

    assert response.status_code == 302
    assert response["Location"] == _url(vote) + f"?show=held#post-{held_post.ref}"
    page = client.get(response["Location"]).content.decode()
    assert "Decision undone; the tally is being recounted." in page
    assert f'<article class="audit-post is-held" id="post-{held_post.ref}">' in page


def test_it_brings_back_the_ruling_an_undone_one_had_overruled(vote, moderator, player):
    post = vote_in(vote, player, "1-A")
    decide = {"vote": vote, "post": post, "prompt": 1, "action": "set", "by": moderator}
    audit.decision_record(**decide, answer={"letters": ["B"]}, reason="Meant B")
    second = audit.decision_record(**decide, answer={"letters": ["C"]}, reason="No, C")
    services.vote_recount(vote_id=vote.pk)
    assert _voters(vote, 1, "C") == ["player"]

    audit.decision_undo(decision=second, reason="C was the other player", by=moderator)
    services.vote_recount(vote_id=vote.pk)

    assert _voters(vote, 1, "B") == ["player"] and _voters(vote, 1, "C") == []
    assert audit.tally_verify(run=selectors.latest_tally(vote))["match"] is True


@pytest.mark.parametrize(
    ("reason", "twice", "message"),
    [
        ("", False, "Give a reason"),
        ("Again", True, "already undone"),
    ],
)
def test_it_refuses_an_undo_without_reason_or_twice(
    vote, moderator, held_post, reason, twice, message
):
    decision = audit.decision_record(
        vote=vote, post=held_post, prompt=1, action="accept", answer=None, reason="A", by=moderator
    )
    if twice:
        audit.decision_undo(decision=decision, reason="First", by=moderator)

    with pytest.raises(ValidationError, match=message):
        audit.decision_undo(decision=decision, reason=reason, by=moderator)

    assert Decision.objects.filter(action="undo").count() == (1 if twice else 0)


def test_it_does_not_undo_an_undo(vote, moderator, held_post):
    decision = audit.decision_record(
        vote=vote, post=held_post, prompt=1, action="accept", answer=None, reason="A", by=moderator
    )
    undo = audit.decision_undo(decision=decision, reason="Too quick", by=moderator)

    with pytest.raises(ValidationError, match="decide the post again"):
        audit.decision_undo(decision=undo, reason="Redo", by=moderator)


def test_it_keeps_one_undo_per_decision_in_the_database(vote, moderator, held_post):
    decision = audit.decision_record(
        vote=vote, post=held_post, prompt=1, action="accept", answer=None, reason="A", by=moderator
    )
    audit.decision_undo(decision=decision, reason="Once", by=moderator)
    fields = {"vote": vote, "post": held_post, "prompt": 1, "by": moderator}

    with pytest.raises(IntegrityError):
        Decision.objects.create(**fields, action="undo", reverts=decision, reason="Twice")


@pytest.mark.parametrize(("role", "status"), [("player", 403), ("other_moderator", 403)])
def test_it_lets_only_staff_undo(as_role, vote, moderator, held_post, role, status):
    decision = audit.decision_record(
        vote=vote, post=held_post, prompt=1, action="accept", answer=None, reason="A", by=moderator
    )

    response = as_role(role).post(_url(vote, "vote-undo"), {"decision": decision.pk, "reason": "x"})

    assert response.status_code == status
    assert not Decision.objects.filter(action="undo").exists()


def test_it_says_why_an_undo_was_refused_by_the_post(client, vote, moderator, held_post):
    decision = audit.decision_record(
        vote=vote, post=held_post, prompt=1, action="accept", answer=None, reason="A", by=moderator
    )
    client.force_login(moderator)

    body = client.post(
        _url(vote, "vote-undo"), {"decision": decision.pk, "reason": " ", "show": "all"}, **HTMX
    ).content.decode()

    assert f'id="post-{held_post.ref}"' in body[: body.index("</article>")]
    assert "Give a reason: it is kept with the decision." in body
    assert not Decision.objects.filter(action="undo").exists()


def test_it_answers_a_decision_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, vote, moderator, held_post
):
    for n in range(8):
        vote_in(vote, make_user(f"voter{n}"), "1-B")
    client.force_login(moderator)

    with django_assert_max_num_queries(30):
        response = _accept(client, vote, held_post, **HTMX)

    assert response.status_code == 200


def test_it_drops_the_decided_row_once_its_decision_is_undone(client, vote, moderator, held_post):
    client.force_login(moderator)
    location = _accept(client, vote, held_post)["Location"]
    audit.decision_undo(decision=Decision.objects.get(), reason="Too quick", by=moderator)

    page = client.get(location).content.decode()  # the old link, reloaded

    assert "audit-decided-row" not in page
    assert f'<article class="audit-post is-held" id="post-{held_post.ref}">' in page
