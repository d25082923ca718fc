"""Bad input to any page gets a clear message or a 4xx page, never a 500."""

import importlib
import re
from urllib.parse import quote_plus

import pytest
from django import forms
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Chapter, Vote, VoteEvent
from chapters.prompts import TEXT_MAX_CHARS, OptionData, PromptData, prompts_problems
from quest.forms import TextField
from quest.models import Membership, Post, Quest
from tests.factories import chapter_url, make_post, make_vote, prompt_list, vote_in
from votes.models import Decision, Outcome

pytestmark = pytest.mark.django_db

HUGE = "9" * 30  # a number no database column holds


@pytest.fixture
def signed_in(client, player):
    client.force_login(player)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/q/no-such-quest/",
        "/q/no-such-quest/p/1/",
        "/q/the-red-alert/p/999/",
        f"/q/the-red-alert/p/{HUGE}/",
        f"/q/the-red-alert/p/{HUGE}/edit/",
        f"/q/the-red-alert/p/{HUGE}/revisions/",
        "/q/no-such-quest/moderators/",
        "/nowhere/",
    ],
)
def test_it_answers_unknown_things_with_a_404_page(signed_in, quest, path):
    response = signed_in.get(path)

    assert response.status_code == 404
    assert "Not found" in response.text
    assert reverse("home") in response.text  # a way back


def test_it_refuses_an_empty_reply_with_a_message(signed_in, quest):
    for body in ["", "   \n\t  "]:
        response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

        assert response.status_code == 400
        assert "the message is empty" in response.text
    assert not Post.objects.exists()


def test_it_refuses_an_oversize_reply_and_keeps_the_text(signed_in, quest):
    body = "x" * (settings.POST_MAX_CHARS + 1)

    response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

    assert response.status_code == 400
    assert f"at most {settings.POST_MAX_CHARS:,} characters" in response.text
    assert body in response.text  # nothing typed is lost
    assert not Post.objects.exists()


def test_it_accepts_a_reply_of_exactly_the_limit(signed_in, quest):
    body = "x" * settings.POST_MAX_CHARS

    response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

    assert response.status_code == 302
    assert Post.objects.get().body == body


def test_it_stores_browser_line_breaks_as_newlines(signed_in, quest):
    signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": "1-A\r\n2-B\r3-C"})

    assert Post.objects.get().body == "1-A\n2-B\n3-C"


def test_it_refuses_nul_characters_with_a_message(signed_in, quest):
    response = signed_in.post(
        reverse("post-reply", args=[quest.slug]), {"body": "1-A\x00 and more"}
    )

    assert response.status_code == 400
    assert "NUL character" in response.text
    assert not Post.objects.exists()


def test_it_keeps_the_text_of_a_failed_reply(signed_in, quest):
    response = signed_in.post(
        reverse("post-reply", args=[quest.slug]), {"body": "<b>my long vote</b>\x00"}
    )

    assert "&lt;b&gt;my long vote&lt;/b&gt;" in response.text
    assert "Your text is still in the box" in response.text


