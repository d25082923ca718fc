"""What a post is read against changes: the post is read again, and the tally follows.

Tasks run in the test process here (tests/conftest.py); the real-worker
versions of the pipeline are in test_pipeline.py.
"""

import pytest

from chapters.services import vote_prompts_set
from quest.services import post_edit
from tests.factories import make_post, make_vote, prompt_list
from votes import services
from votes.models import Reading

AB = prompt_list("single")
ABC = prompt_list("single", options=3)


@pytest.fixture
def vote(quest, quest_master):
    return make_vote(quest, quest_master, AB)


def _counted(vote, letter):
    tally = services.vote_recount(vote_id=vote.pk).data
    return next(o["voters"] for o in tally["prompts"][0]["options"] if o["letter"] == letter)


def test_it_reads_every_post_again_when_options_change_after_ballots(
    vote, quest, player, quest_master
):
    make_post(quest, player, "1-C")
    tally = services.vote_recount(vote_id=vote.pk).data
    assert [f["author"] for f in tally["flagged"]] == ["player"]
    before = Reading.objects.get(vote=vote).spec_version

    vote_prompts_set(chapter=vote.chapter, prompts=ABC, by=quest_master, closes_at=vote.closes_at)

    assert _counted(vote, "C") == ["player"]
    assert Reading.objects.get(vote=vote).spec_version == before + 1
    assert vote.events.filter(kind="prompts_changed", data__ballots_existed=True).exists()


def test_it_reads_an_edited_post_again(vote, quest, player):
    post = make_post(quest, player, "1-A")
    assert _counted(vote, "A") == ["player"]

    post_edit(post=post, body="Changing my vote: 1-B", by=player)

    assert _counted(vote, "B") == ["player"]
    assert _counted(vote, "A") == []


def test_it_does_not_count_a_post_made_after_the_vote_closed(vote, quest, player, quest_master):
    from chapters.services import vote_close

    make_post(quest, player, "1-A")
    vote_close(vote=vote, by=quest_master)
    make_post(quest, quest_master, "Thanks all")
    late = make_post(quest, player, "1-B")

    tally = services.vote_recount(vote_id=vote.pk).data
    assert _counted(vote, "A") == ["player"]
    assert any(e["post"] == late.ref for e in tally["excluded"])
