"""Claiming a forum name (issue 12) against a forum on 127.0.0.1 that grows between fetches.

A signed-in player asks for a one-time code on the quest's "Your forum name"
page, the forum thread (tests/forum_thread.py) gets a post holding it, and the
next refresh of the followed thread settles the claim: linked when the post is
the claimed name's, nothing linked otherwise. Tasks run in the test process, as
in tests/test_follow_thread.py.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from chapters.models import Vote
from quest.identities import forum_name_claim_start
from quest.models import ForumIdentity, ForumNameClaim, Post, Quest
from tests.factories import PASSWORD, make_post, make_quest, make_user
from tests.forum_thread import QUEST_MASTER, QUEST_MASTER_ID, ForumServer, ForumThread
from votes import contexts, selectors
from votes.importers import follow
from votes.importers.export import thread_export
from votes.importers.sources import Source, sources_import
from votes.models import Ballot, FollowedThread, Reading
from votes.names import voter_name, voter_names
from votes.posting import CHANGING_PREFIX, current_answers

pytestmark = pytest.mark.django_db

# Mirelle's ballot on chapter 2's vote in the fixture's page 2 ("1-B\n2-A"), and her forum id.
MIRELLE_POST = 5120078
MIRELLE_ID = 3391
FORUM = "127.0.0.1"
# The same thread saved from its forum (their canonical address: forums.example.net).
SAVED = [Path(__file__).parent / "fixtures" / "xenforo" / f"thread-page-{n}.html" for n in (1, 2)]


@pytest.fixture
def forum(settings, tmp_path):
    server = ForumServer(ForumThread()).start()
    settings.FORUM_HOSTS = [server.host]
    settings.FORUM_CACHE_DIR = str(tmp_path / "forum-cache")
    settings.FORUM_FETCH_PAUSE_SECONDS = 0.05
    settings.FORUM_FETCH_BACKOFF_SECONDS = 0.1
    yield server
    server.stop()


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run_(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run_


@pytest.fixture
def teller(db):
    """Runs the quest in the app: a signed-up account, not the thread's starter."""
    return make_user("teller", password=PASSWORD)


@pytest.fixture
def quest(teller):
    return make_quest(teller, title="Lighthouse Keepers of Vael")


@pytest.fixture
def followed(forum, quest, teller, run):
    linked = run(
        follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=teller
    )
    linked.refresh_from_db()
    assert linked.status == FollowedThread.Status.OK
    quest.refresh_from_db()  # linking gave it its forum
    return linked


@pytest.fixture
def mira(db):
    return make_user("mira", password=PASSWORD)


def _refresh(run, followed: FollowedThread) -> FollowedThread:
    result = run(follow.followed_thread_refresh, followed_id=followed.pk)
    assert result is not None and result.status == FollowedThread.Status.OK, result
    return result


def _voters(quest, chapter: int = 2) -> dict[int, dict[str, list[str]]]:
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=chapter)
    tally = selectors.latest_tally(vote)
    assert tally is not None
    return {
        p["number"]: {o["letter"]: o["voters"] for o in p.get("options") or []}
        for p in tally.data["prompts"]
    }


def _page(client, quest) -> str:
    response = client.get(reverse("quest-forum-name", args=[quest.slug]))
    assert response.status_code == 200
    return response.text


def _mirelle() -> ForumIdentity:
    return ForumIdentity.objects.get(forum=FORUM, forum_user_id=MIRELLE_ID)


