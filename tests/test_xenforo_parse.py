"""Reading saved XenForo 2 thread pages: posts, authors, times and bodies back in BBCode.

The fixtures in tests/fixtures/xenforo/ are two pages of a made-up quest thread as
a moderator saves them (XenForo 2.2 markup, a deleted post's placeholder shown).
Smaller pages are built here where a case needs one part changed. Pure: no database.
"""

import ast
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

import votes.importers.xenforo as xenforo
from quest.bbcode import render
from votes.importers.xenforo import (
    ForumPost,
    ThreadPage,
    XenForoFormatError,
    body_to_bbcode,
    page_count,
    page_of,
    page_urls,
    parse_page,
    posts_per_page,
    thread_url,
)
from votes.reading.bbcode import scan

FIXTURES = Path(__file__).parent / "fixtures" / "xenforo"
THREAD = "https://forums.example.net/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/"
QUEST_MASTER = "Harrow_Quill"


@cache
def _html(number: int) -> str:
    return (FIXTURES / f"thread-page-{number}.html").read_text(encoding="utf-8")


@cache
def _page(number: int) -> ThreadPage:
    return parse_page(_html(number))


def _post(post_id: int) -> ForumPost:
    posts = {post.id: post for number in (1, 2) for post in _page(number).posts}
    return posts[post_id]


# Small pages, one part changed at a time

TIME = (
    '<time class="u-dt" dir="auto" datetime="2024-05-01T10:00:00+0000" '
    'data-timestamp="1714557600" data-date="May 1, 2024" data-time="10:00 AM">May 1, 2024</time>'
)
USER_BLOCK = (
    '<section class="message-user"><div class="message-userDetails"><h4 class="message-name">'
    '<a href="/members/ann.5/" class="username " dir="auto" data-user-id="5">Ann</a>'
    "</h4></div></section>"
)


def _article(
    *,
    content: str = 'data-content="post-77"',
    author: str = 'data-author="Ann"',
    user: str = USER_BLOCK,
    time: str = TIME,
    body: str | None = "1-A",
    after_body: str = "",
    classes: str = "message message--post js-post",
    tag: str = "article",
) -> str:
    wrapper = f'<div class="bbWrapper">{body}</div>' if body is not None else ""
    body_html = f'<article class="message-body js-selectToQuote">{wrapper}</article>'

    return (
        f'<{tag} class="{classes}" {author} {content}><div class="message-inner">'
        f'<div class="message-cell message-cell--user">{user}</div>'
        '<div class="message-cell message-cell--main"><div class="message-main">'
        '<header class="message-attribution message-attribution--split">'
        f'<ul class="message-attribution-main listInline"><li>{time}</li></ul></header>'
        f'<div class="message-content">{body_html}{after_body}</div>'
        f"</div></div></div></{tag}>"
    )


def _thread_html(
    articles: str,
    *,
    title: str = '<h1 class="p-title-value">A Small Quest</h1>',
    nav: str = "",
    description: str = "",
) -> str:
    return (
        "<!DOCTYPE html><html><head><title>A Small Quest</title></head><body>"
        f'<div class="p-body-header">{title}{description}</div>'
        f'<div class="block block--messages">{nav}<div class="block-body">{articles}</div></div>'
        "</body></html>"
    )


def _nav(*pages: str, current: int = 1) -> str:
    items = "".join(
        f'<li class="pageNav-page{" pageNav-page--current" if page == str(current) else ""}">'
        f'<a href="/threads/q.1/page-{page}">{page}</a></li>'
        for page in pages
    )
    return f'<div class="pageNav"><ul class="pageNav-main">{items}</ul></div>'


# The thread and its pages


def test_it_reads_the_thread_title_without_its_prefix_label():
    page = _page(1)
    assert page.title == "Lighthouse Keepers of Vael - A Coastal Quest"
    assert page.thread_url == THREAD
    assert page.forum == "forums.example.net"
    assert _page(2).title == page.title


def test_it_names_the_thread_starter_from_the_thread_header():
    # "Thread starter Harrow_Quill" is under the title of every page, page 2 too.
    assert _page(1).starter == QUEST_MASTER
    assert _page(2).starter == QUEST_MASTER


