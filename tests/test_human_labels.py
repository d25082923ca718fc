"""Every page says things in words: no stored value, no label twice, no chapter named twice.

The walk loads the demo quest (`manage.py load_demo`, its posts read and
tallied as the worker would), then requests every route of the URL conf
(tests/urlmap.py) with the demo's objects, plain and as htmx, as an anonymous
visitor, a player, a moderator and the quest master. In the text a person
sees (tags stripped; attribute values, where stored values belong, ignored)
it looks for:

- the stored values of the models' choices and of the reader's post kinds
  (`not_ballot`, `write_in`, `quest_master`, `after_close`…);
- single-word values (`single`, `multi`, `ranked`…) standing as a label: a
  whole element's text, or in brackets beside a prompt;
- a label said twice ("(choose any) (choose any)");
- a chapter named twice ("Chapter 3: Chapter Three: …").
"""

import io
import re
from html.parser import HTMLParser
from itertools import product

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from chapters import labels
from chapters.kinds import PromptKind
from chapters.models import Chapter, Vote
from quest.models import Post, Quest
from tests import urlmap
from tests.factories import make_post, make_quest, make_user, make_vote, prompt_list
from votes import services as vote_services
from votes.models import ImportJob
from votes.reading.types import PostKind
from votes.templatetags.vote_tags import ranked_method

pytestmark = pytest.mark.django_db

# The demo's accounts (votes/management/commands/load_demo.py), by persona.
PERSONAS = {
    "anonymous": None,
    "player": "RedBanner",
    "moderator": "Lyudmila_K",
    "quest_master": "panpiotr",
}
HTMX = {"HX-Request": "true"}
QUERIES = {
    "quest-thread": ["?page=last"],
    "vote-audit": ["?show=all", "?show=excluded", "?show=mentions"],
}
_HIDDEN = {"script", "style", "template"}