def test_a_claimed_name_and_its_player_are_one_voter(followed, quest, forum, run, client, mira):
    client.force_login(mira)
    url = reverse("quest-forum-name", args=[quest.slug])
    assert client.post(url, {"name": "Mirelle"}).status_code == 302
    claim = ForumNameClaim.objects.get(user=mira)
    page = _page(client, quest)
    assert claim.code in page and "Waiting for the code on the forum" in page
    client.post(url, {"name": "mirelle"})  # asked again: the same code, not a second one
    assert ForumNameClaim.objects.get(user=mira).code == claim.code
    assert _voters(quest)[1]["B"] == ["Mirelle", "old_salt"]

    code_post = forum.thread.add("Mirelle", f"Linking my account: {claim.code}", user_id=MIRELLE_ID)
    _refresh(run, followed)

    claim.refresh_from_db()
    assert (claim.status, claim.post.ref) == (ForumNameClaim.Status.LINKED, code_post)
    assert _mirelle().linked_user == mira
    assert Post.objects.get(quest=quest, ref=MIRELLE_POST).author == mira
    # The voter is still the forum's Mirelle: the forum's proxies and agreements name her so.
    assert _voters(quest)[1]["B"] == ["Mirelle", "old_salt"]
    # The post holding the code is just a post, not a ballot.
    reading = Reading.objects.get(post__ref=code_post)
    assert reading.kind == "not_ballot"
    page = _page(client, quest)
    assert "Linked" in page and "held this code: the name is linked" in page
    thread = client.get(reverse("quest-thread", args=[quest.slug]) + "?page=2").text
    assert "as Mirelle on 127.0.0.1" in thread  # her forum posts, under her name here

    # A ballot cast in the app amends the forum one: one voter, not two.
    run(make_post, quest, mira, "1-A")

    voters = _voters(quest)
    assert voters[1]["A"].count("Mirelle") == 1 and "Mirelle" not in voters[1]["B"]
    assert "Mirelle" in voters[2]["A"]  # the forum ballot's other answer stands
    assert "mira" not in str(voters)
    # Her next forum post is hers too.
    later = forum.thread.add("Mirelle", "1-B", user_id=MIRELLE_ID)
    _refresh(run, followed)
    assert Post.objects.get(quest=quest, ref=later).author == mira
    assert _voters(quest)[1]["B"] == ["Mirelle", "old_salt"]
    # Exported, her posts here and there are Mirelle's, as the forum names her.
    authors = {p["id"]: p["author"] for p in thread_export(quest)["posts"]}
    assert {authors[MIRELLE_POST], authors[later], authors[code_post]} == {"Mirelle"}
    assert "mira" not in authors.values()


def test_a_code_posted_by_another_name_links_nothing(followed, quest, forum, run, client, mira):
    claim = forum_name_claim_start(quest=quest, user=mira, name="Mirelle")

    forum.thread.add("Nim", f"Is this it? {claim.code}")
    _refresh(run, followed)

    claim.refresh_from_db()
    assert claim.status == ForumNameClaim.Status.PENDING
    assert "written by Nim, not by Mirelle: nothing was linked" in claim.note
    assert _mirelle().linked_user is None
    assert Post.objects.get(quest=quest, ref=MIRELLE_POST).author != mira
    assert _voters(quest)[1]["B"] == ["Mirelle", "old_salt"]
    client.force_login(mira)
    assert "written by Nim, not by Mirelle" in _page(client, quest)


def test_a_code_quoted_by_the_claimed_name_is_not_theirs(followed, quest, forum, run, mira):
    claim = forum_name_claim_start(quest=quest, user=mira, name="Mirelle")
    nim = forum.thread.add("Nim", f"Post this: {claim.code}")

    forum.thread.add(
        "Mirelle",
        f'<blockquote class="bbCodeBlock bbCodeBlock--quote" data-quote="Nim" '
        f'data-source="post: {nim}"><div class="bbCodeBlock-content">'
        f'<div class="bbCodeBlock-expandContent">Post this: {claim.code}</div></div></blockquote>'
        "Huh?",
        user_id=MIRELLE_ID,
    )
    _refresh(run, followed)

    assert _mirelle().linked_user is None


