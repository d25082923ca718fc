"""Importing a plain-text copy of a thread page (`import_thread --format text`).

`parse_paste` is pure and tested with tables of small hand-made pastes; the
seeds in ../shared/seeds are imported and tallied through the commands, and the
tally of seed 000 is scored by the shared checker.
"""

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from chapters.models import Chapter, Option, Prompt, Vote
from quest.models import Post, PostRevision, Quest
from votes.importers.paste import PasteError, parse_paste
from votes.models import Ballot, Reading

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_000 = SHARED / "seeds" / "000_9173bf5eb362a06d.txt"
SEED_001 = SHARED / "seeds" / "001_c2293e6163015d8a.txt"
EXPECT_000 = SHARED / "examples" / "seed-000-paste.expect.json"
CHECKER = SHARED / "tools" / "check_tally.py"

SEP = "\u00a0"  # the line between two posts holds only a no-break space

PROMPTS = (
    "1. Should we build the dam on the river?\n"
    "A) Yes, build it\n"
    "B) No, leave the river be\n"
    "\n"
    "2. Please write down what the engineers should study first."
)
BALLOT = (
    "1-A. The dam gives us power for the whole valley.\n"
    "2-The soil of the northern bank before anything else."
)

OWN_BALLOT = "1-B, the river is sacred to the valley folk.\n2-Study the fish."


def _paste(*posts: str, title: str | None = None, footer: str = "") -> str:
    head = f"{title}\n\n" if title else ""
    return head + f"\n{SEP}\n".join(posts) + f"\n{SEP}\n{footer}"


def _bodies(doc: dict) -> list[str]:
    return [p["body"] for p in doc["posts"]]


# --- Splitting, titles, times ---------------------------------------------------------


def test_it_splits_posts_on_no_break_space_lines_with_any_padding_and_line_ends():
    text = f"First post\r\n \t{SEP} \r\nSecond post\r\n{SEP}\t\r\nThird\r\n"

    doc = parse_paste(text)

    assert _bodies(doc) == ["First post", "Second post", "Third"]
    assert [(p["id"], p["author"]) for p in doc["posts"]] == [(1, "#1"), (2, "#2"), (3, "#3")]


def test_it_gives_the_post_before_a_last_edited_line_an_edit_time():
    doc = parse_paste(_paste("One", "Last edited:\nTwo", "Three", "Last edited: Apr 21"))

    edited = [p["edited_at"] for p in doc["posts"]]
    assert _bodies(doc) == ["One", "Two", "Three"]
    assert edited == ["2000-01-01T00:01:30Z", None, "2000-01-01T00:03:30Z"]


def test_it_gives_posts_strictly_increasing_synthetic_times():
    doc = parse_paste(_paste("a", "b", "c", "d"))

    times = [p["posted_at"] for p in doc["posts"]]
    assert times == sorted(set(times))
    assert times[0] == "2000-01-01T00:01:00Z"


FOOTERS = [
    pytest.param("Top", id="top"),
    pytest.param("Top\n", id="top and a newline"),
    pytest.param(f"Last edited:\nTop\n{SEP}\n", id="an edit line, the footer, a separator"),
    pytest.param("Reply\nPrev\nNext\nPage 2 of 5\nTop", id="page navigation"),
]


@pytest.mark.parametrize("footer", FOOTERS)
def test_it_drops_the_page_footer(footer):
    doc = parse_paste(_paste("One", "Two", footer=footer))

    assert _bodies(doc) == ["One", "Two"]


TITLES = [
    pytest.param(
        "Red Alert - Our 1953 USSR\n\nHello there", "Red Alert - Our 1953 USSR", id="title"
    ),
    pytest.param("Great update!\n\nI agree", None, id="a sentence is a post"),
    pytest.param("Red Alert\n", None, id="a lone line is a post"),
    pytest.param("Chapter One: Dawn\n\nLong text", None, id="a chapter heading is a post"),
    pytest.param("Red Alert\nI agree", None, id="no blank line under it"),
]


@pytest.mark.parametrize(("text", "title"), TITLES)
def test_it_takes_a_short_first_line_standing_alone_as_the_title(text, title):
    doc = parse_paste(text + f"\n{SEP}\nSecond")

    assert doc["quest"]["title"] == (title or "Pasted thread")
    assert (title is None) == doc["posts"][0]["body"].startswith(text.split("\n")[0])


