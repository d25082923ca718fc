"""What pages call a chapter and a prompt's kind, said once.

Quest masters title chapters the way forum threads do ("Chapter Three: The
Hundred Days"), the importers keep such titles as written and a new draft is
titled "Chapter 4"; prefixing every title with "Chapter N:" would say it twice.
Likewise a prompt written "Which ministries? (choose any)" needs no second
"(choose any)" after it. Pure text in, text out: no Django.
"""

import re

from chapters.kinds import PromptKind

_NUMBER_WORDS = (
    r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ]?(?:one|two|three|four"
    r"|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|hundred|last|final|first"
)
# "Chapter 3", "Chapter Three: …", "Part II", "Book one - …", "Ch. 12", "Prologue", "Interlude".
_NAMES_ITSELF = re.compile(
    r"^(?:(?:chapter|ch\.?|part|book|act|arc|volume|vol\.?|episode|ep\.?)\s*"
    rf"(?:\d{{1,4}}|[ivxlcdm]{{1,8}}|{_NUMBER_WORDS})"
    r"|prologue|epilogue|interlude|intermission|omake|finale)\b",
    re.IGNORECASE,
)

# Besides its label, how a prompt's own text may already say what kind it is.
_SAID = {
    PromptKind.SINGLE: ("pick one", "choose one", "select one", "vote for one"),
    PromptKind.MULTI: ("choose any", "pick any", "select any", "all that apply", "multiple"),
    PromptKind.RANKED: ("rank in order", "ranked", "in order of preference"),
    PromptKind.WRITE_IN: ("write-in", "write in"),
    PromptKind.LINES: (),
}


def names_itself(title: str) -> bool:
    """Whether a chapter title already says which chapter it is ("Chapter Three: …")."""
    return bool(_NAMES_ITSELF.match(title.strip()))


def heading(number: int | None, title: str | None) -> str:
    """A chapter as pages name it: "Chapter 3: The Crossing", or the title alone when it
    names the chapter itself ("Chapter Three: The Hundred Days", "Prologue")."""
    title = (title or "").strip()
    if number is None:
        return title
    if not title or names_itself(title):
        return title or f"Chapter {number}"
    return f"Chapter {number}: {title}"


def kind_note(kind: str, text: str = "") -> str:
    """What to show after a prompt's text, "(choose any)", or "" when the text says so."""
    try:
        label = PromptKind(kind).label
    except ValueError:
        return ""
    said = (label, *_SAID[PromptKind(kind)])
    words = " ".join(text.lower().split())
    if any(re.search(rf"(?<![\w-]){re.escape(phrase.lower())}(?![\w-])", words) for phrase in said):
        return ""
    return f"({label.lower()})"