def test_it_takes_the_first_posts_author_as_thread_starter_when_the_header_is_silent():
    articles = _article(author='data-author="Ann"') + _article(
        author='data-author="Bob"', content='data-content="post-78"'
    )
    assert parse_page(_thread_html(articles)).starter == "Ann"
    page_two = parse_page(_thread_html(articles, nav=_nav("1", "2", current=2)))
    assert page_two.page == 2
    assert page_two.starter is None  # the first post of page 2 is anybody's


def test_it_detects_the_page_count_from_the_page_navigation():
    assert (_page(1).page, _page(1).page_count) == (1, 2)
    assert (_page(2).page, _page(2).page_count) == (2, 2)
    assert page_count(_html(1)) == 2
    # A long thread: the navigation skips from page 3 to the last page, 14.
    skipping = _nav("1", "2", "3", "…", "14", current=2)
    assert page_count(_thread_html(_article(), nav=skipping)) == 14
    assert page_count(_thread_html(_article())) == 1  # one page: no navigation at all


def test_it_lists_the_page_urls_of_a_thread():
    assert page_urls(THREAD + "page-2#post-5120071", 3) == [
        THREAD,
        THREAD + "page-2",
        THREAD + "page-3",
    ]
    assert _page(2).page_urls() == [THREAD, THREAD + "page-2"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(THREAD, THREAD, id="thread"),
        pytest.param(THREAD.rstrip("/"), THREAD, id="no-slash"),
        pytest.param(THREAD + "page-7", THREAD, id="page"),
        pytest.param(THREAD + "post-5120071", THREAD, id="post"),
        pytest.param(THREAD + "page-2?order=desc#post-9", THREAD, id="query-and-anchor"),
        pytest.param(
            "https://example.org/community/threads/x.5/page-2",
            "https://example.org/community/threads/x.5/",
            id="forum-under-a-path",
        ),
    ],
)
def test_it_finds_the_thread_url_in_any_of_its_pages_urls(url, expected):
    assert thread_url(url) == expected


def test_it_knows_how_many_posts_a_page_holds_on_each_forum():
    assert posts_per_page(THREAD) == 25
    assert posts_per_page("https://forums.spacebattles.com/threads/x.1/") == 25
    assert posts_per_page("https://forum.questionablequesting.com/threads/x.1/") == 30
    assert posts_per_page("https://questionablequesting.com/threads/x.1/") == 30
    assert [page_of(n, per_page=25) for n in (1, 25, 26, 51)] == [1, 1, 2, 3]
    assert [page_of(n, per_page=30) for n in (30, 31, 60, 61)] == [1, 2, 2, 3]


def test_it_reads_a_questionable_questing_page_of_30_posts():
    articles = "".join(
        _article(
            content=f'data-content="post-{900000 + n}"',
            author=f'data-author="Voter{n}"',
            body=f"{n}. [X] Plan {n}",
        ).replace(
            "</header>",
            f'<ul class="message-attribution-opposite"><li><a>#{n}</a></li></ul></header>',
        )
        for n in range(31, 61)
    )
    url = "https://forum.questionablequesting.com/threads/a-long-quest.4242/page-2"
    html = _thread_html(articles, nav=_nav("1", "2", "3", current=2))
    page = parse_page(html, url=url)
    assert len(page.posts) == posts_per_page(url) == 30
    assert [post.position for post in page.posts] == list(range(31, 61))
    assert {page_of(post.position, per_page=30) for post in page.posts} == {page.page} == {2}
    assert page.page_count == 3
    assert (
        page.posts[0].source_url
        == "https://forum.questionablequesting.com/threads/a-long-quest.4242/post-900031"
    )


# Posts


def test_it_reads_every_post_of_the_page_in_order():
    one, two = _page(1).posts, _page(2).posts
    assert len(one) == 26  # 25 posts and a deleted one's placeholder (a moderator's view)
    assert [post.position for post in one if not post.deleted] == list(range(1, 26))
    assert [post.position for post in two] == list(range(26, 34))
    assert [post.id for post in two] == [
        5120070, 5120071, 5120074, 5120078, 5120079, 5120083, 5120085, 5120090,
    ]  # fmt: skip
    assert [post.author for post in two[:4]] == [QUEST_MASTER, QUEST_MASTER, "Pell", "Mirelle"]