def test_it_makes_the_slug_from_the_title_unless_given_one():
    text = _paste("Hello there", title="Red Alert - Our 1953 USSR (Nación)")

    assert parse_paste(text)["quest"]["slug"] == "red-alert-our-1953-ussr-nacion"
    assert parse_paste(text, slug="mine")["quest"]["slug"] == "mine"
    assert parse_paste("no title here")["quest"]["slug"].startswith("paste-")
    assert (
        parse_paste("no title here")["quest"]["slug"]
        == parse_paste("no title here")["quest"]["slug"]
    )


def test_it_drops_expanders_wraps_image_names_and_keeps_mentions():
    text = _paste("main-qimg-151c3a9f-lq.jpg\n(A caption)\nClick to expand...\n@panpiotr hi")

    assert _bodies(parse_paste(text)) == [
        "[IMG]main-qimg-151c3a9f-lq.jpg[/IMG]\n(A caption)\n@panpiotr hi"
    ]


# --- Chapters, the vote and the quest master ------------------------------------------


CHAPTER_TITLES = [
    pytest.param(["Chapter Two: Beria's Final Gamble (March - April 1953)"], [2], id="word"),
    pytest.param(["Chapter 5"], [5], id="digits"),
    pytest.param(["Part III"], [3], id="roman"),
    pytest.param(["Chapter Twenty-One - The Thaw"], [21], id="compound word"),
    pytest.param(["Chapter Five: Berlin Conference Part I"], [5], id="first number wins"),
    pytest.param(["Chapter 3: A", "Interlude", "Chapter: C"], [3, 4, 5], id="unnumbered follow"),
    pytest.param(["Chapter Five: X Part I", "Chapter Five: X Part II"], [5], id="continued"),
    pytest.param(["Part one of my plan is to wait"], [], id="prose is not a title"),
    pytest.param(["Chapter Two is great, I agree"], [], id="no separator after the number"),
]


@pytest.mark.parametrize(("first_lines", "numbers"), CHAPTER_TITLES)
def test_it_numbers_chapters_from_their_titles(first_lines, numbers):
    posts = ["Chatter before"] + [f"{line}\n\nThe story goes on." for line in first_lines]

    doc = parse_paste(_paste(*posts))

    assert [c["number"] for c in doc["chapters"]] == numbers


def test_it_finds_the_vote_post_and_makes_it_the_quest_masters():
    doc = parse_paste(_paste("Before", "Chapter 2: Dam\n\nStory.", PROMPTS, BALLOT, "Chapter 3"))

    chapter_2, chapter_3 = doc["chapters"]
    vote = chapter_2.pop("vote")
    assert chapter_2 == {"number": 2, "title": "Chapter 2: Dam", "post": 2}
    assert (vote["post"], vote["opens_at"], vote["closes_at"]) == (3, "2000-01-01T00:03:00Z", None)
    assert [(p["number"], p["kind"], len(p["options"])) for p in vote["prompts"]] == [
        (1, "single", 2),
        (2, "write_in", 0),
    ]
    assert chapter_3["vote"] is None
    assert doc["quest"]["quest_master"] == "#2"
    assert [p["author"] for p in doc["posts"]] == ["#1", "#2", "#2", "#4", "#2"]


def test_it_finds_prompts_at_the_end_of_the_chapter_post_itself():
    doc = parse_paste(_paste("Chapter 2: Dam\n\nStory.\n\n" + PROMPTS, BALLOT))

    assert doc["chapters"][0]["vote"]["post"] == 1


def test_it_does_not_take_a_numbered_list_in_the_story_for_the_vote():
    story = (
        "Chapter 2: Dam\n\nThe plan had steps:\n1. Dig the channel\n2. Pour the wall\n\n"
        "It failed.\n\nThe river rose.\n\nWinter came.\n\nThe valley waited."
    )

    doc = parse_paste(_paste(story, PROMPTS))

    assert doc["chapters"][0]["vote"]["post"] == 2


def test_it_finds_the_vote_at_the_end_of_a_chapter_longer_than_detection_reads():
    story = "Chapter 2: Dam\n\n" + "A long day on the river bank.\n\n" * 3000

    doc = parse_paste(_paste(story + PROMPTS, BALLOT))

    vote = doc["chapters"][0]["vote"]
    assert vote["post"] == 1
    assert [p["number"] for p in vote["prompts"]] == [1, 2]


