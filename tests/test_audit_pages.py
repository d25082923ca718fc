"""The audit a page at a time: tabs counted and listed from a few facts per post, filters, pages.

A 10,000-post window must not be built post by post to show a page of them:
votes/audit_pages.py decides each post's tabs from its Reading in brief, and
only the page's posts are built in full. These tests hold that shortcut to
the full audit view (`PostAudit.in_tab`) on every kind of post, and the page
to a fixed number of queries whatever the number of voters.
"""

import re
from dataclasses import replace

import pytest
from django.db import connection
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from quest.models import Post
from quest.services import moderator_appoint
from tests.factories import (
    make_post,
    make_quest,
    make_user,
    make_vote,
    posts_append,
    prompt_list,
    vote_in,
)
from votes import audit, audit_pages, selectors, services
from votes.models import Decision, Reading
from votes.reading.types import Reading as ReadingOut

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "write_in", options=3)


def _url(vote: Vote, query: str = "") -> str:
    return reverse("vote-audit", args=[vote.chapter.quest.slug, vote.chapter.number]) + query


def _decide(vote, post, by, **kwargs) -> Decision:
    fields = {"prompt": 1, "action": "set", "answer": None, "reason": "Checked by hand"}
    return audit.decision_record(vote=vote, post=post, by=by, **{**fields, **kwargs})


def _listed(html: str) -> list[int]:
    """The refs of the posts a page of the audit shows in full, in order."""
    return [int(x) for x in re.findall(r'<article class="audit-post[^"]*" id="post-(\d+)"', html)]


def _crowd(vote: Vote, count: int, body: str = "1-A\n2-Home") -> list[Post]:
    quest = vote.chapter.quest
    posts = [make_post(quest, make_user(f"voter{i:03}"), body) for i in range(count)]
    services.vote_recount(vote_id=vote.pk)
    return posts


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, title="The Armistice")


def test_it_puts_every_kind_of_post_in_the_tabs_the_full_audit_does(
    vote, quest_master, moderator, player
):
    quest = vote.chapter.quest
    counted = vote_in(vote, player, "1-A\n2-Home")
    changer = make_user("changer")
    superseded = make_post(quest, changer, "1-B")
    make_post(quest, changer, "1-C")  # changes their mind: the first is left out
    held = make_post(quest, make_user("unsure"), "1-A maybe")
    settled = make_post(quest, make_user("settled"), "1-B maybe")
    reopened = make_post(quest, make_user("reopened"), "1-C maybe")
    chatter = make_post(quest, make_user("chatty"), "Great chapter, thank you!")
    ruled_out = make_post(quest, make_user("ruled"), "1-A")
    make_post(quest, quest_master, "Thanks for voting, everyone.")
    services.vote_recount(vote_id=vote.pk)
    _decide(vote, settled, moderator, action="accept", reason="Clearly B")
    undone = _decide(vote, reopened, moderator, action="accept", reason="Clearly C")
    audit.decision_undo(decision=undone, reason="Too quick", by=moderator)
    _decide(vote, ruled_out, moderator, prompt=None, action="reject", reason="A joke")
    _decide(vote, counted, moderator, prompt=2, answer={"text": "Home"}, reason="As written")
    services.vote_recount(vote_id=vote.pk)
    chapter_services.vote_close(vote=vote, by=quest_master)
    make_post(quest, make_user("late"), "1-A")  # after the close: excluded
    unread = make_post(quest, make_user("unread"), "1-B")
    services.vote_recount(vote_id=vote.pk)
    Reading.objects.filter(post=unread).delete()  # not read yet
    # Chatter that names the vote, as the reader would store it.
    row = Reading.objects.get(vote=vote, post=chatter)
    mentions = replace(ReadingOut.from_json(row.data), mentions=("names the vote",))
    Reading.objects.filter(pk=row.pk).update(**Reading.columns(mentions))

    decisions = audit.decisions_for(vote)
    spec = selectors.vote_spec(vote)
    full = audit.audit_posts(vote, spec=spec, decisions=decisions, show="all")
    listed = {tab: audit_pages.listing(vote, decisions, show=tab) for tab in audit_pages.SHOW}

    assert len(full) < audit_pages.PER_PAGE  # every tab on its first page
    for tab, listing in listed.items():
        expected = [i.post.pk for i in full if i.in_tab(tab)]
        assert list(listing.page.object_list) == expected, tab
        assert listing.counts[tab] == len(expected), tab
    by_ref = {
        i.post.ref: {tab for tab in audit_pages.SHOW if i.post.pk in listed[tab].page.object_list}
        for i in full
    }
    assert "held" in by_ref[held.ref] and "held" in by_ref[reopened.ref]
    assert "held" not in by_ref[settled.ref] and "decided" in by_ref[settled.ref]
    assert "excluded" in by_ref[superseded.ref] and "mentions" in by_ref[chatter.ref]
    assert "decided" not in by_ref[reopened.ref] and "decided" in by_ref[counted.ref]


