"""Read a plain-text copy of a forum thread page into a `quest-thread/1` document.

Pure functions over text: no Django, no database. `import_thread --format text`
passes the result to the same importer as a JSON file, so a paste is imported,
read and tallied exactly like a thread exported from a forum.

A paste (../shared/thread-format.md, section 2) has lost everything but the words:
authors, times and quote boundaries are gone. What this module puts back, and how:

- Authors: posts are named `#1`, `#2`, … in order; that label is the voter's name.
  The quest master's posts cannot be recognised by name, so every chapter post and
  every vote post is given the quest master's label (the first chapter post's), so
  that the reader treats the prompt post as the quest master's and never as a ballot.
- Times are synthetic: the paste has none. Post N is posted N minutes after a fixed
  epoch, so order is kept and a second import gives the same times; an edited post
  (`Last edited:`) gets `edited_at` = `posted_at` + 30 s, before the next post.
- Quotes: text a post copied word for word from an earlier post is wrapped in
  `[QUOTE="author, post: N"]…[/QUOTE]` again (see `_recover_quotes`), naming post
  N's author as imported: a quote of the prompt post #4 of a chapter posted as #3
  reads `[QUOTE="#3, post: 4"]`. The reader goes by the post number.
- Page furniture goes: the footer (`Top`, page navigation), XenForo's
  `Click to expand...` lines; an image's file name becomes `[IMG]name[/IMG]`.
- Several pages: pastes of consecutive pages of one thread, given together or
  one after another, make one thread. A paste has no post ids, so a post is
  known by its text and its neighbours (`_place`): pages that overlap, or a
  page pasted again, do not double a post, and `#N` is the post's place in the
  whole thread.

The chapter-title and vote-block rules (`number_chapters`, `chapter_number`,
`vote_prompts`) are public: forum pages without chapter numbers use them too.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chapters.detect import MAX_CHARS, detect_prompts

__all__ = [
    "PasteError",
    "chapter_number",
    "number_chapters",
    "parse_paste",
    "parse_pastes",
    "slug_of",
    "vote_prompts",
]

FORMAT = "quest-thread/1"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
POST_GAP = timedelta(minutes=1)
EDIT_DELAY = timedelta(seconds=30)
# A copied run shorter than this (non-space characters) is not a quote: "Agreed",
# "1-B" or "+1" typed by two players are two players' own words.
MIN_QUOTE_CHARS = 20
# The earliest places a line appeared in are enough to name a quote's source; the
# caps keep a line repeated thousands of times from making the reading quadratic.
MAX_SOURCES = 16
PLACES_PER_POST = 4
MAX_TITLE_CHARS = 150
# A chapter post's vote block is its last lines: a prompt or option line must be
# among the last few, or a note under them ("Voting closes Friday.").
VOTE_BLOCK_TAIL = 4

# A line holding only a no-break space (XenForo's post separator), maybe padded.
_SEPARATOR = re.compile(r"^[ \t]*\u00a0[ \t\u00a0]*$")
_LAST_EDITED = re.compile(r"^\s*Last edited:.*$", re.IGNORECASE)
# XenForo's quote expanders: page furniture, never anybody's words.
_EXPANDER = re.compile(r"^\s*Click to (?:expand|shrink)\.\.\.\s*$", re.IGNORECASE)
_FOOTER = re.compile(
    r"^\s*(?:top|bottom|reply|share:?|prev|next|first|last|next\s+last|first\s+prev"
    r"|page\s+\d+\s+of\s+\d+|go to page|\d+\s+of\s+\d+"
    r"|you must log in or register to reply here\.?)\s*$",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"^\s*(\S+\.(?:jpe?g|png|gif|webp|bmp|svg|avif))\s*$", re.IGNORECASE)
# "1. Decide …", "2) …", "3 - …": a numbered line; a run holding one from a vote
# post is a copied prompt however short it is.
_NUMBERED = re.compile(r"^\d{1,3}\s*[.):\-–]\s*(?!\d)\S")
# A prompt's number, dropped so that "Please write down …" copied without its
# "3." still matches the prompt "3. Please write down …".
_PROMPT_NUMBER = re.compile(r"^\d{1,3}\s*[.):\-–]\s+")
# "B) Punish them …", "[X] A. Yes": a lettered option line, as chapters.detect reads one.
_OPTION_LINE = re.compile(r"^(?:\[\s?[xX✓]?\s?\]\s*)?[A-Za-z]\s*(?:\)|[.:\-–](?:\s|$))")
# "[ ] Scout the wreck", "-[ ] With spare parts": a suggestion of a `lines` prompt.
_SUGGESTION_LINE = re.compile(r"^(?:[-–—]\s*)*\[\s*\]\s*\S")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# "Chapter Two: …", "Part III", "Chapter 5 - …": a keyword, a number, then the end
# of the line or a separator, so that "Part one of my plan" is not a chapter.
_CHAPTER = re.compile(
    r"^(?:chapter|ch\.|part|book|act|arc|volume|vol\.)\s+"
    r"(?P<number>\d{1,4}|[A-Za-z]+(?:[ -][A-Za-z]+)?)\s*(?:$|[:.\-–—(|])",
    re.IGNORECASE,
)
_UNNUMBERED_CHAPTER = re.compile(
    r"^(?:chapter|prologue|epilogue|interlude|intermission)\s*(?:$|[:.\-–—(|])",
    re.IGNORECASE,
)
_ROMAN = re.compile(r"^M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_UNITS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
    *("seventeen", "eighteen", "nineteen"),
]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS)} | _TENS


class PasteError(ValueError):
    """The text cannot be read as a thread page; the message says why.

    `part` is the index of the paste at fault, when several were given.
    """

    def __init__(self, message: str, *, part: int | None = None) -> None:
        super().__init__(message)
        self.part = part


@dataclass
class _Post:
    number: int
    lines: list[str]
    edited: bool = False
    author: str = ""
    body: str = ""

    @property
    def label(self) -> str:
        return f"#{self.number}"


@dataclass
class _Page:
    """One paste, split: its title line, its posts, and whether it begins with a
    `Last edited:` line (the footer of the post before it, on the previous page)."""

    title: str | None
    posts: list[_Post]
    edits_before: bool = False


def parse_paste(text: str, *, slug: str | None = None) -> dict:
    """Read one pasted thread page; returns a `quest-thread/1` document (see `parse_pastes`)."""
    return parse_pastes([text], slug=slug)


def parse_pastes(
    texts: Sequence[str],
    *,
    slug: str | None = None,
    imported: Callable[[str], dict | None] = lambda slug: None,
) -> dict:
    """Read pastes of consecutive pages of one thread; returns one `quest-thread/1` document.

    1. Split each text into posts on the no-break-space lines; a trailing page
       footer and XenForo's expander lines are dropped, a `Last edited:` line is
       moved to the post before it, and the first line may be the thread title.
    2. Merge the pages into one thread (`_merge`), onto the posts the quest
       already holds from earlier pastes (`imported(slug)` gives its export, or
       None): a post is recognised by its text and its neighbours, not by where
       it stands in its paste, so overlapping pages and a page pasted again add
       only the posts the thread lacks.
    3. Name the posts `#1`, `#2`, … in thread order and give them synthetic
       times (module docstring).
    4. Find the chapters by their title lines, and each chapter's vote: the first
       post from the chapter post on, before the next chapter, with prompts in it.
    5. Put back the quotes (`_recover_quotes`), then write the document.

    Raises PasteError when a text holds no post; its `part` is the text's index.
    """
    pages = [_page(text, part) for part, text in enumerate(texts)]
    if not pages:
        raise PasteError("There is no paste to read.")
    title = next((page.title for page in pages if page.title), None)
    slug = slug or _slug(title, texts[0])
    before = imported(slug)
    posts = _merge(_imported_posts(before, slug) if before else [], pages)
    chapters = _find_chapters(posts)
    quest_master = posts[chapters[0]["post"] - 1].label if chapters else posts[0].label
    for post in posts:
        post.author = post.label
    for chapter in chapters:
        posts[chapter["post"] - 1].author = quest_master
        if chapter["vote"]:
            posts[chapter["vote"]["post"] - 1].author = quest_master
    _recover_quotes(posts, _prompt_lines(posts, chapters))
    return {
        "format": FORMAT,
        "quest": {
            "slug": slug,
            "title": title or (before or {}).get("quest", {}).get("title") or "Pasted thread",
            "quest_master": quest_master,
            "moderators": [],
        },
        "chapters": chapters,
        "posts": [
            {
                "id": post.number,
                "author": post.author,
                "posted_at": _iso(_posted_at(post.number)),
                "edited_at": _iso(_posted_at(post.number) + EDIT_DELAY) if post.edited else None,
                "body": post.body,
            }
            for post in posts
        ],
    }


def _page(text: str, part: int) -> _Page:
    if not text.strip():
        raise PasteError("The paste is empty.", part=part)
    page = _split(text)
    if not page.posts:
        raise PasteError(
            "The paste holds no posts (nothing but separators and page furniture).", part=part
        )
    return page


# --- 1. Splitting ------------------------------------------------------------------


def _split(text: str) -> _Page:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if _SEPARATOR.match(line):
            blocks.append([])
        else:
            blocks[-1].append(line.rstrip())
    _drop_footer(blocks)
    title = _title(blocks[0])
    if title is not None:
        del blocks[0][0]
    page = _Page(title=title, posts=[])
    for block in blocks:
        lines = [line for line in block if not _EXPANDER.match(line)]
        lines = _trim_blank(lines)
        # "Last edited:" is the previous post's footer, copied above this post.
        while lines and _LAST_EDITED.match(lines[0]):
            if page.posts:
                page.posts[-1].edited = True
            else:
                page.edits_before = True
            lines = _trim_blank(lines[1:])
        if lines:
            page.posts.append(
                _Post(number=len(page.posts) + 1, lines=[_image(line) for line in lines])
            )
    return page


def _drop_footer(blocks: list[list[str]]) -> None:
    # Page navigation only ever ends the text; the same words inside it are prose.
    while blocks:
        last = blocks[-1]
        while last and (not last[-1].strip() or _FOOTER.match(last[-1])):
            last.pop()
        if last or len(blocks) == 1:
            return
        blocks.pop()


def _title(block: list[str]) -> str | None:
    # A title is a short line standing alone above the first post: followed by a
    # blank line and more text, not ending like a sentence, not a chapter heading.
    del block[: next((i for i, line in enumerate(block) if line.strip()), len(block))]
    if len(block) < 3 or block[1].strip() or not any(line.strip() for line in block[2:]):
        return None
    candidate = block[0].strip()
    if (
        len(candidate) > MAX_TITLE_CHARS
        or candidate[-1] in ".!?:;,"
        or chapter_number(candidate) is not None
        or _UNNUMBERED_CHAPTER.match(candidate)
        or _NUMBERED.match(candidate)
    ):
        return None
    return candidate


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _image(line: str) -> str:
    # An image's file name is what a browser copies for it: mark it as the image
    # it was, so that no reader takes "1-b.jpg" for anybody's words.
    match = _IMAGE.match(line)
    return f"[IMG]{match.group(1)}[/IMG]" if match else line


# --- 2. Merging pages --------------------------------------------------------------


# The lines the quote recovery adds around a quote (`_quoted_body`): taken out
# again, they leave a stored post's lines as its page said them.
_QUOTE_MARK = re.compile(r'^\[QUOTE="[^"\n]*, post: \d+"\]$|^\[/QUOTE\]$')


def _imported_posts(thread: dict, slug: str) -> list[_Post]:
    """The posts of a quest imported from pastes before, as their pages said them."""
    posts: list[_Post] = []
    for number, raw in enumerate(thread.get("posts") or [], start=1):
        if raw.get("id") != number or raw.get("posted_at") != _iso(_posted_at(number)):
            raise PasteError(
                f"The quest {slug!r} was not imported from pastes, so a paste cannot be "
                "merged into it: give the paste a slug of its own (--slug)."
            )
        lines = [
            line for line in str(raw.get("body", "")).split("\n") if not _QUOTE_MARK.match(line)
        ]
        posts.append(_Post(number=number, lines=lines, edited=raw.get("edited_at") is not None))
    return posts


def _merge(thread: list[_Post], pages: list[_Page]) -> list[_Post]:
    """The thread with each page laid over it where it belongs (`_place`), in order.

    A post of the page that falls on a post of the thread is that post: its text
    is the page's (the later copy: an edit shows there) and it is edited if
    either copy says so. The page's posts beyond the thread's end are new.
    Returns the thread's posts numbered 1, 2, … in order.
    """
    for part, page in enumerate(pages):
        start = _place(thread, page.posts, part)
        if page.edits_before and start > 0:
            thread[start - 1].edited = True
        for i, post in enumerate(page.posts):
            if start + i < len(thread):
                same = thread[start + i]
                same.lines = post.lines
                same.edited = same.edited or post.edited
            else:
                thread.append(post)
    for number, post in enumerate(thread, start=1):
        post.number = number
    return thread


def _place(thread: list[_Post], page: list[_Post], part: int) -> int:
    """Where the page's first post stands in the thread; the thread's length when
    the page follows it.

    1. Every place where one of the page's posts has the text of one of the
       thread's (at most MAX_SOURCES places a text) is a candidate.
    2. A candidate holds when the page, laid over the thread there, agrees
       with it (`_agreement`).
    3. The place where most posts agree wins. With none, the page is the
       thread's next page: consecutive pages need not overlap.
    """
    keys = [_key(post) for post in thread]
    page_keys = [_key(post) for post in page]
    where: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        places = where.setdefault(key, [])
        if len(places) < MAX_SOURCES:
            places.append(k)
    best, best_agreed = len(thread), 0
    tried: set[int] = set()
    for i, key in enumerate(page_keys):
        for k in where.get(key, ()):
            offset = k - i
            if offset in tried:
                continue
            tried.add(offset)
            agreed = _agreement(keys, page_keys, offset)
            if agreed > best_agreed:
                best, best_agreed = offset, agreed
    if best < 0:
        raise PasteError(
            "The paste holds posts from before the start of the thread imported so far: "
            "import the pages in order, the first page first.",
            part=part,
        )
    return best


def _agreement(keys: list[str], page_keys: list[str], offset: int) -> int:
    """How many posts agree when the page's first post stands at `offset`; 0: it does not hold.

    Where page and thread overlap, every post must have the same text in both,
    except a post whose neighbours on both sides (those inside the overlap)
    agree: the same post, edited between the two copies. The posts that agree
    must be evidence: two or more, or one long enough not to be a common
    "+1" (MIN_QUOTE_CHARS).
    """
    low, high = max(0, -offset), min(len(page_keys), len(keys) - offset)
    same = [keys[offset + i] == page_keys[i] for i in range(low, high)]
    for j, agrees in enumerate(same):
        neighbours = same[max(0, j - 1) : j] + same[j + 1 : j + 2]
        if not agrees and not (neighbours and all(neighbours)):
            return 0
    agreed = [page_keys[low + j] for j, agrees in enumerate(same) if agrees]
    if len(agreed) == 1 and len("".join(agreed[0].split())) < MIN_QUOTE_CHARS:
        return 0
    return len(agreed)


def _key(post: _Post) -> str:
    return "\n".join(norm for line in post.lines if (norm := _norm(line)))


# --- 3. Chapters and votes ---------------------------------------------------------


def _find_chapters(posts: list[_Post]) -> list[dict]:
    """Chapter posts by their first line (`number_chapters`), each with its vote (or None)."""
    numbers = number_chapters(post.lines[0] for post in posts)
    found = [(i, posts[i].lines[0].strip(), n) for i, n in enumerate(numbers) if n is not None]
    chapters = []
    for k, (i, title, number) in enumerate(found):
        end = found[k + 1][0] if k + 1 < len(found) else len(posts)
        chapters.append(
            {
                "number": number,
                "title": title,
                "post": posts[i].number,
                "vote": _vote(posts, i, end),
            }
        )
    return chapters


def number_chapters(titles: Iterable[str], *, any_title: bool = False) -> list[int | None]:
    """The chapter number each title starts, or None where it starts no chapter.

    Shared by the importers that find chapters themselves: a paste (each post's
    first line) and forum pages (threadmark titles, with `any_title`).

    1. A title that says its number ("Chapter Two", "Part III", "Chapter 5 - …")
       gives it.
    2. An unnumbered title follows the chapter before it: "Prologue",
       "Interlude" and the like, or, with `any_title`, any title at all (a
       threadmark marks a chapter whatever it is called).
    3. A title repeating an earlier chapter's number ("Chapter Five … Part II")
       continues that chapter, and one equal to an earlier chapter's title is
       a player quoting it: neither starts a chapter.
    """
    numbers: list[int | None] = []
    seen_titles: set[str] = set()
    seen_numbers: set[int] = set()
    last = 0
    for raw in titles:
        title = raw.strip()
        number = None
        if title and len(title) <= MAX_TITLE_CHARS * 2 and _norm(title) not in seen_titles:
            number = chapter_number(title)
            if number is None and (any_title or _UNNUMBERED_CHAPTER.match(title)):
                number = last + 1
            if number in seen_numbers:
                number = None
        if number is not None:
            seen_titles.add(_norm(title))
            seen_numbers.add(number)
            last = number
        numbers.append(number)
    return numbers


def chapter_number(title: str) -> int | None:
    """The number a chapter title says ("Chapter Two: …" is 2), or None."""
    match = _CHAPTER.match(title.strip())
    return _number(match.group("number")) if match else None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if _ROMAN.match(word):
        return _roman(word)
    parts = word.lower().replace("-", " ").split()
    if len(parts) == 1 and parts[0] in _NUMBER_WORDS:
        return _NUMBER_WORDS[parts[0]]
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS[1:10]:
        return _TENS[parts[0]] + _UNITS.index(parts[1])
    return None


def _roman(word: str) -> int:
    total = 0
    for i, char in enumerate(word):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[word[i + 1]] if i + 1 < len(word) else 0
        total += -value if value < following else value
    return total


def _vote(posts: list[_Post], start: int, end: int) -> dict | None:
    for post in posts[start:end]:
        prompts = vote_prompts(post.lines, in_chapter_post=post is posts[start])
        if prompts:
            # opens_at: the vote post's time; closes_at: unknown, so still open.
            return {
                "post": post.number,
                "opens_at": _iso(_posted_at(post.number)),
                "closes_at": None,
                "prompts": prompts,
            }
    return None


def vote_prompts(lines: list[str], *, in_chapter_post: bool) -> list[dict]:
    """The prompts (as `quest-thread/1` writes them) of a post's vote block, or [].

    `lines` are the post's plain text. A chapter's own post holds a vote only
    when the prompts end it (among its last VOTE_BLOCK_TAIL lines); a numbered
    list in the middle of the story is not a vote.
    """
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        # A long chapter ends with its vote block; detection reads at most MAX_CHARS.
        text = text[-MAX_CHARS:].split("\n", 1)[-1]
    found = detect_prompts(text).prompts
    if in_chapter_post and found:
        # In the chapter's own post the prompts must end it: a numbered list in
        # the middle of the story is not a vote.
        tail = [line for line in lines if line.strip()][-VOTE_BLOCK_TAIL:]
        if not any(_ends_vote(line) for line in tail):
            return []
    return [
        {
            "number": p.number,
            "kind": p.kind,
            "text": p.text,
            "options": [{"letter": o.letter, "text": o.text} for o in p.options],
        }
        for p in found
    ]


def _ends_vote(line: str) -> bool:
    """A line a vote block may end with: a prompt, a lettered option, a "[ ]" suggestion."""
    line = _norm(line)
    return bool(_NUMBERED.match(line) or _OPTION_LINE.match(line) or _SUGGESTION_LINE.match(line))


def _prompt_lines(posts: list[_Post], chapters: list[dict]) -> set[str]:
    lines: set[str] = set()
    for chapter in chapters:
        if chapter["vote"]:
            vote_post = posts[chapter["vote"]["post"] - 1]
            lines.update(_norm(line) for line in vote_post.lines if _NUMBERED.match(line.strip()))
    return lines


# --- 4. Quotes ---------------------------------------------------------------------


@dataclass
class _Run:
    start: int  # first line of the run in the post
    end: int  # one past its last non-blank line
    source: int  # index of the post it was copied from
    source_end: int  # the source line the run's last line was copied from


def _recover_quotes(posts: list[_Post], prompt_lines: set[str]) -> None:
    """Wrap the text each post copied from an earlier post in a [QUOTE].

    1. Every line of every post is indexed under its text (white space collapsed),
       a numbered line also without its number ("3. "), and each sentence on its
       own, with where it stands: (post, line), earliest posts first. Only the
       first MAX_SOURCES places are kept, PLACES_PER_POST from any one post, so
       a line repeated everywhere costs no more than a rare one.
    2. A line of a later post matches a line of an earlier post when it is that
       line, that line without its number, or sentences of it (a quote of part of
       a paragraph).
    3. Consecutive lines (blank lines skipped on both sides) that match
       consecutive lines of one and the same earlier post form a run.
    4. Lettered option lines at the start of a run, or at its end when the
       source goes on with more options, are the poster's answer, not a quote:
       "B) Punish them …" under a copied prompt is how players vote.
    5. A run is a quote only when it is meaningful: at least MIN_QUOTE_CHARS
       non-space characters on one line, or a prompt line of a vote post. Short
       common lines ("Agreed", "1-B") stay the poster's own.
    6. A run names the earliest post holding all of it: the post that wrote it,
       since every copy came after. A prompt block copied by many players names
       the prompt post, and a copied ballot the ballot's author.
    """
    index: dict[str, list[tuple[int, int]]] = {}
    following: list[list[int]] = []  # per post: each line's next non-blank line
    for i, post in enumerate(posts):
        post.body = _quoted_body(post.lines, index, following, posts, prompt_lines)
        following.append(_next_lines(post.lines))
        for n, line in enumerate(post.lines):
            for key in _line_keys(line):
                places = index.setdefault(key, [])
                crowded = len(places) >= PLACES_PER_POST and places[-PLACES_PER_POST][0] == i
                if len(places) < MAX_SOURCES and not crowded:
                    places.append((i, n))


def _next_lines(lines: list[str]) -> list[int]:
    following, after = [-1] * len(lines), -1
    for n in range(len(lines) - 1, -1, -1):
        following[n] = after
        if lines[n].strip():
            after = n
    return following


def _line_keys(line: str) -> set[str]:
    norm = _norm(line)
    if not norm:
        return set()
    keys = {"L" + norm, "L" + _PROMPT_NUMBER.sub("", norm)}
    keys.update("S" + s for s in _sentences(norm))
    return keys


def _sentences(norm: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(norm) if s]


def _matches(norm: str, index: dict[str, list[tuple[int, int]]]) -> set[tuple[int, int]]:
    if not norm:
        return set()
    found = set(index.get("L" + norm, ()))
    if len(norm) < MIN_QUOTE_CHARS:
        # Too short to anchor a quote of part of a line.
        return found
    sentences = _sentences(norm)
    common = set(index.get("S" + sentences[0], ()))
    for sentence in sentences[1:]:
        if not common:
            break
        common &= set(index.get("S" + sentence, ()))
    return found | common


def _quoted_body(
    lines: list[str],
    index: dict[str, list[tuple[int, int]]],
    following: list[list[int]],
    posts: list[_Post],
    prompt_lines: set[str],
) -> str:
    known: dict[str, set[tuple[int, int]]] = {}  # a post often repeats a line
    matches = []
    for line in lines:
        norm = _norm(line)
        if norm not in known:
            known[norm] = _matches(norm, index)
        matches.append(known[norm])
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not matches[i]:
            out.append(lines[i])
            i += 1
            continue
        whole = _run(lines, matches, following, i)
        run = _trimmed(whole, lines, posts, following)
        if run is None or not _meaningful(lines[run.start : run.end], prompt_lines):
            # No part of a run is meaningful when the whole is not: skip all of it.
            out.extend(lines[i : whole.end])
            i = whole.end
            continue
        out.extend(lines[i : run.start])
        source = posts[run.source]
        out.append(f'[QUOTE="{source.author}, post: {source.number}"]')
        out.extend(lines[run.start : run.end])
        out.append("[/QUOTE]")
        i = run.end
    return "\n".join(out)


def _run(lines: list[str], matches: list[set], following: list[list[int]], start: int) -> _Run:
    aligned, end, j = matches[start], start + 1, start + 1
    while j < len(lines):
        if not lines[j].strip():
            j += 1
            continue
        moved = {(q, following[q][n]) for q, n in aligned} & matches[j]
        if not moved:
            break
        aligned, end, j = moved, j + 1, j + 1
    source, source_end = min(aligned)
    return _Run(start=start, end=end, source=source, source_end=source_end)


def _trimmed(run: _Run, lines: list[str], posts: list[_Post], following: list[list[int]]):
    start, end = run.start, run.end
    while start < end and _answer_or_blank(lines[start]):
        start += 1
    after = following[run.source][run.source_end]
    if after >= 0 and _OPTION_LINE.match(_norm(posts[run.source].lines[after])):
        while end > start and _answer_or_blank(lines[end - 1]):
            end -= 1
    return _Run(start, end, run.source, run.source_end) if start < end else None


def _answer_or_blank(line: str) -> bool:
    return not line.strip() or bool(_OPTION_LINE.match(_norm(line)))


def _meaningful(run: list[str], prompt_lines: set[str]) -> bool:
    if any(_norm(line) in prompt_lines for line in run):
        return True
    return max(len("".join(line.split())) for line in run) >= MIN_QUOTE_CHARS


def _norm(line: str) -> str:
    # XenForo copies leave a stray backslash at some line ends; it is not a word.
    return " ".join(line.split()).rstrip("\\").rstrip()


# --- Small helpers -----------------------------------------------------------------


def _posted_at(number: int) -> datetime:
    return EPOCH + number * POST_GAP


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _slug(title: str | None, text: str) -> str:
    slug = slug_of(title or "")
    # No title: a slug from the words, so the same paste imports into the same quest.
    return slug or "paste-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


def slug_of(words: str, *, limit: int = 80) -> str:
    """A quest slug made of the words' letters and digits ("" when they have none)."""
    ascii_words = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_words.lower()).strip("-")[:limit].strip("-")