def test_it_takes_the_authors_forum_id_from_the_user_block_only():
    # old_salt's body mentions @Mirelle and his signature @Harrow_Quill: the
    # same link as his own name, in another place.
    old_salt = _post(5120012)
    assert (old_salt.author, old_salt.forum_user_id) == ("old_salt", 877)
    assert "[USER=3391]@Mirelle[/USER]" in old_salt.body
    assert "Harrow_Quill" not in old_salt.body  # the signature is not the body
    # Marrow's account is gone: a name without a link, and a mention of Kestrel (4102).
    marrow = _post(5120049)
    assert (marrow.author, marrow.forum_user_id) == ("Marrow", None)
    assert marrow.body.startswith("[USER=4102]@Kestrel[/USER] has the right idea.")


def test_it_reads_the_posting_time():
    assert _post(5120007).posted_at == datetime(2024, 3, 2, 17, 45, 11, tzinfo=UTC)
    assert _post(5120071).posted_at == datetime(2024, 3, 4, 18, 14, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        pytest.param(
            '<time class="u-dt" datetime="2024-05-01T12:00:00+0200" data-timestamp="1" '
            'data-time="9:00 AM">x</time>',
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
            id="datetime-first",
        ),
        pytest.param(
            '<time class="u-dt" data-timestamp="1714557600" data-time="6:45 PM">x</time>',
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
            id="timestamp-over-clock-time",
        ),
        pytest.param(
            # XenForo 2.0/2.1: data-time held the Unix time.
            '<time class="u-dt" data-time="1714557600" data-date-string="May 1, 2024">x</time>',
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
            id="xenforo-2.1",
        ),
    ],
)
def test_it_reads_times_from_datetime_or_data_timestamp_before_data_time(time, expected):
    page = parse_page(_thread_html(_article(time=time)))
    assert page.posts[0].posted_at == expected


def test_it_reads_the_last_edit_time():
    assert _post(5120031).edited_at == datetime(2024, 3, 2, 19, 17, 11, tzinfo=UTC)
    assert _post(5120001).edited_at == datetime(2024, 3, 2, 17, 30, 11, tzinfo=UTC)
    assert _post(5120085).edited_at == datetime(2024, 3, 4, 19, 59, 11, tzinfo=UTC)
    assert _post(5120007).edited_at is None
    assert _post(5120031).posted_at < _post(5120031).edited_at


def test_it_gives_each_post_its_forum_address():
    assert _post(5120033).source_url == THREAD + "post-5120033"
    # Without a canonical link, the address given for the page is used.
    page = parse_page(_thread_html(_article()), url="https://forum.example.org/threads/q.1/page-3")
    assert page.posts[0].source_url == "https://forum.example.org/threads/q.1/post-77"
    assert parse_page(_thread_html(_article())).posts[0].source_url is None


def test_it_reads_threadmarks_as_chapter_titles():
    marked = [
        (post.id, post.threadmark) for n in (1, 2) for post in _page(n).posts if post.threadmark
    ]
    assert marked == [
        (5120001, "Chapter One: The Lamp Goes Dark"),
        (5120071, "Chapter Two: Storm Glass"),
    ]


def test_it_marks_a_deleted_posts_placeholder():
    spam = _post(5120027)
    assert spam.deleted
    assert (spam.author, spam.forum_user_id, spam.body) == ("Spammer99", 9901, "")
    assert spam.posted_at == datetime(2024, 3, 2, 18, 45, 11, tzinfo=UTC)
    assert spam.as_thread_post()["deleted"] is True
    assert "deleted" not in _post(5120031).as_thread_post()


def test_it_gives_posts_in_the_quest_thread_format():
    assert _post(5120031).as_thread_post() == {
        "id": 5120031,
        "author": "Kestrel",
        "posted_at": "2024-03-02T19:02:11Z",
        "edited_at": "2024-03-02T19:17:11Z",
        "body": "Edit: switching to 2-B. Bram has the better eyes.\n1-B\n2-B",
        "source_url": THREAD + "post-5120031",
        "forum_user_id": 4102,
    }
    assert "forum_user_id" not in _post(5120049).as_thread_post()


# Bodies back in BBCode


