"""Posts of the plain-text paste (seeds/000), read as pasted: quotes stand inline there."""

from dataclasses import replace

import pytest

from votes.reading import read_post

from .example import SHARED, load_thread
from .helpers import check

SEED = SHARED / "seeds" / "000_9173bf5eb362a06d.txt"
# #10 and #12 copy a ballot inline and agree with it: the paste importer turns
# the copied text back into a quote first, so they are not read raw here.
EXPECTED = {
    5: {1: "flag:B", 2: "flag:A"},
    6: {1: "B", 2: "A", 3: "~General improvements on the economy"},
    7: {1: "B", 2: "B", 3: "~expanding economic ties"},
    8: {1: "A", 2: "B", 3: "~agricultural inefficiencies"},
    9: {1: "B", 2: "A", 3: "~organize meetings"},
    14: {3: "~Baltic states"},
}


def _posts():
    parts = SEED.read_text(encoding="utf-8").split("\n\u00a0\n")
    return [p.removeprefix("Last edited:\n") for p in parts]


@pytest.mark.parametrize(("number", "expected"), sorted(EXPECTED.items()))
def test_it_reads_pasted_posts_with_inline_prompts(number, expected):
    _, vote, posts = load_thread()
    template = next(p for p in posts if p.posted_at > vote.opens_at)
    body = _posts()[number - 1]
    check(read_post(replace(template, author=f"#{number}", body=body), vote), expected)