# A Sufficient Velocity chapter ending in a forum-style [X] vote: "[ ]" suggestions.
X_CHAPTER = (
    "Chapter 3: The Shelf\n\n"
    "The ice shelf cracked at dawn. The Meridian's wreck lay two kilometres north.\n\n"
    "[B]What do you do?[/B]\n"
    "[ ] Scout the wreck of the Meridian\n"
    "[ ] Repair the reactor\n"
    "-[ ] With the spare parts in the hold\n"
    "[ ] Write-in"
)
X_BALLOT = "[X] Repair the reactor\n-[X] With the spare parts in the hold"


def test_it_finds_a_vote_of_suggestion_lines_at_the_end_of_the_chapter_post():
    doc = parse_paste(_paste(X_CHAPTER, X_BALLOT, "[X] Scout the wreck of the Meridian"))

    vote = doc["chapters"][0]["vote"]
    assert vote["post"] == 1
    assert vote["prompts"] == [
        {"number": 1, "kind": "lines", "text": "What do you do?", "options": []}
    ]
    assert [p["author"] for p in doc["posts"]] == ["#1", "#2", "#3"]


def test_it_does_not_take_suggestion_lines_in_the_middle_of_the_story_for_the_vote():
    story = X_CHAPTER + "\n\nThe crew argued.\n\nNobody slept.\n\nThe wind rose.\n\nDawn came."

    doc = parse_paste(_paste(story, PROMPTS))

    assert doc["chapters"][0]["vote"]["post"] == 2


def test_it_makes_the_first_poster_the_quest_master_when_there_is_no_chapter():
    doc = parse_paste(_paste("Hello", "World"))

    assert doc["quest"]["quest_master"] == "#1"
    assert doc["chapters"] == []


# --- Quotes -----------------------------------------------------------------------------


def _q(source: str, post: int, text: str) -> str:
    return f'[QUOTE="{source}, post: {post}"]\n{text}\n[/QUOTE]'


CHAPTER = "Chapter 2: Dam\n\nStory."
QUOTES = [
    pytest.param(
        f"{PROMPTS}\n{OWN_BALLOT}",
        f"{_q('#1', 2, PROMPTS)}\n{OWN_BALLOT}",
        id="a copied prompt block names the prompt post",
    ),
    pytest.param(
        "Should we build the dam on the river?\nYes, for the power.",
        f"{_q('#1', 2, 'Should we build the dam on the river?')}\nYes, for the power.",
        id="a prompt copied without its number",
    ),
    pytest.param(
        f"{BALLOT}\nI second this.",
        f"{_q('#3', 3, BALLOT)}\nI second this.",
        id="a copied ballot names the ballot's post",
    ),
    pytest.param(
        "The dam gives us power for the whole valley.\nBut what about the fish?",
        f"{_q('#3', 3, 'The dam gives us power for the whole valley.')}\nBut what about the fish?",
        id="a sentence copied out of a line",
    ),
    pytest.param("Agreed\n1-A", "Agreed\n1-A", id="short lines are the poster's own"),
    pytest.param(
        "1. Should we build the dam on the river?\nB) No, leave the river be",
        f"{_q('#1', 2, '1. Should we build the dam on the river?')}\nB) No, leave the river be",
        id="a copied option under a copied prompt is the answer",
    ),
    pytest.param(
        "1. Should we build the dam on the river?\nA) Yes, build it\n\n2. Please write",
        f"{_q('#1', 2, '1. Should we build the dam on the river?')}\nA) Yes, build it\n\n"
        "2. Please write",
        id="a copied first option is the answer when the prompt has more",
    ),
    pytest.param(
        "B) No, leave the river be\n2. Please write down what the engineers should study first.",
        "B) No, leave the river be\n"
        + _q("#1", 2, "2. Please write down what the engineers should study first."),
        id="an option line does not start a quote",
    ),
]


@pytest.mark.parametrize(("last", "body"), QUOTES)
def test_it_recovers_quotes_of_earlier_posts(last, body):
    doc = parse_paste(_paste(CHAPTER, PROMPTS, BALLOT, "Agreed\n1-A", last))

    assert doc["posts"][-1]["body"] == body


def test_it_names_the_earliest_post_that_holds_the_whole_copied_run():
    # #4 copied #3's ballot; #5 copies it again: the ballot is #3's, not #4's.
    doc = parse_paste(_paste(CHAPTER, PROMPTS, BALLOT, f"{BALLOT}\n+1", f"{BALLOT}\nSame"))

    assert _bodies(doc)[3:] == [f"{_q('#3', 3, BALLOT)}\n+1", f"{_q('#3', 3, BALLOT)}\nSame"]