def test_it_writes_the_quest_masters_chapter_post():
    body = _post(5120001).body
    assert body.startswith(
        "[CENTER][B][SIZE=6]Chapter One: The Lamp Goes Dark[/SIZE][/B][/CENTER]\n\n"
        "[I]The storm came in off the Vael shelf three nights early.[/I] The great lens"
    )
    assert "[IMG]https://img.example.org/vael/skerry-light.png[/IMG]" in body
    assert body.endswith(
        "[B]1. What do you do about the broken lens?[/B]\n"
        "A) Send to the mainland for a replacement\n"
        "B) Grind a new one from the storm glass\n"
        "C) Run the light without it\n"
        "\n"
        "[B]2. Who takes the first night watch?[/B] (choose any)\n"
        "A) Ada\nB) Bram\nC) Corin\n"
        "\n"
        "[B]3. Write in: what does the keeper write in the log tonight?[/B]"
    )


@pytest.mark.parametrize(
    ("post_id", "body"),
    [
        pytest.param(5120007, '1-B\n2-AC\n3. "The sea was quiet; the lamp was not."', id="letters"),
        pytest.param(
            5120010,
            "[X] Plan Storm Glass\n"
            "-[X] Grind a new one from the storm glass\n"
            "-[X] Ada and Bram share the first watch\n"
            '-[X] Log: "Glass from the storm, light for the storm."',
            id="x-plan",
        ),
        pytest.param(
            5120055,
            "[B][X] Grind a new one from the storm glass[/B]\n[B][X] Ada[/B]",
            id="bold-x",
        ),
        pytest.param(
            5120015,
            "[COLOR=#2980b9]1) B[/COLOR]\n[COLOR=#2980b9]2) A, C[/COLOR]\n"
            "[COLOR=rgb(184, 49, 47)]Storm glass or bust![/COLOR]",
            id="coloured",
        ),
        pytest.param(
            5120033,
            "My vote:\n[LIST]\n[*]1-B\n[*]2-AB\n"
            "[*]3. [I]Lens cracked. Glass found. Keepers tired.[/I]\n[/LIST]",
            id="list",
        ),
        pytest.param(
            5120024,
            "[S]1-C[/S]\n1-B, on second thought the reefs are too close to run dark.\n2-B",
            id="struck-line",
        ),
        pytest.param(5120090, "[S]2-A[/S] 2-B", id="struck-word"),
        pytest.param(
            5120026,
            "Ballot & reasons:\n"
            '1-A <3 the mainland ships are "reliable" — mostly.\n'
            "2-C (Corin's turn; café duty can wait)\n"
            "Nights > 5 °C? Then the glass will hold.",
            id="entities",
        ),
        pytest.param(
            5120036,
            "Found a chart of the shelf for anyone curious: "
            "[URL=https://maps.example.org/vael-shelf]Vael shelf soundings[/URL]\n"
            "[IMG]https://maps.example.org/vael-shelf.jpg[/IMG]\n"  # not the proxy's address
            "1-A, safer than grinding glass we don't understand.",
            id="link-and-proxied-image",
        ),
        pytest.param(
            5120046,
            "[URL]https://en.example.org/wiki/Fresnel_lens[/URL]\n"
            f"Relevant reading. 1-B, per [URL={THREAD}post-5120002]the rules[/URL].",
            id="bare-and-relative-links",
        ),
        pytest.param(
            5120050,
            "[U]1-A[/U] still :p [ISPOILER]the mainland owes us a favour[/ISPOILER]",
            id="smilie-and-inline-spoiler",
        ),
        pytest.param(
            5120063,
            "[SIZE=2]lurker here[/SIZE], [FONT=Courier New]1-B[/FONT], "
            "[SIZE=7][B]GLASS[/B][/SIZE]\n"
            "[RIGHT]— A.V.[/RIGHT]",
            id="sizes-font-right",
        ),
        pytest.param(
            5120053,
            "Unofficial count so far, correct me if I missed you:\n"
            '[SPOILER="Vote tally (unofficial)"]\n'
            "[CODE]1-B: 9\n1-A: 2  (Pell, Ysolde)\n1-C: 0[/CODE]\n"
            "[/SPOILER]",
            id="code-in-spoiler",
        ),
    ],
)
def test_it_writes_player_posts_back_in_bbcode(post_id, body):
    assert _post(post_id).body == body