class _VisibleText(HTMLParser):
    """Text nodes a person sees, in order: no attribute values, no script or style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in _HIDDEN

    def handle_endtag(self, tag):
        self._hidden -= tag in _HIDDEN and self._hidden > 0

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.nodes.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.nodes


def _stored_values() -> set[str]:
    """Every value the app stores for a choice whose label people read instead."""
    values = {str(kind) for kind in PostKind} | {str(kind) for kind in PromptKind}
    for model in apps.get_models():
        if model._meta.app_label not in {"quest", "chapters", "votes"}:
            continue
        for field in model._meta.get_fields():
            for value, label in getattr(field, "choices", None) or []:
                if isinstance(value, str) and value != label:
                    values.add(value)
    # "on" and "off" (a `lines` prompt's proxies) are words a sentence holds between two
    # links ("posted by X on <date>"): standing alone they are English, not a value.
    values -= {"on", "off"}
    return {value for value in values if re.fullmatch(r"[a-z][a-z_]*", value)}


STORED = _stored_values()
# With an underscore a value is never a word of English: it may appear nowhere.
_SNAKE = re.compile(
    r"(?<![\w-])("
    + "|".join(sorted((v for v in STORED if "_" in v), key=len, reverse=True))
    + r")(?![\w-])"
)
_DOUBLED = re.compile(r"(\([^()]{2,40}\))\s*\1", re.IGNORECASE)
_CHAPTER_TWICE = re.compile(r"Chapter \d+: (?:Chapter|Part|Book|Prologue|Epilogue)\b")


def problems(nodes: list[str]) -> list[str]:
    """What on a page shows the app's insides, or says a label or a chapter twice."""
    found = []
    text = " ".join(nodes)
    found += [f"stored value {m.group(1)!r}" for m in _SNAKE.finditer(text)]
    found += [f"a label standing as {node!r}" for node in nodes if node.strip("()") in STORED]
    found += [f"said twice: {m.group(0)!r}" for m in _DOUBLED.finditer(text)]
    found += [f"chapter named twice: {m.group(0)!r}" for m in _CHAPTER_TWICE.finditer(text)]
    return found


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    """The demo quest as a visitor finds it: posts read, tallies counted, a few more posts."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
        quest = Quest.objects.get(slug="red-alert-1953")
        newcomer = User.objects.get(username="newcomer")
        make_post(quest, newcomer, "1-A\n2-A, C\n3: B > A > C\n4-Grain to the cities")
        make_post(quest, newcomer, "Great chapter, comrade!")
        make_post(quest, User.objects.get(username="RedBanner"), "I lean to the armistice, maybe?")
    for vote in Vote.objects.filter(chapter__quest=quest):
        vote_services.vote_recount(vote_id=vote.pk)
    return quest


def test_it_finds_the_app_s_insides_when_a_page_shows_them():
    assert "not_ballot" in STORED and "write_in" in STORED and "quest_master" in STORED
    assert {"single", "multi", "after_close"} <= STORED
    assert problems(["Read as", "not_ballot"]) == [
        "stored value 'not_ballot'",
        "a label standing as 'not_ballot'",
    ]
    assert problems(["2. Which ministries?", "(choose any) (choose any)"]) == [
        "said twice: '(choose any) (choose any)'"
    ]
    assert problems(["Name it (write-in) (write_in)"]) == ["stored value 'write_in'"]
    assert problems(["Prompt 1", "(single)"]) == ["a label standing as '(single)'"]
    assert problems(["Chapter 3: Chapter Three: The Hundred Days"]) == [
        "chapter named twice: 'Chapter 3: Chapter'"
    ]
    assert problems(["A single choice", "Lyudmila_K", "write-ins", "Chapter 3: The Pass"]) == []


def test_it_shows_no_internal_name_on_any_page_of_the_demo_quest(demo):
    chapters = list(Chapter.objects.filter(quest=demo))
    player = User.objects.get(username="RedBanner")
    values = {
        "slug": [demo.slug],
        "number": [chapter.number for chapter in chapters],
        "ref": list(Post.objects.filter(quest=demo).values_list("ref", flat=True)),
        "uidb64": [urlsafe_base64_encode(force_bytes(player.pk))],
    }
    # The quest master imported the demo thread: the import's summary names its prompts.
    importer = User.objects.get(username=PERSONAS["quest_master"])
    imported = ImportJob.objects.create(by=importer, kind="files", status="done", quest=demo)
    values["pk"] = [imported.pk]
    tokens = {
        "join/<str:token>/": [demo.invite_token],
        "reset/<uidb64>/<token>/": [default_token_generator.make_token(player)],
    }
    found, pages = [], 0
    for persona, username in PERSONAS.items():
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        for route in urlmap.routes():
            urls = urlmap.urls(route, values, tokens)
            queries = QUERIES.get(resolve(urls[0]).url_name, [])
            for url, query, headers in product(urls, ["", *queries], [{}, HTMX]):
                response = client.get(url + query, headers=headers)
                if "html" not in response.get("Content-Type", ""):
                    continue
                pages += response.status_code == 200
                for problem in problems(visible_text(response.content.decode())):
                    kind = " (htmx)" if headers else ""
                    found.append(f"{persona} GET {url}{query}{kind}: {problem}")

    assert pages > 150  # the walk reached the quest's pages, not only its error pages
    assert found == [], "\n".join(sorted(set(found)))


def test_it_names_each_demo_chapter_once(demo, client):
    client.force_login(User.objects.get(username="panpiotr"))
    for chapter in Chapter.objects.filter(quest=demo):
        assert labels.names_itself(chapter.title)  # the demo's titles say their number
        pages = [
            reverse("home"),
            reverse("quest-thread", args=[demo.slug]),
            reverse("chapter-index", args=[demo.slug]),
            reverse("chapter-detail", args=[demo.slug, chapter.number]),
        ]
        for url in pages:
            text = " ".join(visible_text(client.get(url).content.decode()))
            assert f"Chapter {chapter.number}: {chapter.title}" not in text, url
        detail = client.get(reverse("chapter-detail", args=[demo.slug, chapter.number]))
        assert f"<h1>{chapter.title}</h1>" in detail.content.decode().replace("&#x27;", "'")


def test_it_says_a_prompt_s_kind_once_when_its_text_says_it_already(client):
    quest_master = make_user("gm")
    quest = make_quest(quest_master)
    prompts = prompt_list(
        "multi",
        "write_in",
        "single",
        texts={
            1: "Which ministries? (choose any)",
            2: "Name it (write-in)",
            3: "Where do we march?",
        },
    )
    vote = make_vote(quest, quest_master, prompts)
    client.force_login(make_user("voter"))

    for name in ("chapter-detail", "ballot-submit"):
        response = client.get(reverse(name, args=[quest.slug, vote.chapter.number]))
        nodes = visible_text(response.content.decode())
        text = " ".join(nodes)
        assert "Which ministries? (choose any)" in text, name
        assert "Name it (write-in)" in text, name
        assert "Where do we march? (pick one)" in text, name
        assert problems(nodes) == [], name  # no "(choose any) (choose any)"


def test_a_ranked_method_is_named_in_words():
    assert ranked_method("instant_runoff") == "instant runoff"
    assert ranked_method("schulze") == "Schulze"
