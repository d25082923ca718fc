"""The tally page and its polled partial never share an ETag.

Chromium keeps the partial the chapter page polls for; opening the tally page
itself (a Vary: HX-Request mismatch) it revalidates that cached partial with
its ETag, and a 304 would show the bare partial as the page: no <title>, no
lang, no navigation (found by axe, tests/test_browser_accessibility.py).
"""

from tests.factories import chapter_url, make_vote, prompt_list, vote_in

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_answers_the_page_in_full_after_the_partial_was_polled(
    client, quest, quest_master, player
):
    vote = make_vote(quest, quest_master, prompt_list("single"))
    vote_in(vote, player, "1-A")
    url = chapter_url(vote, "chapter-tally")
    client.force_login(player)

    polled = client.get(url, **HTMX)
    page = client.get(url, HTTP_IF_NONE_MATCH=polled["ETag"])
    again = client.get(url, HTTP_IF_NONE_MATCH=page["ETag"])

    assert polled.status_code == 200 and "<html" not in polled.content.decode()
    assert page.status_code == 200 and "<title>" in page.content.decode()
    assert page["ETag"] != polled["ETag"]
    assert again.status_code == 304  # the page's own ETag still spares a reload