def test_it_writes_a_quote_with_its_author_and_post():
    assert _post(5120019).body == (
        '[QUOTE="Harrow_Quill, post: 5120001, member: 1207"]\n'
        "[B]1. What do you do about the broken lens?[/B]\n"
        "A) Send to the mainland for a replacement\n"
        "B) Grind a new one from the storm glass\n"
        "C) Run the light without it\n"
        "[/QUOTE]\n"
        "1-B, storm glass all the way. The mainland will take a month."
    )


def test_it_keeps_a_nested_quote_inside_the_outer_one():
    assert _post(5120020).body == (
        '[QUOTE="Tobias_Wren, post: 5120019, member: 2210"]\n'
        '[QUOTE="Harrow_Quill, post: 5120001, member: 1207"]\n'
        "[B]1. What do you do about the broken lens?[/B]\n"
        "A) Send to the mainland for a replacement\n"
        "B) Grind a new one from the storm glass\n"
        "C) Run the light without it\n"
        "[/QUOTE]\n"
        "1-B, storm glass all the way. The mainland will take a month.\n"
        "[/QUOTE]\n"
        "+1, and 2-AC as before."
    )


def test_it_writes_quotes_that_name_no_post():
    assert _post(5120058).body == (
        "[QUOTE]\nGlass from the storm, light for the storm.\n[/QUOTE]\n"
        "Best log line so far. 1-B, 2-AC"
    )
    assert _post(5120060).body == '[QUOTE="Corvid"]\nBest log line so far.\n[/QUOTE]\nAgreed.'


def _inside(node, name: str) -> bool:
    """Whether an ancestor of the node is a `name` element or has the class `name`."""
    ancestor = node.parent
    while ancestor is not None and ancestor.tag != "html":
        if ancestor.tag == name or name in (ancestor.attributes.get("class") or "").split():
            return True
        ancestor = ancestor.parent
    return False


def _quote_headers(rendered: str) -> list[str | None]:
    """The "Author said:" line of each top-level quote the page renders."""
    headers = []
    for quote in LexborHTMLParser(rendered).css("blockquote.bb-quote"):
        if not _inside(quote, "blockquote"):
            header = quote.css_first(".bb-quote-header")
            headers.append(header.text(deep=True) if header else None)
    return headers


def _outer_quotes_in_html(html: str) -> dict[int, list[tuple[str | None, int | None, str]]]:
    """Each post's top-level quotes as the page shows them: author, post, words."""
    found = {}
    for article in LexborHTMLParser(html).css(".message--post"):
        post_id = int(article.attributes["data-content"].removeprefix("post-"))
        body = article.css_first("article.message-body div.bbWrapper")
        if body is None:
            continue
        quotes = []
        # A nested quote is part of the outer quote's words.
        outer = [q for q in body.css(".bbCodeBlock--quote") if not _inside(q, "bbCodeBlock--quote")]
        for quote in outer:
            content = quote.css_first(".bbCodeBlock-expandContent")
            for nested in content.css(".bbCodeBlock--quote"):
                nested.decompose()
            source = quote.attributes.get("data-source") or ""
            quotes.append(
                (
                    quote.attributes.get("data-quote") or None,
                    int(source.removeprefix("post: ")) if source else None,
                    " ".join(content.text(deep=True).split()),
                )
            )
        found[post_id] = quotes
    return found


@pytest.mark.parametrize("number", [1, 2])
def test_it_writes_quotes_the_projects_tokenizer_reads_as_the_page_shows_them(number):
    expected = _outer_quotes_in_html(_html(number))
    assert sum(len(quotes) for quotes in expected.values()) >= {1: 5, 2: 1}[number]
    for post in _page(number).posts:
        read = scan(post.body)
        got = [(q.author, q.post_id, " ".join(q.text.split())) for q in read.quotes]
        assert got == expected.get(post.id, []), post.id
        for _, _, words in got:
            assert words not in " ".join(read.text.split())  # quoted words are not own words
        said = [f"{author} said:" if author else None for author, _, _ in got]
        assert _quote_headers(render(post.body)) == said, post.id


