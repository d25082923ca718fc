"""Auditing readings: the audit page, moderators' decisions, and verifying a stored tally.

Posts are read and counted by calling the recount service directly (what the
worker runs). A decision asks for a recount after commit; tests run it by hand.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from tests.factories import make_post, make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Decision, TallyRun

HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list(
    "single",
    "write_in",
    "multi",
    options=3,
    texts={1: "Should we end the war?", 2: "What do we sing on the way home?"},
    option_texts={1: ["Yes", "No"]},
)


def _open_vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, title="The Armistice")


_vote_in = vote_in


def _url(vote: Vote, name: str = "vote-audit") -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def _option(vote: Vote, prompt: int, letter: str) -> dict:
    data = selectors.latest_tally(vote).data
    p = next(p for p in data["prompts"] if p["number"] == prompt)
    return next(o for o in p["options"] if o["letter"] == letter)


def _decide(vote, post, by, **kwargs) -> Decision:
    fields = {"prompt": 1, "action": "set", "answer": None, "reason": "Checked by hand"}
    return audit.decision_record(vote=vote, post=post, by=by, **{**fields, **kwargs})


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return _open_vote(quest, quest_master)


# --- Who may audit ---------------------------------------------------------------

ROLES = [
    ("quest_master", True),
    ("moderator", True),
    ("other_moderator", False),
    ("player", False),
    ("anonymous", False),
]


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_it_shows_the_audit_page_to_staff_only(as_role, vote, player, role, allowed):
    _vote_in(vote, player, "1-B")

    response = as_role(role).get(_url(vote))

    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_it_lets_only_staff_decide(as_role, vote, player, role, allowed):
    post = _vote_in(vote, player, "1-B")
    data = {"post": post.ref, "prompt": 1, "action": "reject", "reason": "Not a vote"}

    response = as_role(role).post(_url(vote, "vote-decide"), data)

    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == (302 if allowed else 403)
    assert Decision.objects.count() == (1 if allowed else 0)


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_it_lets_only_staff_verify(as_role, vote, player, role, allowed):
    _vote_in(vote, player, "1-B")

    response = as_role(role).post(_url(vote, "vote-verify"))

    if role == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if allowed else 403)
        if allowed:
            assert "SHA-256 matches" in response.content.decode()


def test_it_refuses_a_decision_by_someone_who_does_not_moderate(vote, player):
    post = _vote_in(vote, player, "1-B")

    with pytest.raises(PermissionDenied):
        _decide(vote, post, player, action="reject")

    assert not Decision.objects.exists()


def test_it_links_staff_from_the_tally_to_the_audit(client, vote, moderator, player):
    _vote_in(vote, player, "yes we should end the war")

    client.force_login(moderator)
    staff_page = client.get(reverse("chapter-tally", args=[vote.chapter.quest.slug, 1]))
    client.force_login(player)
    player_page = client.get(reverse("chapter-tally", args=[vote.chapter.quest.slug, 1]))

    assert _url(vote) in staff_page.content.decode()
    assert "Audit the readings" in staff_page.content.decode()
    assert _url(vote) not in player_page.content.decode()


# --- Deciding held-back answers -------------------------------------------------


def test_it_holds_back_an_inferred_answer_with_a_suggestion(client, vote, moderator, player):
    _vote_in(vote, player, "yes we should end the war")
    client.force_login(moderator)

    page = client.get(_url(vote)).content.decode()

    assert _option(vote, 1, "A")["votes"] == 0
    assert "Suggested reading: <strong>A</strong>" in page
    assert "Accept suggestion" in page
    assert 'value="Accepted the suggested reading"' in page


def test_it_counts_an_accepted_suggestion_after_the_recount(client, vote, moderator, player):
    post = _vote_in(vote, player, "yes we should end the war")
    client.force_login(moderator)

    response = client.post(
        _url(vote, "vote-decide"),
        {
            "post": post.ref,
            "prompt": 1,
            "action": "accept",
            "reason": "Clearly a yes",
            "show": "all",
        },
        **HTMX,
    )
    services.vote_recount(vote_id=vote.pk)

    decision = Decision.objects.get()
    assert (decision.action, decision.prompt, decision.by, decision.reason) == (
        "accept",
        1,
        moderator,
        "Clearly a yes",
    )
    assert decision.answer["letters"] == ["A"]  # the record says what was accepted
    body = response.content.decode()
    assert body.lstrip().startswith("<article")  # just the post's block, swapped in place
    assert "Decided: Accept the suggested reading" in body
    assert "Clearly a yes" in body
    assert _option(vote, 1, "A")["voters"] == ["player"]
    assert selectors.latest_tally(vote).data["flagged"] == []


def test_it_redirects_back_to_the_post_without_javascript(client, vote, moderator, player):
    post = _vote_in(vote, player, "yes we should end the war")
    client.force_login(moderator)

    response = client.post(
        _url(vote, "vote-decide"),
        {"post": post.ref, "prompt": 1, "action": "accept", "reason": "Yes", "show": "all"},
    )

    decision = Decision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(vote) + f"?show=all&decided={decision.pk}#post-{post.ref}"


def test_it_counts_another_answer_when_a_moderator_sets_one(vote, moderator, player):
    post = _vote_in(vote, player, "1-B")

    _decide(vote, post, moderator, action="set", answer={"letters": ["a"]}, reason="Meant A")
    services.vote_recount(vote_id=vote.pk)

    assert _option(vote, 1, "A")["voters"] == ["player"]
    assert _option(vote, 1, "B")["voters"] == []
    assert Decision.objects.get().answer["letters"] == ["A"]


def test_it_counts_a_set_write_in(vote, moderator, player):
    post = _vote_in(vote, player, "1-B")

    _decide(vote, post, moderator, prompt=2, answer={"text": " Tipperary "}, reason="Said so")
    services.vote_recount(vote_id=vote.pk)

    entries = selectors.latest_tally(vote).data["prompts"][1]["entries"]
    assert [(e["text"], e["voters"]) for e in entries] == [("Tipperary", ["player"])]


def test_it_counts_nothing_when_a_moderator_rejects(vote, moderator, player):
    post = _vote_in(vote, player, "1-B")

    _decide(vote, post, moderator, action="reject", reason="Posted by mistake")
    services.vote_recount(vote_id=vote.pk)

    assert _option(vote, 1, "B")["votes"] == 0


def test_it_sets_an_answer_through_the_form(client, vote, quest_master, player):
    post = _vote_in(vote, player, "1-B")
    client.force_login(quest_master)

    client.post(
        _url(vote, "vote-decide"),
        {"post": post.ref, "prompt": 3, "action": "set", "letters": "c, a", "reason": "In chat"},
        **HTMX,
    )
    services.vote_recount(vote_id=vote.pk)

    assert Decision.objects.get().answer["letters"] == ["A", "C"]
    assert _option(vote, 3, "C")["voters"] == ["player"]


def test_it_counts_an_answer_for_a_post_held_back_whole(client, vote, moderator, player):
    post = _vote_in(vote, player, "#1: A")  # a shape the reader does not know: the whole post
    client.force_login(moderator)
    assert "Held back: the whole post" in client.get(_url(vote)).content.decode()

    client.post(
        _url(vote, "vote-decide"),
        {
            "post": post.ref,
            "prompt": "",
            "answer_prompt": 1,
            "action": "set",
            "letters": "A",
            "reason": "Their forum's own shorthand for 1-A",
        },
        **HTMX,
    )
    services.vote_recount(vote_id=vote.pk)

    decision = Decision.objects.get()
    assert (decision.prompt, decision.answer["prompt"], decision.answer["letters"]) == (
        None,
        1,
        ["A"],
    )
    assert _option(vote, 1, "A")["voters"] == ["player"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_it_writes_nothing_without_a_proper_reason(vote, moderator, player, reason):
    post = _vote_in(vote, player, "1-B")

    with pytest.raises(ValidationError, match="reason"):
        _decide(vote, post, moderator, action="reject", reason=reason)

    assert not Decision.objects.exists()


def test_it_shows_the_missing_reason_in_the_post_block(client, vote, moderator, player):
    post = _vote_in(vote, player, "1-B")
    client.force_login(moderator)

    response = client.post(
        _url(vote, "vote-decide"),
        {"post": post.ref, "prompt": 1, "action": "reject", "reason": ""},
        **HTMX,
    )

    assert "Give a reason" in response.content.decode()
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    ("prompt", "answer", "message"),
    [
        (1, {"letters": ["D"]}, "Prompt 1 has no option D"),
        (1, {"letters": ["A", "B"]}, "takes exactly one option"),
        (1, {"letters": []}, "Give the option letter"),
        (3, {"letters": ["A", "A"]}, "Give each option once"),
        (2, {"text": "  "}, "it is a write-in"),
        (9, {"letters": ["A"]}, "no prompt 9"),
    ],
)
def test_it_refuses_an_answer_the_prompt_cannot_take(
    vote, moderator, player, prompt, answer, message
):
    post = _vote_in(vote, player, "1-B")

    with pytest.raises(ValidationError, match=message):
        _decide(vote, post, moderator, prompt=prompt, answer=answer)

    assert not Decision.objects.exists()


def test_it_refuses_to_accept_where_nothing_was_suggested(vote, moderator, player):
    post = _vote_in(vote, player, "1-D")  # held back: no option D, no suggestion

    with pytest.raises(ValidationError, match="Nothing to accept"):
        _decide(vote, post, moderator, action="accept")

    assert not Decision.objects.exists()


def test_it_refuses_a_post_outside_the_vote_window(vote, quest, moderator, player):
    before = quest.posts.order_by("seq").first()  # the chapter's own post opens the window

    with pytest.raises(ValidationError, match="not in this vote's window"):
        _decide(vote, before, moderator, action="reject")


def test_it_keeps_every_decision_and_counts_the_latest(client, vote, moderator, quest_master):
    post = _vote_in(vote, make_user("voter"), "yes we should end the war")

    first = _decide(vote, post, moderator, action="accept", reason="Reads as yes")
    second = _decide(vote, post, quest_master, action="reject", reason="Asked them: not a vote")
    services.vote_recount(vote_id=vote.pk)

    assert list(Decision.objects.order_by("pk")) == [first, second]
    assert _option(vote, 1, "A")["votes"] == 0
    assert audit.decisions_for(vote) == [second, first]
    client.force_login(moderator)
    page = client.get(_url(vote) + "?show=all").content.decode()
    assert "Asked them: not a vote" in page
    assert "Reads as yes" in page  # the superseded one stays on record
    assert "2 decisions on this post" in page


# --- The page -------------------------------------------------------------------


def test_it_escapes_the_post_text_and_marks_the_counted_answer(client, vote, moderator, player):
    _vote_in(vote, player, "<script>alert(1)</script>\n1-B")
    client.force_login(moderator)

    page = client.get(_url(vote) + "?show=all").content.decode()

    assert "<script>alert(1)" not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;<br>\n<mark class="counted">1-B</mark>' in page


@pytest.mark.parametrize(
    ("body", "answers", "flags", "html"),
    [
        ("1-B", [(0, 3)], [], '<mark class="counted">1-B</mark>'),
        ("a<b>1-B", [(4, 7)], [], 'a&lt;b&gt;<mark class="counted">1-B</mark>'),
        ("x & y", [], [(0, 1)], '<mark class="held">x</mark> &amp; y'),
        # overlapping and out-of-range spans: counted wins, nothing past the end
        (
            "abcd",
            [(1, 3)],
            [(0, 2), (3, 99)],
            '<mark class="held">a</mark><mark class="counted">bc</mark><mark class="held">d</mark>',
        ),
        ("one\ntwo", [], [], "one<br>\ntwo"),
        ("", [(0, 5)], [], ""),
    ],
)
def test_it_highlights_spans_on_escaped_text(body, answers, flags, html):
    assert audit.highlight(body, answers, flags) == html


def test_it_filters_held_back_all_and_excluded(client, vote, moderator, quest_master, player):
    counted = _vote_in(vote, player, "1-B")
    held = _vote_in(vote, make_user("unsure"), "yes we should end the war")
    client.force_login(moderator)

    default = client.get(_url(vote)).content.decode()
    everything = client.get(_url(vote) + "?show=all", **HTMX).content.decode()

    assert f'id="post-{held.ref}"' in default
    assert f'id="post-{counted.ref}"' not in default
    assert f'id="post-{counted.ref}"' in everything and f'id="post-{held.ref}"' in everything
    assert "<html" not in everything  # the tabs swap only the list


def test_it_lists_excluded_posts_with_the_reason(client, vote, moderator, quest_master, player):
    chapter_services.vote_close(vote=vote, by=quest_master)
    late = make_post(vote.chapter.quest, player, "1-A")
    services.vote_recount(vote_id=vote.pk)
    client.force_login(moderator)

    page = client.get(_url(vote) + "?show=excluded").content.decode()

    assert f'id="post-{late.ref}"' in page
    assert "Not counted:" in page


@pytest.mark.parametrize("posts", [3, 20])
def test_it_audits_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, vote, moderator, player, posts
):
    for n in range(posts):
        make_post(vote.chapter.quest, make_user(f"voter{n}"), "yes we should end the war")
    services.vote_recount(vote_id=vote.pk)
    _decide(vote, vote.chapter.quest.posts.last(), moderator, action="reject", reason="No")
    client.force_login(moderator)

    # Of which five list the tab's page (votes/audit_pages.py: the window, the
    # latest tally's holds and exclusions, the posts held or ruled on, every
    # tab's count, the page) and two build its posts (their rows, their Readings).
    # (The session comes from the cache; the quest with the vote: one query.)
    with django_assert_num_queries(14):
        response = client.get(_url(vote) + "?show=all")

    assert response.content.decode().count('<article class="audit-post') == posts


# --- Verifying a stored tally -----------------------------------------------------


def test_it_verifies_an_untouched_tally(client, vote, moderator, player):
    post = _vote_in(vote, player, "yes we should end the war")
    _vote_in(vote, make_user("second"), "1-B\n2-Tipperary")
    _decide(vote, post, moderator, action="accept", reason="Yes")
    run = services.vote_recount(vote_id=vote.pk)

    result = audit.tally_verify(run=run)

    assert result["match"] is True
    assert result["sha256"] == result["stored"] == run.sha256
    assert (result["posts"], result["decisions"], result["differences"]) == (2, 1, [])
    client.force_login(moderator)
    page = client.post(_url(vote, "vote-verify"), **HTMX).content.decode()
    assert "Verified:</strong> recomputed from 2 posts and 1 decision, SHA-256 matches" in page


def test_it_finds_a_tampered_tally(client, vote, moderator, player):
    _vote_in(vote, player, "1-B")
    run = selectors.latest_tally(vote)
    data = run.data
    data["prompts"][0]["options"][0]["voters"].append("mallory")
    data["prompts"][0]["options"][0]["votes"] += 1
    TallyRun.objects.filter(pk=run.pk).update(data=data)

    result = audit.tally_verify(run=TallyRun.objects.get(pk=run.pk))

    assert (
        "Prompt 1, option A: the stored tally counts mallory; the recount does not."
        in (result["differences"])
    )
    assert result["match"] is False
    assert any("does not hash to its stored SHA-256" in note for note in result["notes"])
    client.force_login(moderator)
    page = client.post(_url(vote, "vote-verify"), **HTMX).content.decode()
    assert "Does not match" in page and "mallory" in page


def test_it_verifies_with_the_revision_the_run_recorded(vote, player):
    post = _vote_in(vote, player, "1-B")
    run = selectors.latest_tally(vote)

    quest_services.post_edit(post=post, body="1-A", by=player)
    later = services.vote_recount(vote_id=vote.pk)

    assert later.pk != run.pk
    assert audit.tally_verify(run=run)["match"] is True
    assert audit.tally_verify(run=later)["match"] is True


def test_it_says_when_the_reading_rules_changed(vote, player):
    _vote_in(vote, player, "1-B")
    run = selectors.latest_tally(vote)
    TallyRun.objects.filter(pk=run.pk).update(rules_version=0)

    result = audit.tally_verify(run=TallyRun.objects.get(pk=run.pk))

    assert any("reading rules version 0" in note for note in result["notes"])


def test_it_verifies_the_final_tally_of_a_closed_vote(vote, quest_master, moderator, player):
    post = _vote_in(vote, player, "yes we should end the war")
    _decide(vote, post, moderator, action="accept", reason="Yes")
    chapter_services.vote_close(vote=vote, by=quest_master)
    make_post(vote.chapter.quest, make_user("late"), "1-B")  # after the close: excluded
    final = services.vote_recount(vote_id=vote.pk)

    result = audit.tally_verify(run=final)

    assert final.is_final
    assert final.data["excluded"] != []
    assert (result["match"], result["notes"]) == (True, [])


def test_it_verifies_an_endorsement_of_a_post_edited_later(vote, player):
    endorsed = _vote_in(vote, player, "1-B")
    _vote_in(
        vote,
        make_user("friend"),
        f'[QUOTE="player, post: {endorsed.ref}"]1-B[/QUOTE]\nI second this',
    )
    run = selectors.latest_tally(vote)
    assert _option(vote, 1, "B")["voters"] == ["friend", "player"]

    quest_services.post_edit(post=endorsed, body="1-A", by=player)
    services.vote_recount(vote_id=vote.pk)

    assert audit.tally_verify(run=run)["match"] is True