@pytest.mark.parametrize("name", ["post-reply", "bbcode-preview"])
def test_it_survives_invalid_utf8(signed_in, quest, name):
    url = reverse(name, args=[quest.slug]) if name == "post-reply" else reverse("bbcode-preview")

    response = signed_in.generic(
        "POST", url, data=b"body=%ff%fe", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code in (200, 400)
    assert "not valid UTF-8" in response.text
    assert not Post.objects.exists()


def test_it_survives_invalid_utf8_in_the_edit_form(signed_in, quest, player):
    post = make_post(quest, player, "1-A")

    response = signed_in.generic(
        "POST",
        reverse("post-edit", args=[quest.slug, post.ref]),
        data=b"body=1-B%c3%28",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    post.refresh_from_db()
    assert post.body == "1-A"


def test_it_refuses_an_empty_edit_and_keeps_the_post(signed_in, quest, player):
    post = make_post(quest, player, "1-A")

    response = signed_in.post(reverse("post-edit", args=[quest.slug, post.ref]), {"body": ""})

    assert response.status_code == 400
    assert "the message is empty" in response.text
    post.refresh_from_db()
    assert post.body == "1-A"


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1.5", "%00", HUGE, ""])
def test_it_shows_a_page_for_any_page_number(client, quest, player, page):
    for n in range(30):
        make_post(quest, player, f"post {n}")

    response = client.get(reverse("quest-thread", args=[quest.slug]) + f"?page={page}")

    assert response.status_code == 200
    assert 'id="post-' in response.text


def test_it_shows_the_first_page_for_a_non_integer_page(client, quest, player):
    for n in range(30):
        make_post(quest, player, f"post {n}")

    response = client.get(reverse("quest-thread", args=[quest.slug]) + "?page=abc")

    assert "Page 1 of 2" in response.text


@pytest.mark.parametrize("quote", ["abc", HUGE, "999", "-1", ""])
def test_it_ignores_a_quote_of_nothing(signed_in, quest, quote):
    response = signed_in.get(reverse("quest-thread", args=[quest.slug]) + f"?quote={quote}")

    assert response.status_code == 200
    assert re.search(r"<textarea[^>]*>\s*</textarea>", response.text)


def test_it_explains_an_unknown_username(client, quest, quest_master):
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-moderators", args=[quest.slug]),
        {"action": "appoint", "username": "nobody-here"},
    )

    assert response.status_code == 400
    assert "There is no user called “nobody-here”." in response.text
    assert 'value="nobody-here"' in response.text


@pytest.mark.parametrize("user", ["", "abc", HUGE, "123456"])
def test_it_handles_removing_a_non_moderator(client, quest, quest_master, user):
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-moderators", args=[quest.slug]), {"action": "remove", "user": user}
    )

    assert response.status_code == 302
    assert Membership.objects.filter(quest=quest).count() == 1


def test_it_refuses_a_get_to_a_post_only_url(signed_in, quest):
    assert signed_in.get(reverse("post-reply", args=[quest.slug])).status_code == 405