def test_an_expired_code_links_nothing(followed, quest, forum, run, client, mira):
    claim = forum_name_claim_start(quest=quest, user=mira, name="Mirelle")
    ForumNameClaim.objects.filter(pk=claim.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    forum.thread.add("Mirelle", claim.code, user_id=MIRELLE_ID)
    _refresh(run, followed)

    claim.refresh_from_db()
    assert claim.status == ForumNameClaim.Status.PENDING
    assert "the code expired" in claim.note and "Ask for a new code" in claim.note
    assert _mirelle().linked_user is None
    client.force_login(mira)
    assert "Expired" in _page(client, quest)


def test_a_used_code_and_a_linked_name_link_nothing_more(followed, quest, forum, run, client, mira):
    claim = forum_name_claim_start(quest=quest, user=mira, name="Mirelle")
    forum.thread.add("Mirelle", claim.code, user_id=MIRELLE_ID)
    _refresh(run, followed)
    claim.refresh_from_db()
    linked_at = claim.linked_at

    # Someone else asking for the name is refused, and nothing is stored.
    thief = make_user("thief", password=PASSWORD)
    client.force_login(thief)
    response = client.post(reverse("quest-forum-name", args=[quest.slug]), {"name": "Mirelle"})
    assert response.status_code == 400
    assert "is linked to another account already" in response.text
    assert not ForumNameClaim.objects.filter(user=thief).exists()
    # The used code posted again, by anyone, changes nothing.
    forum.thread.add("Nim", claim.code)
    forum.thread.add("Mirelle", claim.code, user_id=MIRELLE_ID)
    _refresh(run, followed)
    claim.refresh_from_db()
    assert (claim.status, claim.linked_at) == (ForumNameClaim.Status.LINKED, linked_at)
    assert _mirelle().linked_user == mira


def test_the_thread_starter_claiming_their_name_runs_the_quest_as_its_quest_master(
    followed, quest, forum, run, teller
):
    assert "started by Harrow_Quill" in followed.message
    claim = forum_name_claim_start(quest=quest, user=teller, name=QUEST_MASTER)

    forum.thread.add(QUEST_MASTER, claim.code, user_id=QUEST_MASTER_ID)
    followed = _refresh(run, followed)

    quest.refresh_from_db()
    assert quest.quest_master == teller
    assert followed.message == ""
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    # The reader knows the quest master by the name the forum's posts give them.
    assert selectors.vote_spec(vote).quest_master == QUEST_MASTER
    assert vote.post is not None and vote.post.author == teller
    # The starter's posts are the quest master's again, never ballots.
    assert QUEST_MASTER not in str(_voters(quest)) and "teller" not in str(_voters(quest))


@pytest.mark.parametrize(
    "name, message", [("", "Enter your name on the forum"), ("x" * 151, "at most 150")]
)
def test_a_bad_name_is_refused_with_a_message(followed, quest, client, mira, name, message):
    client.force_login(mira)

    response = client.post(reverse("quest-forum-name", args=[quest.slug]), {"name": name})

    assert response.status_code == 400 and message in response.text
    assert not ForumNameClaim.objects.exists()


def test_there_is_no_name_to_claim_on_a_quest_from_no_forum(client, mira):
    quest = make_quest(mira, title="Home grown")
    client.force_login(mira)

    assert client.get(reverse("quest-forum-name", args=[quest.slug])).status_code == 404
    client.logout()
    assert client.get(reverse("quest-forum-name", args=[quest.slug])).status_code == 302


def test_the_page_answers_htmx_with_its_claims_alone(followed, quest, client, mira):
    client.force_login(mira)
    thread = client.get(reverse("quest-thread", args=[quest.slug])).text
    assert reverse("quest-forum-name", args=[quest.slug]) in thread

    response = client.post(
        reverse("quest-forum-name", args=[quest.slug]), {"name": "Mirelle"}, HTTP_HX_REQUEST="true"
    )

    claim = ForumNameClaim.objects.get(user=mira)
    assert response.status_code == 200 and claim.code in response.text
    assert response.text.lstrip().startswith('<section id="forum-name"')


def test_one_name_on_two_forums_is_two_voters_and_a_claim_links_one(
    forum, quest, teller, run, mira
):
    saved = sources_import(
        [Source(path.name, path.read_text()) for path in SAVED], format="xenforo", slug="saved"
    )
    run(follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=teller)
    quest.refresh_from_db()

    there = ForumIdentity.objects.get(forum="forums.example.net", forum_user_id=MIRELLE_ID)
    here = _mirelle()
    assert there.user_id != here.user_id
    assert (there.user.username, here.user.username) == ("Mirelle", "Mirelle@127.0.0.1")
    assert "Mirelle@127.0.0.1" in _voters(quest)[1]["B"]

    claim = forum_name_claim_start(quest=quest, user=mira, name="Mirelle")
    forum.thread.add("Mirelle", claim.code, user_id=MIRELLE_ID)
    run(follow.followed_thread_refresh, followed_id=quest.followed_thread.pk)

    there.refresh_from_db()
    assert (_mirelle().linked_user, there.linked_user) == (mira, None)
    assert Post.objects.get(quest=saved, ref=MIRELLE_POST).author_id == there.user_id
    assert Post.objects.get(quest=quest, ref=MIRELLE_POST).author == mira


def _claimed(followed, forum, run, mira) -> None:
    claim = forum_name_claim_start(quest=followed.quest, user=mira, name="Mirelle")
    forum.thread.add("Mirelle", claim.code, user_id=MIRELLE_ID)
    _refresh(run, followed)
    assert _mirelle().linked_user == mira


def test_after_a_claim_the_forum_follows_the_name_and_the_app_ballot_amends_it(
    followed, quest, forum, run, client, mira
):
    _claimed(followed, forum, run, mira)
    forum.thread.add("Nim", "[X] Mirelle")
    forum.thread.add("Brannoc", "I'm with Mirelle on this one.")
    _refresh(run, followed)
    assert _voters(quest)[1]["B"] == ["Brannoc", "Mirelle", "Nim", "old_salt"]

    client.force_login(mira)
    url = reverse("ballot-submit", args=[quest.slug, 2])
    assert run(client.post, url, {"p1": "A", "p2": "A"}).status_code in (200, 302)

    ballot = Post.objects.filter(quest=quest, author=mira, imported=False).get()
    # Her forum ballot is hers: the app's is a change of it, and replaces it whole.
    assert ballot.body.startswith(CHANGING_PREFIX)
    voters = _voters(quest)
    # Her proxy follows her; an agreement took her ballot as it stood when written.
    assert voters[1]["A"] == ["Mirelle", "Nim"]
    assert voters[1]["B"] == ["Brannoc", "old_salt"] and "mira" not in str(voters)
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    current = Ballot.objects.filter(vote=vote, is_current=True)
    assert current.filter(voter="Mirelle").count() == 1 and not current.filter(voter="mira")
    # Everything that looks up her ballot finds it under the name she votes by here.
    assert selectors.has_ballot(vote, mira)
    assert current_answers(vote=vote, user=mira)["1"]["letters"] == ["A"]
    panel = selectors.ballot_panel(vote=vote, user=mira)
    assert panel is not None and panel.prompts[0].counted["options"][0]["letter"] == "A"
    client.logout()  # the page would name her account in its header
    page = client.get(reverse("chapter-tally", args=[quest.slug, 2])).text
    assert "Mirelle" in page and "mira<" not in page


def test_a_ballot_cast_in_the_app_before_the_claim_joins_the_forum_name_after_it(
    followed, quest, forum, run, client, mira
):
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    run(make_post, quest, mira, "1-A")
    assert "mira" in _voters(quest)[1]["A"]

    _claimed(followed, forum, run, mira)

    # Re-read as hers, her later app ballot amends her forum one: one voter, Mirelle.
    voters = _voters(quest)
    assert voters[1]["A"].count("Mirelle") == 1 and "Mirelle" not in voters[1]["B"]
    assert "mira" not in str(voters)
    current = Ballot.objects.filter(vote=vote, is_current=True)
    assert set(current.values_list("voter", flat=True)) >= {"Mirelle"}
    assert not current.filter(voter="mira").exists()
    assert Ballot.objects.filter(vote=vote, voter="mira", is_current=False).exists()


def test_a_quest_from_no_forum_knows_a_player_who_claimed_a_name_by_their_username(
    followed, forum, run, mira
):
    _claimed(followed, forum, run, mira)
    home = make_quest(mira, title="Home grown")

    assert voter_name(home, mira) == "mira"
    assert voter_name(followed.quest, mira) == "Mirelle"
    assert voter_names(home) == {}


def test_the_audit_knows_a_player_who_claimed_a_name_by_it(
    followed, quest, forum, run, client, mira, teller
):
    _claimed(followed, forum, run, mira)
    run(make_post, quest, mira, "1-A")
    follower = forum.thread.add("Nim", "Same as Harrow's wife, whatever that is")
    _refresh(run, followed)
    client.force_login(teller)  # runs the quest in the app
    audit = reverse("vote-audit", args=[quest.slug, 2])

    # Filtered by the name the tally lists her under: her forum and app posts alike.
    listed = client.get(audit + "?show=all&q=Mirelle").text
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    mine = Post.objects.filter(quest=quest, author=mira, seq__gt=vote.post.seq)
    assert mine.filter(imported=False).exists() and mine.filter(imported=True).exists()
    assert all(f'id="post-{p.ref}"' in listed for p in mine)
    assert f"{mine.count()} posts matching “Mirelle”." in listed
    # A moderator rules a post a proxy of hers by that name.
    decided = run(
        client.post,
        reverse("vote-decide", args=[quest.slug, 2]),
        {"post": follower, "action": "proxy", "proxy": "mirelle", "reason": "Asked on the forum"},
    )
    assert decided.status_code == 302, decided.text
    assert "Nim" in _voters(quest)[1]["A"] and "mira" not in str(_voters(quest))


def test_a_claim_moves_on_the_kept_threads_of_the_forums_quests_the_player_posted_in(
    followed, quest, forum, run, mira, teller
):
    side = make_quest(teller, title="Side story of the same forum")
    # Known by its address alone (no `forum`), as a thread imported from a file may be.
    Quest.objects.filter(pk=side.pk).update(source_url=forum.thread_url)
    side.refresh_from_db()
    run(make_post, side, mira, "Hello from the app.")
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    run(make_post, quest, mira, "1-A")
    kept = contexts.window_readings(
        vote=vote, refs=[Post.objects.get(author=mira, quest=quest).ref]
    )
    assert [r.author for r in kept.values()] == ["mira"]
    changes = dict(Quest.objects.values_list("pk", "post_changes"))

    _claimed(followed, forum, run, mira)

    # Both threads changed (kept copies of them are loaded again), and name her Mirelle.
    now = dict(Quest.objects.values_list("pk", "post_changes"))
    assert now[quest.pk] > changes[quest.pk] and now[side.pk] > changes[side.pk]
    ref = Post.objects.get(author=mira, quest=quest, imported=False).ref
    assert contexts.window_readings(vote=vote, refs=[ref])[ref].author == "Mirelle"
    assert voter_name(side, mira) == "Mirelle"
