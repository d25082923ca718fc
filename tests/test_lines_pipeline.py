"""`lines` prompts ([X] ballots) through the app's own paths: the import command, the
`tally` command, the Celery worker's recount, the audit and the thread's "Read as" line.

The reader's rules are tested in tests/reading (the 183 table cases and the test
thread); here the same thread goes in through `import_thread` on PostgreSQL and comes
out of the stored tally, scored by the shared checker.
"""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from chapters.models import Prompt
from chapters.prompts import PromptData
from quest.services import post_create, quest_create
from tests.factories import chapter_url, make_user, make_vote
from tests.services import wait_until
from votes.models import Reading, TallyRun

ROOT = Path(__file__).resolve().parent.parent
XBALLOTS = ROOT / "tests" / "fixtures" / "xballots"
CHECKER = ROOT.parent / "shared" / "tools" / "check_tally.py"

pytestmark = pytest.mark.django_db


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _import() -> tuple[str, int]:
    slug = _run("import_thread", str(XBALLOTS / "thread.json")).strip()
    data = json.loads((XBALLOTS / "thread.json").read_text(encoding="utf-8"))
    return slug, data["chapters"][0]["number"]


def _score(tally: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "tally.json"
    path.write_text(tally, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(CHECKER), str(path), str(XBALLOTS / "expect.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_imported_x_thread_keeps_its_prompt_settings():
    slug, _ = _import()
    prompts = {p.number: p for p in Prompt.objects.filter(vote__chapter__quest__slug=slug)}
    assert prompts[1].kind == "lines" and prompts[1].partition == "block"
    assert prompts[2].kind == "lines" and prompts[2].partition == "line"
    assert prompts[3].kind == "single"


def test_the_tally_command_scores_the_x_thread_with_nothing_wrong_or_held(tmp_path):
    slug, chapter = _import()

    tally = _run("tally", slug, chapter=chapter, format="json")

    scored = _score(tally, tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert " 0 held back, 0 wrong" in scored.stdout, scored.stdout
    prompt = next(p for p in json.loads(tally)["prompts"] if p["number"] == 1)
    assert prompt["suggestions"], "the quest master's [ ] lines are listed"


def test_the_bbcode_tally_of_a_lines_prompt_is_in_the_forum_layout():
    slug, chapter = _import()

    text = _run("tally", slug, chapter=chapter, format="bbcode")

    assert "#####" in text.splitlines()[0]
    assert "No. of Votes" in text and "Total No. of Voters" in text
    assert "[X] Plan Quiet Hours" in text or "[X] Plan: Quiet Hours" in text


def test_a_worker_recounts_an_x_ballot_into_the_stored_tally(celery_worker):
    qm = make_user("quest_master")
    quest = quest_create(title="Lines Quest", by=qm)
    prompts = [PromptData(number=1, kind="lines", text="What does the expedition do?")]
    vote = make_vote(quest, qm, prompts, body="[ ] Chart the northern pass\n[ ] Rest a day")
    anya, bo = make_user("anya"), make_user("bo")

    post_create(quest=quest, author=anya, body="[X] Chart the northern pass\n-[X] With two scouts")
    post_create(quest=quest, author=bo, body="[x] chart the Northern Pass!\n- [X] with two scouts")

    def entries():
        run = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
        if run is None:
            return None
        prompt = run.data["prompts"][0]
        return prompt["entries"] if sum(e["votes"] for e in prompt["entries"]) == 2 else None

    got = wait_until(entries, timeout=60)
    assert [(e["text"], e["voters"]) for e in got] == [
        ("Chart the northern pass\n-With two scouts", ["anya", "bo"])
    ]
    latest = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
    assert latest.data["prompts"][0]["suggestions"] == ["Chart the northern pass", "Rest a day"]
    reading = Reading.objects.get(vote=vote, post__author=bo)
    assert reading.kind == "ballot"
    assert (
        reading.data["answers"][0]["lines"][0]["text"]
        == "chart the Northern Pass!\n-with two scouts"
    )


def test_the_tally_page_names_a_lines_prompts_method_and_its_winner(client):
    from chapters.models import Vote
    from votes.services import vote_recount

    slug, chapter = _import()
    vote = Vote.objects.get(chapter__quest__slug=slug, chapter__number=chapter)
    vote_recount(vote_id=vote.pk)

    page = client.get(chapter_url(vote, "chapter-tally"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Ranked by Schulze: winner Captain Oriel." in text
    assert "Store it for the winter" in text


def test_the_voting_help_explains_x_lines_plans_and_proxies(client):
    from django.urls import reverse

    text = client.get(reverse("help-voting")).content.decode()

    assert 'id="x-lines"' in text
    assert "[X] Plan Quiet Hours" in text and "[X] ^Wren" in text and "[#1]" in text