def test_it_has_a_standalone_500_page():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Something went wrong" in html and "{%" not in html


def test_it_renders_the_400_and_403_pages(rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import bad_request, permission_denied

    request = rf.get("/")
    assert bad_request(request, ValueError()).status_code == 400
    forbidden = permission_denied(request, PermissionDenied("Only the quest master can do this."))
    assert forbidden.status_code == 403
    assert b"Only the quest master can do this." in forbidden.content


# --- Raw bytes that are not UTF-8 -----------------------------------------------------
# A browser percent-encodes a form; a script may send raw bytes instead. Both get
# the same message, and nothing is stored.

RAW_NOT_UTF8 = "application/x-www-form-urlencoded"


def _post_raw(client, url: str, body: bytes):
    return client.generic("POST", url, data=body, content_type=RAW_NOT_UTF8)


@pytest.mark.parametrize("name", ["post-reply", "bbcode-preview"])
def test_it_refuses_raw_bytes_that_are_not_utf8(signed_in, quest, name):
    url = reverse(name, args=[quest.slug]) if name == "post-reply" else reverse("bbcode-preview")

    response = _post_raw(signed_in, url, b"body=1-A \xff\xfe and more")

    assert response.status_code in (200, 400)
    assert "not valid UTF-8" in response.text
    assert "\u00ff\u00fe" not in response.text  # no mojibake shown back either
    assert not Post.objects.exists()


def test_it_refuses_raw_bytes_that_are_not_utf8_in_the_edit_form(signed_in, quest, player):
    post = make_post(quest, player, "1-A")

    response = _post_raw(
        signed_in, reverse("post-edit", args=[quest.slug, post.ref]), b"body=1-B\xc3\x28"
    )

    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    post.refresh_from_db()
    assert post.body == "1-A"


def test_it_refuses_raw_bytes_that_are_not_utf8_in_a_new_quest(client, player):
    client.force_login(player)

    response = _post_raw(client, reverse("quest-create"), b"title=The Red \xe9t\xe9&description=")

    assert "not valid UTF-8" in response.text
    assert not Quest.objects.filter(quest_master=player).exists()


@pytest.mark.parametrize("field", ["title", "body"])
def test_it_refuses_raw_bytes_that_are_not_utf8_in_a_chapter(client, quest, quest_master, field):
    client.force_login(quest_master)
    fields = {"title": b"The Thaw", "body": b"It was cold."}
    fields[field] += b" \xff"

    response = _post_raw(
        client,
        reverse("chapter-create", args=[quest.slug]),
        b"&".join(k.encode() + b"=" + v for k, v in fields.items()),
    )

    assert "not valid UTF-8" in response.text
    assert not Chapter.objects.exists()


def test_it_refuses_bytes_that_are_not_utf8_in_a_multipart_form(signed_in, quest):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n'.encode()
        + b"1-A \xff\r\n"
        + f"--{boundary}--\r\n".encode()
    )

    response = signed_in.generic(
        "POST",
        reverse("post-reply", args=[quest.slug]),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    assert not Post.objects.exists()


def test_it_keeps_raw_utf8_that_is_valid(signed_in, quest):
    # Not percent-encoded but valid: read as it always was.
    response = _post_raw(
        signed_in, reverse("post-reply", args=[quest.slug]), "body=1-A, café ✓".encode()
    )

    assert response.status_code == 302
    assert Post.objects.get().body == "1-A, café ✓"


# --- Not UTF-8, or NUL, in every other form -------------------------------------------
# The vote's prompts (pasted or built), ballots, moderators' decisions, the quest
# master's reasons and adopted write-ins: each refuses such text with the reply
# box's message, and nothing changes.

BAD_TEXT = [
    pytest.param(b"\xff\xfe", "not valid UTF-8", id="not-utf8"),
    pytest.param(b"%00", "contains a NUL character", id="nul"),
]


def _form_body(fields: dict[str, str | bytes]) -> bytes:
    """A form as a script may send it: text percent-encoded, bytes exactly as given."""
    return b"&".join(
        quote_plus(name).encode() + b"=" + (v if isinstance(v, bytes) else quote_plus(v).encode())
        for name, v in fields.items()
    )


def _post_form(client, url: str, fields: dict[str, str | bytes], **extra):
    return client.generic("POST", url, data=_form_body(fields), content_type=RAW_NOT_UTF8, **extra)


def _shown(response) -> str:
    """The page, or for a redirect the messages it leaves for the next page."""
    if response.status_code == 302:
        return " ".join(str(m) for m in get_messages(response.wsgi_request))
    return response.text


@pytest.fixture
def draft(quest, quest_master) -> Chapter:
    return chapter_services.chapter_create(quest=quest, title="T", body="", by=quest_master)


@pytest.fixture
def open_vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, prompt_list("single", "write_in"))


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
@pytest.mark.parametrize("op", ["detect", "save"])
def test_it_refuses_bad_text_in_a_pasted_vote(client, quest_master, draft, bad, message, op):
    client.force_login(quest_master)
    url = reverse("vote-paste", args=[draft.quest.slug, draft.number])
    text = b"1.+Where+do+we+march%3F%0AA)+North" + bad + b"%0AB)+South"

    response = _post_form(client, url, {"text": text, "op": op, "results_visibility": "always"})

    assert message in response.text
    assert "detected-heading" not in response.text  # nothing detected from it
    assert not Vote.objects.exists()


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
@pytest.mark.parametrize(
    ("field", "label"), [("p-0-text", "Prompt 1: "), ("p-0-o-1-text", "Prompt 1: option B: ")]
)
def test_it_refuses_bad_text_in_the_prompt_builder(
    client, quest_master, draft, bad, message, field, label
):
    client.force_login(quest_master)
    fields = {
        "op": "save",
        "results_visibility": "always",
        "p-0-number": "1",
        "p-0-kind": "single",
        "p-0-text": "Where do we march?",
        "p-0-o-0-letter": "A",
        "p-0-o-0-text": "North",
        "p-0-o-1-letter": "B",
        "p-0-o-1-text": "South",
    }
    fields[field] = fields[field].encode() + bad

    response = _post_form(
        client, reverse("vote-prompts", args=[draft.quest.slug, draft.number]), fields
    )

    assert label + ("Part of this text" if "UTF-8" in message else "The text") in response.text
    assert message in response.text
    assert not Vote.objects.exists()


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
def test_it_refuses_a_bad_write_in_on_the_ballot_form(client, player, open_vote, bad, message):
    client.force_login(player)
    posts_before = Post.objects.count()

    response = _post_form(
        client, chapter_url(open_vote, "ballot-submit"), {"p1": "A", "p2": b"Kalinka" + bad}
    )

    assert response.status_code == 400
    assert message in response.text
    assert Post.objects.count() == posts_before


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
@pytest.mark.parametrize(
    ("action", "field"), [("reject", "reason"), ("set", "text"), ("set", "letters")]
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_it_refuses_bad_text_in_a_moderators_decision(
    client, moderator, player, open_vote, bad, message, action, field, htmx
):
    post = vote_in(open_vote, player, "1-B")
    client.force_login(moderator)
    fields = {"post": str(post.ref), "prompt": "2" if field == "text" else "1", "action": action}
    fields |= {"reason": "Checked in chat", "text": "", "letters": ""}
    fields[field] = (
        b"Kalinka" if field == "text" else b"A" if field == "letters" else b"Meant A"
    ) + bad
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = _post_form(client, chapter_url(open_vote, "vote-decide"), fields, **headers)

    assert message in _shown(response)
    if htmx:  # said in the post's block, swapped in place
        assert response.text.lstrip().startswith("<article")
    assert not Decision.objects.exists()


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
@pytest.mark.parametrize("action", ["vote-close", "vote-extend", "vote-reopen"])
def test_it_refuses_a_bad_reason_for_running_the_vote(
    client, quest_master, open_vote, bad, message, action
):
    if action == "vote-reopen":
        chapter_services.vote_close(vote=open_vote, by=quest_master)
    status = Vote.objects.get().status
    prefix = {"vote-extend": "extend-", "vote-reopen": "reopen-"}.get(action, "")
    client.force_login(quest_master)
    fields = {f"{prefix}reason": b"Time" + bad, f"{prefix}until_closed": "on"}

    response = _post_form(client, chapter_url(open_vote, action), fields)

    assert message in response.text
    assert Vote.objects.get().status == status
    assert not VoteEvent.objects.filter(reason__startswith="Time").exists()


@pytest.mark.parametrize(("bad", "message"), BAD_TEXT)
def test_it_refuses_to_adopt_a_bad_write_in(client, quest_master, player, open_vote, bad, message):
    vote_in(open_vote, player, "1-A\n2-Kalinka")
    chapter_services.vote_close(vote=open_vote, by=quest_master)
    client.force_login(quest_master)

    response = _post_form(
        client,
        chapter_url(open_vote, "vote-outcome"),
        {"prompt": "2", "write_in": b"Kalinka" + bad},
    )

    assert message in _shown(response)
    assert not Outcome.objects.exists()


# Passwords are hashed and never shown; a username is held to Django's username characters.
NOT_FREE_TEXT = {
    ("SignupForm", "password1"),
    ("SignupForm", "password2"),
    ("SignupForm", "username"),
}


def test_every_text_field_of_every_form_refuses_bad_text_the_same_way():
    fields = {
        name: field for name, field in _text_fields() if tuple(name.split(".")) not in NOT_FREE_TEXT
    }

    assert {"VotePasteForm.text", "DecisionForm.reason", "OutcomeForm.write_in"} <= set(fields)
    assert [name for name, field in fields.items() if not isinstance(field, TextField)] == []


# --- Length limits ---------------------------------------------------------------------


def _new_chapter(client, quest, body: str):
    return client.post(
        reverse("chapter-create", args=[quest.slug]), {"title": "Long", "body": body}
    )


def test_it_refuses_an_oversize_chapter_and_keeps_the_text(client, quest, quest_master):
    client.force_login(quest_master)
    body = "x" * (settings.CHAPTER_MAX_CHARS + 1)

    response = _new_chapter(client, quest, body)

    assert (
        f"A chapter can be at most {settings.CHAPTER_MAX_CHARS:,} characters long" in response.text
    )
    assert f"this one has {len(body)}" in response.text
    assert body in response.text  # nothing typed is lost
    assert not Chapter.objects.exists()


def test_it_refuses_an_oversize_edit_of_a_chapter(client, quest, quest_master):
    client.force_login(quest_master)
    _new_chapter(client, quest, "Short.")
    chapter = Chapter.objects.get()

    response = client.post(
        reverse("chapter-edit", args=[quest.slug, chapter.number]),
        {"title": "Long", "body": "x" * (settings.CHAPTER_MAX_CHARS + 1)},
    )

    assert f"at most {settings.CHAPTER_MAX_CHARS:,} characters" in response.text
    chapter.refresh_from_db()
    assert chapter.body == "Short."


def test_it_accepts_a_chapter_of_exactly_the_limit(client, quest, quest_master):
    client.force_login(quest_master)
    body = "x" * settings.CHAPTER_MAX_CHARS

    response = _new_chapter(client, quest, body)

    assert response.status_code == 302
    assert Chapter.objects.get().body == body


def _preview_chapter(client, quest, body: str):
    url = reverse("chapter-preview", args=[quest.slug])
    return client.post(url, {"title": "Long", "body": body}, HTTP_HX_REQUEST="true")


def test_it_previews_a_chapter_longer_than_a_post(client, quest, quest_master):
    # Past a post's limit, within a chapter's: the editor's preview shows it.
    client.force_login(quest_master)
    body = "[B]Long[/B] " + "x" * settings.POST_MAX_CHARS
    assert settings.POST_MAX_CHARS < len(body) <= settings.CHAPTER_MAX_CHARS

    response = _preview_chapter(client, quest, body)

    assert response.status_code == 200
    assert "<b>Long</b>" in response.text
    assert "at most" not in response.text


def test_it_says_the_chapter_limit_in_the_preview(client, quest, quest_master):
    client.force_login(quest_master)

    response = _preview_chapter(client, quest, "x" * (settings.CHAPTER_MAX_CHARS + 1))

    assert (
        f"A chapter can be at most {settings.CHAPTER_MAX_CHARS:,} characters long" in response.text
    )
    assert "A post can be" not in response.text


def test_it_tells_the_browser_the_chapter_limit(client, quest, quest_master):
    client.force_login(quest_master)

    response = client.get(reverse("chapter-create", args=[quest.slug]))

    assert f'maxlength="{settings.CHAPTER_MAX_CHARS}"' in response.text


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (
            {"text": "x" * (TEXT_MAX_CHARS + 1), "options": [("A", "North"), ("B", "South")]},
            f"Prompt 1 is {TEXT_MAX_CHARS + 1:,} characters long; the most is {TEXT_MAX_CHARS:,}.",
        ),
        (
            {"text": "Where?", "options": [("A", "North"), ("B", "y" * (TEXT_MAX_CHARS + 1))]},
            f"Prompt 1: option B is {TEXT_MAX_CHARS + 1:,} characters long; "
            f"the most is {TEXT_MAX_CHARS:,}.",
        ),
    ],
)
def test_it_refuses_an_oversize_prompt_or_option(client, quest, quest_master, prompt, message):
    client.force_login(quest_master)
    chapter = chapter_services.chapter_create(quest=quest, title="T", body="", by=quest_master)
    data = {"op": "save", "results_visibility": "always", "p-0-number": "1", "p-0-kind": "single"}
    data["p-0-text"] = prompt["text"]
    for o, (letter, text) in enumerate(prompt["options"]):
        data[f"p-0-o-{o}-letter"], data[f"p-0-o-{o}-text"] = letter, text

    response = client.post(reverse("vote-prompts", args=[quest.slug, chapter.number]), data)

    assert message in response.text
    assert not Vote.objects.exists()


