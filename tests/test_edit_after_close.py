"""An edit after the close, on the real stack: the final tally keeps the answer as it stood.

Tried as a voter would: post `1-A`, the vote closes, edit the post to `1-B`.
The worker reads the edit, the recount runs, and the final tally still counts
A; the edit waits in the moderators' queue with both answers named.
"""

import pytest

from chapters import services as chapter_services
from quest import services as quest_services
from tests.factories import make_post, make_quest, make_user, make_vote, prompt_list
from tests.services import wait_until
from votes.models import TallyRun

pytestmark = pytest.mark.services

PROMPTS = prompt_list("single")


def _final(vote):
    return TallyRun.objects.filter(vote=vote, is_final=True).first()


def _voters(tally, letter: str) -> list[str]:
    return next(o["voters"] for o in tally["prompts"][0]["options"] if o["letter"] == letter)


def test_it_keeps_the_answer_at_the_close_and_queues_the_edit(celery_worker):
    qm = make_user("quest_master")
    voter = make_user("voter")
    quest = make_quest(qm)
    vote = make_vote(quest, qm, PROMPTS)
    ballot = make_post(quest, voter, "1-A")
    make_post(quest, make_user("other"), "1-B")
    chapter_services.vote_close(vote=vote, by=qm)
    first = wait_until(lambda: _final(vote), timeout=60, interval=0.3)
    assert _voters(first.data, "A") == ["voter"]

    quest_services.post_edit(post=ballot, body="1-B", by=voter)

    def edit_seen():
        run = _final(vote)
        return run if run is not None and run.pk != first.pk else None

    run = wait_until(edit_seen, timeout=60, interval=0.3)
    assert _voters(run.data, "A") == ["voter"]
    assert _voters(run.data, "B") == ["other"]
    [held] = [h for h in run.data["flagged"] if h["post"] == ballot.ref]
    assert held["author"] == "voter" and held["prompt"] == 1
    assert "it read A at closing time, now B" in held["reason"]