def test_it_reads_ballots_outside_quotes_as_the_posters_own_words():
    nested = scan(_post(5120020).body)
    assert [(q.author, q.post_id) for q in nested.quotes] == [("Tobias_Wren", 5120019)]
    assert nested.text.strip("\n\x00 ") == "+1, and 2-AC as before."
    struck = scan(_post(5120024).body)
    assert "1-C" not in struck.text  # struck through: not the poster's vote
    assert "1-B, on second thought" in struck.text


def test_it_takes_a_spoilers_title_from_its_own_button():
    body = _post(5120002).body
    assert '[SPOILER="Keeper\'s notes"]\nThe Skerry Light has three keepers:\n[LIST]' in body
    assert (
        '[SPOILER="Do not open before Chapter Three"]\n'
        "Corin can see ships that are not there.\n"
        "[/SPOILER]\n"
        "[/SPOILER]"
    ) in body
    # An untitled spoiler holding a titled one stays untitled.
    untitled = (
        '<div class="bbCodeSpoiler"><button type="button" class="bbCodeSpoiler-button button">'
        '<span class="button-text"><span>Spoiler</span></span></button>'
        '<div class="bbCodeSpoiler-content"><div class="bbCodeBlock bbCodeBlock--spoiler">'
        '<div class="bbCodeBlock-content">outer'
        '<div class="bbCodeSpoiler"><button type="button" class="bbCodeSpoiler-button button">'
        '<span class="button-text"><span>Spoiler: <span class="bbCodeSpoiler-button-title">'
        "Inner title</span></span></span></button>"
        '<div class="bbCodeSpoiler-content"><div class="bbCodeBlock bbCodeBlock--spoiler">'
        '<div class="bbCodeBlock-content">inner</div></div></div></div>'
        "</div></div></div></div>"
    )
    assert body_to_bbcode(untitled) == (
        '[SPOILER]\nouter\n[SPOILER="Inner title"]\ninner\n[/SPOILER]\n[/SPOILER]'
    )


def test_it_escapes_text_that_spells_bbcode():
    # Pell typed the tags inside [PLAIN]: the page shows them as text, and so must
    # the BBCode, or "[/QUOTE]" would end a quote that was never there.
    body = _post(5120074).body
    assert scan(body).quotes == []
    shown = LexborHTMLParser(render(body))
    assert shown.css("blockquote") == [] and shown.css("b") == []
    assert '[QUOTE="Name, post: 5120071"] before it and [/QUOTE] after it' in shown.text()
    assert "[B]Bold[/B] works" in shown.text()
    # Text that is not a known tag stays as written: a ballot's [X].
    assert _post(5120079).body.startswith("[X] Plan Careful Hands\n-[X] Two nights")


