"""Who voted for what, a page at a time.

The tally shows each option's count and its first VOTERS_SHOWN voters; the
rest are behind "and N more", which loads this view's `voters` partial in
place (htmx) or opens its page (a plain link, no JavaScript needed). Both
read the latest stored TallyRun, as the tally does: nothing is recounted, and
only the page's voters are looked up for the links to their posts.
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from chapters.models import Vote
from quest.http import HtmxHttpRequest
from votes import selectors
from votes.models import TallyRun
from votes.permissions import can_see_results
from votes.tally import entry_key
from votes.views import access

VOTERS_SHOWN = 10  # on the tally page, per option; a 1,000-voter option stays one line
PER_PAGE = 100


def first_voters(tally: Mapping[str, Any]) -> set[str]:
    """Every voter the tally page names: the first VOTERS_SHOWN of each option or entry."""
    return {v for p in tally["prompts"] for r in _rows(p) for v in r["voters"][:VOTERS_SHOWN]}


def row_key(row: Mapping[str, Any]) -> str:
    """A name for an option (its letter) or a write-in entry (a digest of its text) in ids."""
    if row.get("letter"):
        return row["letter"]
    return "e" + hashlib.sha256(entry_key(row["text"]).encode()).hexdigest()[:12]


def voters_url(vote: Vote, prompt: int, row: Mapping[str, Any]) -> str:
    """The address of the row's full voter list (its first page)."""
    chosen = {"option": row["letter"]} if row.get("letter") else {"entry": row["text"]}
    url = reverse("tally-voters", args=[vote.chapter.quest.slug, vote.chapter.number])
    return f"{url}?{urlencode({'prompt': prompt, **chosen})}"


def first_of(
    vote: Vote, prompt: int, row: Mapping[str, Any], links: Mapping[tuple[str, int], int]
) -> dict[str, Any]:
    """What the tally page shows of a row's voters: the first few linked, how many more, where."""
    shown = row["voters"][:VOTERS_SHOWN]
    return {
        "voters": _linked(vote, shown, prompt, links),
        "more": len(row["voters"]) - len(shown),
        "voters_url": voters_url(vote, prompt, row),
        "voters_key": f"{prompt}-{row_key(row)}",
    }


def _rows(prompt: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return prompt.get("options") or prompt.get("entries") or []


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@require_GET
@vary_on_headers("HX-Request")
def tally_voters(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """One option's (or write-in entry's) voters, PER_PAGE at a time: a page, or its partial.

    `?prompt=N&option=A` names an option, `?prompt=N&entry=<text>` a write-in
    entry as the tally writes it; `page` the page. Results are hidden from
    whoever may not see the tally yet, as on the tally page.
    """
    vote = access.vote_for_reader(request, slug, number)
    if not can_see_results(request.user, vote):
        return _plain("Results are hidden until you vote or the vote closes.", 403)
    # The latest run's document only: its inputs name every post of the window.
    data = (
        TallyRun.objects.filter(vote=vote)
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    if data is None:
        response = _plain("The first count of this vote is under way; try again shortly.", 503)
        response["Retry-After"] = "3"
        return response
    found = _row_asked(data, request.GET)
    if isinstance(found, str):
        return _plain(found, 404)
    prompt, row = found
    page = Paginator(row["voters"], PER_PAGE).get_page(request.GET.get("page"))
    names = list(page.object_list)
    links = selectors.answer_posts(vote, voters=names)
    context = {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "prompt": prompt,
        "row": row,
        "key": f"{prompt['number']}-{row_key(row)}",
        "page": page,
        "voters": _linked(vote, names, prompt["number"], links),
        "url": voters_url(vote, prompt["number"], row),
    }
    template = "votes/tally_voters.html"
    if request.htmx:
        template += "#voters"
    return render(request, template, context)


def _row_asked(
    tally: Mapping[str, Any], query: Mapping[str, str]
) -> tuple[Mapping[str, Any], Mapping[str, Any]] | str:
    """(prompt, row) the query names in the stored tally, or what is wrong with it."""
    number = query.get("prompt", "")
    prompt = next((p for p in tally["prompts"] if str(p["number"]) == number.strip()), None)
    if prompt is None:
        return f"This vote has no prompt {number!r}." if number else "Say which prompt: ?prompt=N."
    option, entry = query.get("option"), query.get("entry")
    if option:
        row = next((r for r in prompt.get("options") or [] if r["letter"] == option), None)
        return (prompt, row) if row else f"Prompt {prompt['number']} has no option {option!r}."
    if entry:
        row = next((r for r in prompt.get("entries") or [] if r["text"] == entry), None)
        return (prompt, row) if row else f"Prompt {prompt['number']} has no such write-in entry."
    return "Say which option (?option=A) or write-in entry (?entry=…) to list."


def _linked(
    vote: Vote, names: Iterable[str], prompt: int, links: Mapping[tuple[str, int], int]
) -> list[dict[str, Any]]:
    """Voter names with the address of the post their counted answer came from, if known."""
    slug = vote.chapter.quest.slug
    out = []
    for name in names:
        ref = links.get((name, prompt))
        href = reverse("post-permalink", args=[slug, ref]) if ref is not None else None
        out.append({"name": name, "href": href})
    return out