def test_it_accepts_prompts_and_options_of_exactly_the_limit():
    text = "x" * TEXT_MAX_CHARS
    prompt = PromptData(1, "single", text, [OptionData("A", text), OptionData("B", "South")])

    assert prompts_problems([prompt]) == []


FORM_MODULES = [
    "quest.forms",
    "chapters.forms",
    "votes.forms",
    "votes.views.tally",
    "votes.views.audit",
]
# Passwords are hashed, never stored or shown; Django's validators bound them.
UNBOUNDED = {("SignupForm", "password1"), ("SignupForm", "password2")}


def _text_fields():
    for module in FORM_MODULES:
        for form in vars(importlib.import_module(module)).values():
            if (
                isinstance(form, type)
                and issubclass(form, forms.Form)
                and form.__module__ == module
            ):
                for name, field in form.base_fields.items():
                    if (
                        isinstance(field, forms.CharField)
                        and (form.__name__, name) not in UNBOUNDED
                    ):
                        yield f"{form.__name__}.{name}", field


def test_every_text_field_of_every_form_has_a_length_limit():
    fields = dict(_text_fields())

    assert {"PostForm.body", "ChapterForm.body", "VotePasteForm.text"} <= set(fields)
    assert [name for name, field in fields.items() if field.max_length is None] == []
    assert fields["ChapterForm.body"].max_length == settings.CHAPTER_MAX_CHARS
