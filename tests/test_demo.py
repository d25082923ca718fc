"""The demo quest `make demo` serves: the seed thread's chapter 2 and an open vote on chapter 3."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from chapters.models import Chapter, Vote
from quest.models import Post, Quest

EXAMPLE = Path(__file__).resolve().parents[1] / "demo" / "red-alert-ch2.thread.json"


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())
    return Quest.objects.get(slug="red-alert-1953")


def test_it_shows_chapter_2_with_its_three_prompts_exactly_as_in_the_file(demo, client):
    expected = json.loads(EXAMPLE.read_text())["chapters"][0]["vote"]["prompts"]
    vote = Vote.objects.get(chapter__quest=demo, chapter__number=2)
    got = [
        {
            "number": p.number,
            "kind": p.kind,
            "text": p.text,
            **(
                {"options": [{"letter": o.letter, "text": o.text} for o in p.options.all()]}
                if p.kind != "write_in"
                else {}
            ),
        }
        for p in vote.prompts.all()
    ]
    assert got == expected

    page = client.get(f"/q/{demo.slug}/chapters/2/").content.decode()
    for prompt in expected:
        assert prompt["text"].replace("'", "&#x27;") in page
        for option in prompt.get("options", []):
            assert option["text"].replace("'", "&#x27;") in page


def test_it_has_an_open_vote_on_chapter_3_to_vote_in_at_once(demo, client):
    vote = Vote.objects.get(chapter__quest=demo, chapter__number=3)
    assert vote.status == Vote.Status.OPEN
    assert vote.closes_at is not None
    assert client.login(username="newcomer", password="red-alert-new")
    response = client.post(f"/q/{demo.slug}/post/", {"body": "1-A\n2-A, C\n3: B > A > C"})
    assert response.status_code == 302


def test_it_serves_the_thread_and_prints_the_accounts(db, client, capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    for line in ("panpiotr", "red-alert-qm", "Lyudmila_K", "red-alert-mod"):
        assert line in out
    page = client.get("/q/red-alert-1953/")
    assert page.status_code == 200
    assert "Red Alert - Our 1953 USSR" in page.content.decode()


def test_it_loads_twice_without_duplicating_anything(demo):
    counts = (Post.objects.count(), Chapter.objects.count(), Vote.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (Post.objects.count(), Chapter.objects.count(), Vote.objects.count()) == counts