@pytest.mark.parametrize(
    ("html", "bbcode"),
    [
        pytest.param("<b>b</b> <i>i</i> <u>u</u>", "[B]b[/B] [I]i[/I] [U]u[/U]", id="b-i-u"),
        pytest.param("<strong>b</strong><em>i</em>", "[B]b[/B][I]i[/I]", id="strong-em"),
        pytest.param("<s>gone</s> kept", "[S]gone[/S] kept", id="s"),
        pytest.param('<span style="color: #ff0000">r</span>', "[COLOR=#ff0000]r[/COLOR]", id="hex"),
        pytest.param('<span style="color: red">r</span>', "[COLOR=red]r[/COLOR]", id="named"),
        pytest.param('<span style="font-size: 18px">s</span>', "[SIZE=5]s[/SIZE]", id="size"),
        pytest.param('<span style="font-size: 20px">s</span>', "[SIZE=20px]s[/SIZE]", id="px"),
        pytest.param(
            "<span style=\"font-family: 'Times New Roman'\">f</span>",
            "[FONT=Times New Roman]f[/FONT]",
            id="font",
        ),
        pytest.param(
            'a<div style="text-align: center">mid</div>b', "a\n[CENTER]mid[/CENTER]\nb", id="centre"
        ),
        pytest.param('<div style="text-align: left">l</div>', "[LEFT]l[/LEFT]", id="left"),
        pytest.param('<div style="text-align: right">r</div>', "[RIGHT]r[/RIGHT]", id="right"),
        pytest.param(
            '<div style="margin-left: 40px">in</div>', "[INDENT=2]in[/INDENT]", id="indent"
        ),
        pytest.param('<h3 class="bbHeading">Head</h3>', "[HEADING=2]Head[/HEADING]", id="heading"),
        pytest.param(
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>", "[LIST]\n[*]one\n[*]two\n[/LIST]", id="ul"
        ),
        pytest.param('<ol type="1"><li>one</li></ol>', "[LIST=1]\n[*]one\n[/LIST]", id="ol"),
        pytest.param('<ol type="a"><li>x</li></ol>', "[LIST=a]\n[*]x\n[/LIST]", id="ol-a"),
        pytest.param(
            "<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>",
            "[LIST]\n[*]a\n[LIST]\n[*]a1\n[/LIST]\n[*]b\n[/LIST]",
            id="nested-list",
        ),
        pytest.param(
            '<a href="https://x.example/p?a=1&amp;b=2" class="link link--external">text</a>',
            "[URL=https://x.example/p?a=1&b=2]text[/URL]",
            id="link",
        ),
        pytest.param(
            '<a href="https://x.example/" class="link">https://x.example/</a>',
            "[URL]https://x.example/[/URL]",
            id="bare-link",
        ),
        pytest.param(
            '<a href="https://x.example/[1]">t</a>',
            "[URL=https://x.example/%5B1%5D]t[/URL]",
            id="bracket-in-address",
        ),
        pytest.param(
            '<a href="https://x.example/"><img src="https://x.example/i.png" class="bbImage"></a>',
            "[URL=https://x.example/][IMG]https://x.example/i.png[/IMG][/URL]",
            id="linked-image",
        ),
        pytest.param(
            '<img src="https://i.example/a.png" class="bbImage" alt="a.png">',
            "[IMG]https://i.example/a.png[/IMG]",
            id="image",
        ),
        pytest.param(
            '<img src="data:image/gif;base64,R0lGOD" class="smilie" alt="&#128512;">',
            "\U0001f600",
            id="emoji",
        ),
        pytest.param("one<br />\ntwo<br>\n<br>three", "one\ntwo\n\nthree", id="br"),
        pytest.param("  lots   of\n\tspace  ", "lots of space", id="white-space"),
        pytest.param(
            "&lt;b&gt; &amp;amp; &#91;B&#93;", "<b> &amp; [PLAIN][[/PLAIN]B]", id="entities"
        ),
        pytest.param(
            '<a href="/members/bob.45/" class="username" data-user-id="45" '
            'data-username="@Bob">@Bob</a> hi',
            "[USER=45]@Bob[/USER] hi",
            id="mention",
        ),
        pytest.param(
            '<span class="bbCodeInlineSpoiler" title="Click">secret</span>',
            "[ISPOILER]secret[/ISPOILER]",
            id="inline-spoiler",
        ),
        pytest.param('<code class="bbCodeInline">[b]x</code>', "[ICODE][b]x[/ICODE]", id="icode"),
        pytest.param(
            '<div class="bbCodeBlock bbCodeBlock--code"><div class="bbCodeBlock-title">Code:</div>'
            '<div class="bbCodeBlock-content"><pre class="bbCodeCode" data-lang="python"><code>'
            "x = [1]\n    y = 2</code></pre></div></div>after",
            "[CODE=python]x = [1]\n    y = 2[/CODE]\nafter",
            id="code",
        ),
        pytest.param(
            '<div class="bbMediaWrapper" data-media-site-id="youtube" data-media-key="abc123">'
            '<div class="bbMediaWrapper-inner"><iframe src="https://www.youtube.com/embed/abc123">'
            "</iframe></div></div>",
            "[MEDIA=youtube]abc123[/MEDIA]",
            id="media",
        ),
        pytest.param(
            '<code class="bbCodeInline">a[/ICODE][B]b</code>',
            "a[PLAIN][[/PLAIN]/ICODE][PLAIN][[/PLAIN]B]b",
            id="icode-holding-its-closer",
        ),
        pytest.param("a<hr>b", "a\n[HR][/HR]\nb", id="hr"),
        pytest.param(
            '<script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">click</a>',
            "click",
            id="script-and-javascript-link",
        ),
        pytest.param("a<!-- [B] -->b[<!-- -->B]", "ab[PLAIN][[/PLAIN]B]", id="split-tag"),
    ],
)
def test_it_turns_rendered_markup_back_into_bbcode(html, bbcode):
    assert body_to_bbcode(html) == bbcode


