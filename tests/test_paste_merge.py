"""Several pastes of one thread make one quest (`import_thread --format text FILE...`).

A paste has no post ids: a post is known by its text and its neighbours, so
overlapping pages, and a page pasted again, add only the posts the thread
lacks. The small cases are pure (`parse_pastes`); the seed in ../shared/seeds,
cut into overlapping pages, is imported through the command and must come out
as the whole seed does.
"""

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chapters.models import Chapter, Vote
from quest.models import Post, PostRevision, Quest
from votes.importers.paste import PasteError, parse_paste, parse_pastes

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_000 = SHARED / "seeds" / "000_9173bf5eb362a06d.txt"
EXPECT_000 = SHARED / "examples" / "seed-000-paste.expect.json"
CHECKER = SHARED / "tools" / "check_tally.py"
SEED_SLUG = "red-alert-our-1953-ussr"

SEP = "\u00a0"
TITLE = "The Dam Quest"
CHAPTER = "Chapter One: The River\nThe valley floods every spring."
PROMPTS = "1. Should we build the dam?\nA) Yes, build it\nB) No, leave the river be"
POSTS = [
    CHAPTER,
    PROMPTS,
    "1-A. The dam gives us power for the whole valley.",
    "I am not sure yet, the fish of the river matter to the valley folk.",
    "1-B, the river is sacred to the valley folk.",
    "1-A, because the floods took my grandmother's farm.",
    "Agreed with the farmers: the floods have to stop somehow.",
]


def _page(*posts: str, title: str | None = TITLE) -> str:
    head = f"{title}\n\n" if title else ""
    return head + f"\n{SEP}\n".join(posts) + f"\n{SEP}\nTop\n"


def _bodies(doc: dict) -> list[str]:
    return [p["body"] for p in doc["posts"]]


WHOLE = parse_paste(_page(*POSTS))


# --- Merging, pure --------------------------------------------------------------------


def test_it_takes_the_posts_of_overlapping_pages_once():
    doc = parse_pastes([_page(*POSTS[:5]), _page(*POSTS[3:])])

    assert doc == WHOLE
    assert [p["id"] for p in doc["posts"]] == list(range(1, len(POSTS) + 1))


def test_it_puts_pages_that_do_not_overlap_one_after_the_other():
    assert parse_pastes([_page(*POSTS[:3]), _page(*POSTS[3:])]) == WHOLE


def test_it_changes_nothing_when_a_page_is_pasted_again():
    first, second = _page(*POSTS[:4]), _page(*POSTS[2:])

    assert parse_pastes([first, second, first, second]) == WHOLE


def test_it_finds_a_page_inside_the_thread():
    assert parse_pastes([_page(*POSTS), _page(*POSTS[2:5], title=None)]) == WHOLE


def test_it_takes_the_later_copy_of_a_post_edited_between_two_pastes():
    edited = "1-B, on second thought: the river is sacred to the valley folk."
    later = [*POSTS[3:4], edited, *POSTS[5:]]

    doc = parse_pastes([_page(*POSTS[:5]), _page(*later)])

    assert len(doc["posts"]) == len(POSTS)
    assert doc["posts"][4]["body"] == edited


def test_it_does_not_take_a_short_common_post_at_the_seam_for_an_overlap():
    doc = parse_pastes([_page(*POSTS[:3], "+1"), _page("+1", *POSTS[3:])])

    assert _bodies(doc) == [*_bodies(WHOLE)[:3], "+1", "+1", *_bodies(WHOLE)[3:]]


def test_it_recovers_quotes_of_posts_on_an_earlier_page():
    quoting = f"{POSTS[3]}\nThe fish will find another river."

    doc = parse_pastes([_page(*POSTS[:5]), _page(POSTS[4], quoting)])

    assert doc["posts"][-1]["body"] == (
        f'[QUOTE="#4, post: 4"]\n{POSTS[3]}\n[/QUOTE]\nThe fish will find another river.'
    )


def test_it_finds_a_vote_posted_on_the_page_after_its_chapter():
    doc = parse_pastes([_page(*POSTS[:1]), _page(*POSTS[1:])])

    assert doc["chapters"] == WHOLE["chapters"]
    assert doc["chapters"][0]["vote"]["post"] == 2


def test_it_gives_a_last_edited_line_at_the_top_of_a_page_to_the_previous_pages_last_post():
    doc = parse_pastes([_page(*POSTS[:3]), _page(f"Last edited:\n{POSTS[3]}", *POSTS[4:])])

    assert [p["edited_at"] is not None for p in doc["posts"]] == [
        n == 3 for n in range(1, len(POSTS) + 1)
    ]


def test_it_merges_a_page_onto_the_thread_imported_before():
    imported = parse_pastes([_page(*POSTS[:4])])

    doc = parse_pastes([_page(*POSTS[2:])], imported=lambda slug: imported)

    assert doc == WHOLE


def test_it_refuses_a_page_from_before_the_start_of_the_thread():
    with pytest.raises(PasteError, match="import the pages in order") as refused:
        parse_pastes([_page(*POSTS[3:]), _page(*POSTS[:5])])

    assert refused.value.part == 1


