"""Content-Security-Policy and Permissions-Policy: on every response, and nothing inline to break.

The policy (SECURE_CSP in quest/settings.py) allows scripts and styles from our
own static files only, so a page must hold no inline <script>, <style>,
style="" or on*="" handler: rendered pages are scanned for them. Violations a
browser meets are posted to `csp-report`, which logs them. The Chromium tests
load the pages people use under the real policy and fail on any violation.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from playwright import sync_api

from quest import services as quest_services
from quest.views import CSP_REPORT_MAX_BYTES
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
    vote_in,
)

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list("single", "write_in")

# A post with every kind of markup the thread renders (but images: see IMAGE).
RICH_POST = (
    '[QUOTE="player, post: 1"]1-B[/QUOTE]\n[B]Agreed[/B], [I]south[/I] it is.\n'
    "[SPOILER]the cooks[/SPOILER] [URL=https://example.org/]map[/URL]\n[CODE]1-B[/CODE]\n"
    "[CENTER][SIZE=6]Onwards[/SIZE][/CENTER][COLOR=#2980b9]blue[/COLOR] [RIGHT]signed[/RIGHT]"
)
# Kept out of the browser tests: Chromium has no network here to fetch it.
IMAGE = "[IMG]https://example.org/map.png[/IMG]"


@pytest.fixture
def world(quest, quest_master, moderator, player, outsider):
    """A quest with an open vote, ballots counted and one held back, as each persona sees it."""
    vote = make_vote(quest, quest_master, PROMPTS)
    first = vote_in(vote, player, "1-B\n2-The Internationale")
    vote_in(vote, outsider, f"{RICH_POST}\n{IMAGE}\n1-A")
    vote_in(vote, make_user("waverer"), "Maybe north? Or the south.")
    personas = {"quest_master": quest_master, "moderator": moderator, "player": player}
    return SimpleNamespace(quest=quest, vote=vote, post=first, **personas)


@dataclass(frozen=True)
class Case:
    """One request: who makes it, to what, and what comes back when all is well."""

    kind: str  # page, partial, error page, json, csv, bbcode, redirect, report
    who: str | None  # a persona of `world`, or None for an anonymous visitor
    method: str
    url: object  # world -> URL
    status: int
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)

    def send(self, world) -> object:
        client = Client()
        if self.who:
            client.force_login(getattr(world, self.who))
        send = client.get if self.method == "GET" else client.post
        return send(self.url(world), self.data, **self.headers)


def _quest(name: str, *, query: str = ""):
    return lambda w: reverse(name, args=[w.quest.slug]) + query


def _chapter(name: str, *, query: str = ""):
    return lambda w: chapter_url(w.vote, name) + query


def _plain(name: str):
    return lambda w: reverse(name)


# Every kind of response: full pages, htmx partials, JSON, CSV, BBCode, errors, redirects.
CASES = {
    "home": Case("page", None, "GET", _plain("home"), 200),
    "help": Case("page", None, "GET", _plain("help-voting"), 200),
    "login": Case("page", None, "GET", _plain("login"), 200),
    "signup": Case("page", None, "GET", _plain("signup"), 200),
    "thread": Case("page", "player", "GET", _quest("quest-thread"), 200),
    "thread partial": Case(
        "partial", "player", "GET", _quest("quest-thread", query="?page=1"), 200, headers=HTMX
    ),
    "reply refused": Case(
        "error page", "player", "POST", _quest("post-reply"), 400, data={"body": ""}
    ),
    "bbcode preview partial": Case(
        "partial",
        "player",
        "POST",
        _plain("bbcode-preview"),
        200,
        data={"body": f"{RICH_POST}\n{IMAGE}"},
        headers=HTMX,
    ),
    "post permalink": Case(
        "redirect",
        "player",
        "GET",
        lambda w: reverse("post-permalink", args=[w.quest.slug, w.post.ref]),
        302,
    ),
    "moderators": Case("page", "quest_master", "GET", _quest("quest-moderators"), 200),
    "new quest": Case("page", "player", "GET", _plain("quest-create"), 200),
    "chapter index": Case("page", "player", "GET", _quest("chapter-index"), 200),
    "chapter": Case("page", "quest_master", "GET", _chapter("chapter-detail"), 200),
    "chapter partial": Case(
        "partial", "quest_master", "GET", _chapter("chapter-detail"), 200, headers=HTMX
    ),
    "new chapter": Case("page", "quest_master", "GET", _quest("chapter-create"), 200),
    "vote events": Case("page", "quest_master", "GET", _chapter("vote-events"), 200),
    "ballot": Case("page", "player", "GET", _chapter("ballot-submit"), 200),
    "ballot partial": Case(
        "partial", "player", "GET", _chapter("ballot-submit"), 200, headers=HTMX
    ),
    "reading preview partial": Case(
        "partial",
        "player",
        "POST",
        _chapter("reading-preview"),
        200,
        data={"body": "1-A\n2-Hymn"},
        headers=HTMX,
    ),
    "tally": Case("page", "moderator", "GET", _chapter("chapter-tally"), 200),
    "tally partial": Case("partial", "player", "GET", _chapter("chapter-tally"), 200, headers=HTMX),
    "tally JSON": Case("json", None, "GET", _chapter("chapter-tally-json"), 200),
    "tally BBCode": Case("bbcode", None, "GET", _chapter("chapter-tally-bbcode"), 200),
    "ballots CSV": Case("csv", None, "GET", _chapter("chapter-ballots-csv"), 200),
    "audit": Case("page", "moderator", "GET", _chapter("vote-audit", query="?show=all"), 200),
    "audit partial": Case(
        "partial",
        "moderator",
        "GET",
        _chapter("vote-audit", query="?show=held"),
        200,
        headers=HTMX,
    ),
    "login required": Case("redirect", None, "GET", _chapter("ballot-submit"), 302),
    "404": Case("error page", "player", "GET", lambda w: "/q/no-such-quest/", 404),
    "404 for htmx": Case(
        "error page", "player", "GET", lambda w: "/no/such/page/", 404, headers=HTMX
    ),
    "violation report": Case(
        "report",
        None,
        "POST",
        _plain("csp-report"),
        204,
        data={"csp-report": {}},
        headers={"content_type": "application/json"},
    ),
    "violation report by GET": Case("report", None, "GET", _plain("csp-report"), 405),
}
HTML_CASES = {n: c for n, c in CASES.items() if c.kind in {"page", "partial", "error page"}}


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_it_sends_the_content_security_policy(world, case):
    response = case.send(world)

    assert response.status_code == case.status
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["report-uri"] == [reverse("csp-report")]
    assert "unsafe" not in response["Content-Security-Policy"]  # no unsafe-inline nor -eval


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_it_sends_the_permissions_policy(world, case):
    response = case.send(world)

    assert response.status_code == case.status
    features = dict(f.split("=", 1) for f in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature


def test_it_lets_images_posted_in_bbcode_load_from_https_hosts_only(world):
    # Threads embed pictures hosted elsewhere with [IMG]; nothing else may come from there.
    response = CASES["thread"].send(world)

    policy = _directives(response["Content-Security-Policy"])
    assert policy["img-src"] == ["'self'", "https:"]
    assert '<img src="https://example.org/map.png"' in response.content.decode()


class _InlineFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = [name for name, _ in attrs]
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        if tag == "script" and "src" not in names:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f'<{tag} {name}="{value}"> at line {self.getpos()[0]}')
            if name in {"href", "src", "action"} and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f'<{tag} {name}="{value}"> at line {self.getpos()[0]}')


def _inline_code(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


@pytest.mark.parametrize("case", HTML_CASES.values(), ids=HTML_CASES.keys())
def test_it_renders_no_inline_style_or_script(world, case):
    response = case.send(world)

    assert response.status_code == case.status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert html.strip()
    assert _inline_code(html) == []


def test_it_renders_the_tally_bars_as_meters(world):
    # The bars were style="width: N%" before the policy; a <meter> needs no style.
    vote_in(world.vote, make_user("third"), "1-B")

    response = CASES["tally"].send(world)

    html = response.content.decode()
    assert re.findall(r'<meter class="bar" min="0" max="100" value="(\d+)"', html) == [
        "50",  # 1 A
        "100",  # 2 B
        "100",  # 2 "The Internationale", the one write-in
    ]
    assert _inline_code(html) == []


def test_it_renders_the_500_page_without_inline_style():
    # Django renders it with no request context when a view crashes; it cannot be fetched here.
    html = render_to_string("500.html")

    assert "<h1>Something went wrong</h1>" in html
    assert _inline_code(html) == []


def test_it_finds_inline_code_when_there_is_some():
    # The scans above pass on an empty list: show the finder would see each kind.
    page = (
        '<p style="color:red">a</p><script>alert(1)</script><style>p{}</style>'
        '<img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">b</a>'
        '<script src="/static/js/app.js"></script>'
    )

    assert len(_inline_code(page)) == 5


TEMPLATE_FILES = sorted((ROOT / "templates").rglob("*.html"))
INLINE_IN_SOURCE = re.compile(
    r"<style\b|<script\b(?![^>]*\bsrc=)|<[a-z][^>]*\s(?:style|on[a-z]+)\s*=",
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_it_keeps_inline_styles_and_scripts_out_of_every_template(path):
    # Catches templates the pages above do not reach (a new error page, a branch not taken).
    assert INLINE_IN_SOURCE.findall(path.read_text()) == []


def test_it_sets_no_style_attribute_from_our_javascript():
    # element.style.x = … is allowed by the policy; a style attribute set as markup is not.
    for path in (ROOT / "static").rglob("*.js"):
        source = path.read_text()
        assert not re.search(r"setAttribute\(\s*['\"]style", source), path
        assert not re.search(r"style=|<style", source), path


def test_it_turns_off_htmx_injected_styles_and_keeps_them_in_our_css(db, client):
    html = client.get(reverse("home")).content.decode()

    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert meta is not None
    assert json.loads(meta.group(1))["includeIndicatorStyles"] is False
    assert html.index('name="htmx-config"') < html.index("htmx-2.min.js")
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-indicator { opacity: 0;" in css
    assert ".htmx-request .htmx-indicator" in css


# --- The violation report endpoint ------------------------------------------------------

# What Chromium posts for a blocked inline style (report-uri, application/csp-report).
CHROMIUM_REPORT = {
    "csp-report": {
        "document-uri": "http://testserver/q/the-red-alert/",
        "referrer": "",
        "violated-directive": "style-src-attr",
        "effective-directive": "style-src-attr",
        "original-policy": "default-src 'self'; report-uri /csp-report/",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 12,
        "source-file": "http://testserver/q/the-red-alert/",
        "status-code": 200,
        "script-sample": "",
    }
}


def _report(client, body, **extra):
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        reverse("csp-report"), content, content_type="application/csp-report", **extra
    )


@pytest.fixture
def csrf_client():
    # Browsers post reports without a CSRF token: the endpoint must not need one.
    return Client(enforce_csrf_checks=True)


def _csp_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "quest.csp"]


def test_it_logs_a_violation_report_at_warning_and_answers_204(csrf_client, caplog):
    caplog.set_level(logging.INFO)

    response = _report(csrf_client, CHROMIUM_REPORT)

    assert response.status_code == 204
    assert response.content == b""
    [record] = _csp_records(caplog)
    assert record.levelno == logging.WARNING
    logged = json.loads(record.getMessage().split(": ", 1)[1])
    assert logged == CHROMIUM_REPORT


def test_it_logs_reports_from_the_reporting_api_too(csrf_client, caplog):
    reports = [{"type": "csp-violation", "body": {"effectiveDirective": "script-src-elem"}}]

    response = csrf_client.post(
        reverse("csp-report"), json.dumps(reports), content_type="application/reports+json"
    )

    assert response.status_code == 204
    [record] = _csp_records(caplog)
    assert "script-src-elem" in record.getMessage()


def test_it_logs_a_report_on_one_line_whatever_it_holds(csrf_client, caplog):
    # Anyone can post here: a forged report must not write extra lines into the log.
    forged = {"csp-report": {"blocked-uri": "x\nERROR django.security fake entry\r\n"}}

    response = _report(csrf_client, forged)

    assert response.status_code == 204
    [record] = _csp_records(caplog)
    assert "\n" not in record.getMessage()
    assert "\r" not in record.getMessage()


def test_it_refuses_get(client, caplog):
    response = client.get(reverse("csp-report"))

    assert response.status_code == 405
    assert _csp_records(caplog) == []


def test_it_refuses_a_body_over_the_cap_without_logging_it(csrf_client, caplog):
    padding = "x" * CSP_REPORT_MAX_BYTES
    response = _report(csrf_client, {"csp-report": {"blocked-uri": padding}})

    assert response.status_code == 413
    assert _csp_records(caplog) == []


def test_it_accepts_a_body_just_under_the_cap(csrf_client, caplog):
    # The cap is where it says, not somewhere below it.
    body = json.dumps({"csp-report": {"blocked-uri": ""}})
    body = body.replace('""', '"' + "x" * (CSP_REPORT_MAX_BYTES - len(body)) + '"')
    assert len(body.encode()) == CSP_REPORT_MAX_BYTES

    response = _report(csrf_client, body)

    assert response.status_code == 204
    assert len(_csp_records(caplog)) == 1


def test_it_refuses_a_declared_length_over_the_cap(csrf_client, caplog):
    response = _report(csrf_client, CHROMIUM_REPORT, CONTENT_LENGTH=str(10 * CSP_REPORT_MAX_BYTES))

    assert response.status_code == 413
    assert _csp_records(caplog) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe{}", b'"a string"', b"[" * 5000 + b"]" * 5000],
    ids=["empty", "not JSON", "not UTF-8", "a bare string", "nested too deep"],
)
def test_it_refuses_what_is_not_a_report(csrf_client, caplog, body):
    response = _report(csrf_client, body)

    assert response.status_code == 400
    assert _csp_records(caplog) == []


def test_it_points_the_policy_at_the_report_endpoint():
    # The setting is a literal because settings load before the URLconf.
    assert settings.SECURE_CSP["report-uri"] == [reverse("csp-report")]


# --- In Chromium, under the real policy ---------------------------------------------------

# Runs before any script of each page: keeps every violation the browser meets.
COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


class _Watch:
    """Violations, console errors and warnings, script errors and reports posted, per page."""

    def __init__(self, page, live_server):
        self.page = page
        self.console = []
        self.reports = []
        report_url = live_server.url + reverse("csp-report")
        page.add_init_script(COLLECT_VIOLATIONS)
        # The site has no icon: the browser's own request for one is not a page's error.
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("request", lambda r: self.reports.append(r) if r.url == report_url else None)

    def _on_console(self, message):
        if message.type in {"error", "warning"}:
            self.console.append(f"{message.type}: {message.text}")

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations")

    def assert_clean(self, where: str) -> None:
        assert self.violations() == [], where
        assert self.console == [], where
        assert self.reports == [], where


def _log_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}{reverse('login')}?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")  # form-action 'self' and its redirect
    page.wait_for_url(live_server.url + next_url)


@pytest.mark.browser
def test_it_loads_every_page_with_no_violation_and_htmx_working(
    transactional_db, live_server, page
):
    gm = make_user("gm")
    alice = make_user("alice", password=PASSWORD)
    mod = make_user("lyudmila", password=PASSWORD)
    quest = make_quest(gm, title="Browser Quest")
    quest_services.moderator_appoint(quest=quest, user=mod, by=gm)
    vote = make_vote(quest, gm, PROMPTS)
    make_post(quest, make_user("bob"), RICH_POST)
    vote_in(vote, make_user("carol"), "1-A\n2-The Internationale")
    watch = _Watch(page, live_server)
    thread = reverse("quest-thread", args=[quest.slug])
    chapter = chapter_url(vote, "chapter-detail")

    # The thread: the reply box's reading preview is an htmx POST on typing.
    _log_in(page, live_server, "alice", thread)
    page.fill("textarea[name=body]", "1-B")
    preview = page.locator("#reading-preview")
    sync_api.expect(preview.locator("mark.mark-counted")).to_have_text("1-B")
    page.click("text=Preview")
    sync_api.expect(page.locator("#reply-preview")).to_contain_text("1-B")
    sync_api.expect(page.locator(".post-body details").first).to_be_attached()
    watch.assert_clean("thread")

    # The chapter page loads the ballot form and the tally with htmx.
    page.goto(live_server.url + chapter)
    sync_api.expect(page.locator("#ballot-form input[name=p1][value=B]")).to_be_visible()
    sync_api.expect(page.locator("#tally-live")).to_contain_text("1 ballot counted.")
    watch.assert_clean("chapter page")

    # The ballot page, posting a ballot through htmx.
    page.goto(live_server.url + chapter_url(vote, "ballot-submit"))
    page.locator("input[name=p1][value=B]").check()
    page.locator("text=Post my ballot").click()
    sync_api.expect(page.locator(".ballot-posted")).to_contain_text("Your ballot was posted")
    watch.assert_clean("ballot page")

    # The tally page polls: a ballot counted meanwhile shows up by itself.
    page.goto(live_server.url + chapter_url(vote, "chapter-tally"))
    live = page.locator("#tally-live")
    sync_api.expect(live).to_contain_text("2 ballots counted.")
    sync_api.expect(live.locator("meter.bar")).to_have_count(3)  # A, B, carol's write-in
    vote_in(vote, make_user("dave"), "1-A")
    sync_api.expect(live).to_contain_text("3 ballots counted.", timeout=10_000)
    sync_api.expect(live.locator("tr.leader meter.bar")).to_have_attribute("value", "100")
    watch.assert_clean("tally page")

    # The audit page, for a moderator: its tabs are htmx GETs, verifying an htmx POST.
    page.locator("button", has_text="Log out").click()  # a POST form on every page
    page.wait_for_url(live_server.url + reverse("home"))
    audit = chapter_url(vote, "vote-audit")
    _log_in(page, live_server, "lyudmila", audit)
    page.locator(".audit-tabs a", has_text="All").click()
    page.wait_for_url(f"{live_server.url}{audit}?show=all")
    sync_api.expect(page.locator("#audit-posts")).to_contain_text("The Internationale")
    page.locator("#audit-verify button").click()
    sync_api.expect(page.locator("#audit-verify")).to_contain_text("SHA-256 matches")
    watch.assert_clean("audit page")
    assert alice.posts.count() == 1


@pytest.mark.browser
def test_it_blocks_and_reports_an_injected_inline_style(
    transactional_db, live_server, page, caplog
):
    # The test above passes on silence: show that a violation is seen, blocked and logged.
    caplog.set_level(logging.WARNING, logger="quest.csp")
    watch = _Watch(page, live_server)
    page.goto(live_server.url + reverse("help-voting"))
    watch.assert_clean("help page")

    with page.expect_request(live_server.url + reverse("csp-report")) as report:
        page.evaluate(
            """document.querySelector("main").insertAdjacentHTML(
                 "beforeend", '<p id="injected" style="color: rgb(255, 0, 0)">x</p>')"""
        )
    assert report.value.response().status == 204

    colour = page.locator("#injected").evaluate("e => getComputedStyle(e).color")
    assert colour != "rgb(255, 0, 0)"
    assert any(v.startswith("style-src-attr blocked inline") for v in watch.violations())
    assert any("Content Security Policy" in line for line in watch.console)
    [record] = _csp_records(caplog)
    assert json.loads(record.getMessage().split(": ", 1)[1])["csp-report"]["violated-directive"]