def test_it_quotes_a_copied_prompt_block_and_ballot_as_one_quote_of_the_ballot_post():
    # Quoting #3 whole copies the prompts #3 had quoted: the quote is of #3.
    ballot_post = f"{PROMPTS}\n{BALLOT}"

    doc = parse_paste(_paste(CHAPTER, PROMPTS, ballot_post, f"{ballot_post}\nThis."))

    assert doc["posts"][-1]["body"] == f"{_q('#3', 3, ballot_post)}\nThis."


def test_it_indexes_a_large_paste_in_one_pass():
    # 2,000 posts, each quoting the one before: a quadratic scan would take minutes.
    posts = [f"Post {i} says something long enough to be quoted, number {i}." for i in range(2000)]
    chained = [posts[0]] + [f"{posts[i - 1]}\n{posts[i]}" for i in range(1, len(posts))]

    doc = parse_paste(_paste(*chained))

    assert doc["posts"][-1]["body"] == f"{_q('#1999', 1999, posts[1998])}\n{posts[1999]}"


# --- Bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n\n", f"{SEP}\n{SEP}\nTop\n", "Last edited:\nTop"])
def test_it_refuses_a_paste_with_no_posts(text):
    with pytest.raises(PasteError):
        parse_paste(text)


# --- The commands -----------------------------------------------------------------------


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Quest, Post, PostRevision, Chapter, Vote, Prompt, Option, Reading, Ballot)
    return {m.__name__: m.objects.count() for m in (*models, get_user_model())}


@pytest.mark.django_db
def test_it_imports_seed_000_and_its_tally_scores_0_wrong(tmp_path):
    slug = _run("import_thread", str(SEED_000), format="text").strip()
    tally_path = tmp_path / "tally.json"
    tally_path.write_text(_run("tally", slug, chapter=2, format="json"), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(CHECKER), str(tally_path), str(EXPECT_000)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 wrong" in result.stdout
    vote = Vote.objects.get(chapter__quest__slug=slug, chapter__number=2)
    assert (vote.post.ref, vote.post.author.username) == (4, "#3")
    assert vote.chapter.quest.quest_master.username == "#3"


@pytest.mark.django_db
def test_it_guesses_text_when_no_format_is_given():
    slug = _run("import_thread", str(SEED_000)).strip()

    assert Post.objects.filter(quest__slug=slug).count() == 15


@pytest.mark.django_db
def test_it_imports_seed_001_with_a_chapter_and_no_vote():
    slug = _run("import_thread", str(SEED_001), format="text").strip()

    chapter = Chapter.objects.get(quest__slug=slug)
    assert chapter.number == 5
    assert not Vote.objects.filter(chapter__quest__slug=slug).exists()
    assert not Ballot.objects.exists()
    with pytest.raises(CommandError, match="has no vote on chapter 5"):
        _run("tally", slug, chapter=5)


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_paste_is_imported_twice():
    _run("import_thread", str(SEED_000), format="text")
    before = _counts()
    bodies = list(Post.objects.order_by("ref").values_list("ref", "author__username", "body"))

    _run("import_thread", str(SEED_000), format="text")

    assert _counts() == before
    assert list(Post.objects.order_by("ref").values_list("ref", "author__username", "body")) == (
        bodies
    )


BAD_PASTES = [
    pytest.param(b"", "the file is empty", id="empty"),
    pytest.param(b"\n \n", "the file is empty", id="blank"),
    pytest.param(bytes(range(256)) * 4, "not UTF-8 text", id="binary garbage"),
    pytest.param(b"abc\x00\x01\x02def", "it is binary", id="NUL bytes"),
    pytest.param(f"{SEP}\n{SEP}\nTop\n".encode(), "holds no posts", id="no posts"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "message"), BAD_PASTES)
def test_it_refuses_a_bad_paste_and_saves_nothing(tmp_path, content, message):
    _run("import_thread", str(SEED_000), format="text")
    before = _counts()
    path = tmp_path / "bad.txt"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=re.escape(message)):
        _run("import_thread", str(path), format="text")

    assert _counts() == before


@pytest.mark.django_db
def test_it_still_reads_json_by_default(tmp_path):
    doc = parse_paste(SEED_000.read_text(encoding="utf-8"), slug="from-json")
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(doc), encoding="utf-8")

    assert _run("import_thread", str(path)).strip() == "from-json"