def test_it_shows_a_tab_a_page_at_a_time(client, vote, moderator):
    posts = _crowd(vote, audit_pages.PER_PAGE * 2 + 7)
    client.force_login(moderator)

    first = client.get(_url(vote, "?show=all")).content.decode()
    last = client.get(_url(vote, "?show=all&page=3")).content.decode()

    assert _listed(first) == [p.ref for p in posts[: audit_pages.PER_PAGE]]
    assert _listed(last) == [p.ref for p in posts[2 * audit_pages.PER_PAGE :]]
    assert f"Posts 1 to {audit_pages.PER_PAGE} of {len(posts)}." in first
    assert "Page 1 of 3" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert '<a href="?show=all&amp;page=2"' in first
    assert f'All <span class="tab-count">({len(posts)})</span>' in first


def test_it_pages_with_htmx_swapping_the_list_only(client, vote, moderator):
    posts = _crowd(vote, audit_pages.PER_PAGE + 1)
    client.force_login(moderator)

    response = client.get(_url(vote, "?show=all&page=2"), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="audit-posts"')
    assert _listed(html) == [posts[-1].ref]
    assert 'hx-target="#audit-posts" hx-swap="outerHTML" hx-push-url="true" rel="prev"' in html


def test_it_filters_by_voter_name_or_post_number(client, vote, moderator):
    posts = _crowd(vote, 12)
    client.force_login(moderator)

    named = client.get(_url(vote, "?show=all&q=OTER01")).content.decode()
    numbered = client.get(_url(vote, f"?show=all&q=%23{posts[3].ref}")).content.decode()
    nobody = client.get(_url(vote, "?show=all&q=nobody")).content.decode()

    assert _listed(named) == [p.ref for p in posts[10:]]  # voter010, voter011
    assert "2 posts matching “OTER01”." in named
    assert 'value="OTER01"' in named  # the filter kept in its box
    assert 'href="?show=held&amp;q=OTER01"' in named  # and across the tabs
    assert f'All <span class="tab-count">({len(posts)})</span>' in named  # tabs count everything
    assert _listed(numbered) == [posts[3].ref]
    assert _listed(nobody) == []
    assert "No post in this tab matches “nobody”." in nobody


def test_it_lists_decided_posts_in_their_own_tab(client, vote, moderator):
    posts = _crowd(vote, 3)
    _decide(vote, posts[1], moderator, action="reject", reason="Not a ballot")
    undone = _decide(vote, posts[2], moderator, action="reject", reason="Oops")
    audit.decision_undo(decision=undone, reason="Wrong post", by=moderator)
    client.force_login(moderator)

    html = client.get(_url(vote, "?show=decided")).content.decode()

    assert _listed(html) == [posts[1].ref]
    assert 'aria-current="page">Decided <span class="tab-count">(1)</span>' in html


def test_it_keeps_the_pages_to_moderators(client, vote, player):
    _crowd(vote, 3)

    anonymous = client.get(_url(vote, "?show=all&page=2"))
    client.force_login(player)
    refused = client.get(_url(vote, "?show=all&page=2&q=voter"))

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert refused.status_code == 403


@pytest.mark.parametrize("voters", [20, 300])
@pytest.mark.parametrize("show", ["held", "all"])
def test_the_audit_page_asks_as_many_queries_for_20_voters_as_for_300(
    client, vote, moderator, voters, show, django_assert_num_queries
):
    posts = _crowd(vote, voters)
    make_post(vote.chapter.quest, make_user("unsure"), "1-A maybe")  # one held back
    services.vote_recount(vote_id=vote.pk)
    _decide(vote, posts[0], moderator, action="reject", reason="No")
    client.force_login(moderator)

    # The user, the vote with its quest, the quest's membership (the session comes
    # from the cache); the decisions and the prompts; five to list the tab's page;
    # three to build its posts.
    with django_assert_num_queries(14):
        response = client.get(_url(vote, f"?show={show}"))

    shown = _listed(response.content.decode())
    assert len(shown) == (1 if show == "held" else min(voters + 1, audit_pages.PER_PAGE))


def _vote_of(size: int, quest_master, moderator) -> Vote:
    """A vote of `size` posts by a few voters changing their minds, one held back, one ruled on."""
    quest = make_quest(quest_master, title=f"Thread of {size}")
    moderator_appoint(quest=quest, user=moderator, by=quest_master)
    vote = make_vote(quest, quest_master, PROMPTS)
    voters = [make_user(f"voter_{size}_{i}") for i in range(7)]
    posts_append(quest, voters, ["1-A\n2-Home", "Great chapter!", "1-B", "1-C\n2-Away"], size - 2)
    make_post(quest, make_user(f"unsure_{size}"), "1-A maybe")
    ruled = make_post(quest, make_user(f"ruled_{size}"), "1-B")
    services.vote_recount(vote_id=vote.pk)
    _decide(vote, ruled, moderator, action="reject", reason="A joke")
    return vote


@pytest.mark.parametrize("show", ["all", "excluded", "held"])
def test_the_audit_page_reads_as_many_rows_for_60_posts_as_for_600(
    client, quest_master, moderator, show
):
    """Rows returned by every query of the page (PostgreSQL counts them; SQLite says none)."""
    client.force_login(moderator)
    work = {}
    for size in (60, 600):
        vote = _vote_of(size, quest_master, moderator)
        url = _url(vote, f"?show={show}")
        client.get(url)  # the session and caches warm
        rows = []

        def count(execute, sql, params, many, context, rows=rows):
            result = execute(sql, params, many, context)
            rows.append(max(context["cursor"].rowcount, 0))
            return result

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200
        work[size] = (len(rows), sum(rows), len(_listed(response.content.decode())))

    assert work[600] == work[60], work