def test_it_refuses_to_merge_into_a_quest_that_was_not_pasted():
    from_forum = {"posts": [{"id": 8400121, "posted_at": "2024-04-20T18:02:00Z", "body": "Hi"}]}

    with pytest.raises(PasteError, match="was not imported from pastes"):
        parse_pastes([_page(*POSTS)], imported=lambda slug: from_forum)


def test_it_names_the_paste_that_holds_no_posts():
    with pytest.raises(PasteError, match="holds no posts") as refused:
        parse_pastes([_page(*POSTS), f"{SEP}\n{SEP}\nTop\n"])

    assert refused.value.part == 1


# --- The seed, cut into overlapping pages ---------------------------------------------


def _seed_pages(tmp_path: Path, *cuts: tuple[int, int]) -> list[Path]:
    """The seed's posts from..to for each cut, each a paste with the thread title."""
    lines = SEED_000.read_text(encoding="utf-8").split("\n")
    title, text = lines[0], "\n".join(lines[2:])
    blocks = re.split(r"\n[ \t]*\u00a0[ \t\u00a0]*\n", text)[:-1]  # the last is the footer
    paths = []
    for n, (start, end) in enumerate(cuts, start=1):
        path = tmp_path / f"page-{n}.txt"
        path.write_text(_page(*blocks[start:end], title=title), encoding="utf-8")
        paths.append(path)
    return paths


CUTS = ((0, 7), (5, 12), (10, 15))


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _import(*paths: Path) -> str:
    return _run("import_thread", *map(str, paths), format="text").strip()


def _export() -> dict:
    return json.loads(_run("export_thread", SEED_SLUG))


def _whole_seed_export() -> dict:
    _import(SEED_000)
    whole = _export()
    Quest.objects.all().delete()
    return whole


@pytest.mark.django_db
def test_it_imports_overlapping_pages_of_the_seed_as_the_whole_seed(tmp_path):
    whole = _whole_seed_export()

    assert _import(*_seed_pages(tmp_path, *CUTS)) == SEED_SLUG

    assert _export() == whole


@pytest.mark.django_db
def test_it_imports_the_pages_one_at_a_time_and_again_without_doubling_a_post(tmp_path):
    whole = _whole_seed_export()
    first, second, third = _seed_pages(tmp_path, *CUTS)

    for page in (first, second, third, second, first, third):
        _import(page)

    assert _export() == whole
    assert set(Post.objects.values_list("version", flat=True)) == {1}
    assert PostRevision.objects.count() == Post.objects.count() == len(whole["posts"])


@pytest.mark.django_db
def test_it_scores_the_merged_seed_with_no_wrong_answers(tmp_path):
    _import(*_seed_pages(tmp_path, *CUTS))
    tally = tmp_path / "tally.json"
    tally.write_text(_run("tally", SEED_SLUG, chapter=2, format="json"), encoding="utf-8")

    scored = subprocess.run(
        [sys.executable, str(CHECKER), str(tally), str(EXPECT_000)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert " 0 wrong" in scored.stdout.strip().splitlines()[-1]


@pytest.mark.django_db
def test_it_edits_a_post_that_changed_when_its_page_is_pasted_again(tmp_path):
    first, second = _seed_pages(tmp_path, (0, 7), (5, 12))
    _import(first, second)
    text = second.read_text(encoding="utf-8")
    changed = text.replace("1. B. Good riddance to these traitors.", "1. A. Mercy for them.", 1)
    assert changed != text
    second.write_text(changed, encoding="utf-8")

    _import(second)

    edited = Post.objects.filter(version=2)
    assert [(p.ref, p.body.startswith("1. A. Mercy for them.")) for p in edited] == [(7, True)]
    assert Post.objects.count() == 12


@pytest.mark.django_db
def test_it_keeps_the_chapter_and_vote_of_the_first_page_when_more_pages_come(tmp_path):
    first, second, third = _seed_pages(tmp_path, *CUTS)
    _import(first)
    vote = Vote.objects.get()

    _import(second, third)

    assert Vote.objects.get() == vote
    assert list(Chapter.objects.values_list("number", flat=True)) == [2]


# --- Bad pastes -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_names_the_bad_file_among_several_and_saves_nothing(tmp_path):
    first, second = _seed_pages(tmp_path, (0, 7), (5, 12))
    second.write_text(f"{SEP}\n{SEP}\nTop\n", encoding="utf-8")

    with pytest.raises(CommandError, match=re.escape(f"cannot read {second}: The paste holds no")):
        _import(first, second)

    assert not Quest.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_html_page_read_as_a_paste(tmp_path):
    page = tmp_path / "page.html"
    page.write_text((ROOT / "tests/fixtures/xenforo/thread-page-1.html").read_text())

    with pytest.raises(CommandError, match="it is an HTML page, not a plain-text paste"):
        _import(page)

    assert not Quest.objects.exists()


@pytest.mark.django_db
def test_it_refuses_to_paste_into_a_quest_imported_from_a_forum(tmp_path):
    _run("import_thread", str(SHARED / "examples" / "red-alert-ch2.thread.json"))
    before = list(Post.objects.values_list("ref", "version"))

    with pytest.raises(CommandError, match="was not imported from pastes"):
        _run("import_thread", str(SEED_000), format="text", slug="red-alert-1953")

    assert list(Post.objects.values_list("ref", "version")) == before