def test_it_resolves_relative_addresses_against_the_pages_url():
    html = '<a href="/threads/q.1/post-9">there</a> <img src="/attachments/map-png.12/">'
    assert body_to_bbcode(html, base_url="https://forum.example.org/threads/q.1/page-2") == (
        "[URL=https://forum.example.org/threads/q.1/post-9]there[/URL] "
        "[IMG]https://forum.example.org/attachments/map-png.12/[/IMG]"
    )


def test_it_survives_deeply_nested_markup():
    body = body_to_bbcode("<i>" * 5000 + "deep" + "</i>" * 5000)
    assert body.startswith("[I][I]") and "deep" in body
    render(body)  # the project's renderer caps the depth in its turn


# Bad input


@pytest.mark.parametrize(
    ("html", "message"),
    [
        pytest.param("", "The page is empty", id="empty"),
        pytest.param("  \n ", "The page is empty", id="blank"),
        pytest.param(
            "<html><body><h1>404 Not Found</h1></body></html>",
            r"Not a XenForo 2 thread page: it has no posts",
            id="not-a-thread",
        ),
        pytest.param(
            _thread_html(_article(), title=""),
            r"no thread title \(h1.p-title-value\)",
            id="no-title",
        ),
        pytest.param(
            _thread_html(_article(content="")),
            r"Post 1 on the page has no data-content attribute",
            id="no-data-content",
        ),
        pytest.param(
            _thread_html(_article() + _article(content='data-content="post-x9"')),
            r"Post 2 on the page has data-content='post-x9'",
            id="bad-data-content",
        ),
        pytest.param(
            _thread_html(_article(author="")),
            r"post 77 has no author: its data-author attribute is missing",
            id="no-author",
        ),
        pytest.param(
            _thread_html(_article(time="")),
            r"post 77 has no time: no time element in its .message-attribution header",
            id="no-time",
        ),
        pytest.param(
            _thread_html(_article(time='<time class="u-dt" data-time="6:45 PM">x</time>')),
            r"post 77: its posting time has neither a datetime nor a data-timestamp attribute",
            id="clock-time-only",
        ),
        pytest.param(
            _thread_html(_article(time='<time class="u-dt" datetime="yesterday">x</time>')),
            r"post 77: its posting time datetime='yesterday' is not ISO 8601",
            id="bad-datetime",
        ),
        pytest.param(
            _thread_html(_article(body=None)),
            r"post 77 has no body \(article.message-body div.bbWrapper\)",
            id="no-body",
        ),
        pytest.param(
            _thread_html(_article(after_body='<div class="message-lastEdit">Last edited:</div>')),
            r"post 77: its 'Last edited' line has no time element",
            id="edit-without-time",
        ),
        pytest.param(
            _thread_html(_article(user=USER_BLOCK.replace('data-user-id="5"', 'data-user-id="x"'))),
            r"post 77: its author's data-user-id 'x' is not a number",
            id="bad-user-id",
        ),
    ],
)
def test_it_refuses_bad_input_with_a_message_naming_the_post_and_the_part(html, message):
    with pytest.raises(XenForoFormatError, match=message):
        parse_page(html)


def test_it_refuses_an_address_that_is_not_a_thread():
    with pytest.raises(XenForoFormatError, match="is not a XenForo thread address"):
        parse_page(_thread_html(_article()), url="https://forum.example.org/members/ann.5/")
    with pytest.raises(XenForoFormatError, match="is not an http"):
        thread_url("ftp://forum.example.org/threads/q.1/")
    with pytest.raises(XenForoFormatError, match="pass url="):
        parse_page(_thread_html(_article())).page_urls()
    with pytest.raises(ValueError, match="at least one page"):
        page_urls(THREAD, 0)


def test_its_errors_are_value_errors():
    assert issubclass(XenForoFormatError, ValueError)


def test_it_is_pure():
    # No Django, no database, no network: the standard library, the HTML parser and
    # the project's BBCode tokenizer.
    tree = ast.parse(Path(xenforo.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "re", "collections", "dataclasses", "datetime", "urllib"} | {
        "selectolax",
        "quest",
    }
