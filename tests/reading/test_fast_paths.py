"""The reader's shortcuts give exactly what the plain formulation gives.

The speed work (issue 4, "Safety and speed") replaced some patterns with
equivalent faster ones and put cheap pre-checks in front of others. Each test
here states the plain version and checks the fast one against it on generated
text built from the words the patterns look for.
"""

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from votes.reading import (
    declared,
    grammar,
    hints,
    lines,
    prose,
    read_post,
    read_thread,
    revise,
    social,
    text,
)
from votes.reading.bbcode import Quote, scan
from votes.reading.endorse import proxy
from votes.reading.lines import paragraphs_only, read_lines, walk_lines
from votes.reading.prompts import (
    NUMBER_PREFIX,
    Prompts,
    may_restate,
    quoted_prompts,
    restated_prompt,
)

from .helpers import VOTE, post

# The patterns as first written (before the speed work).
PLAIN_CLAUSE_SPLIT = re.compile(
    r"[.;!?\n]|,[ \t]+(?:but|and|also)\b|\b(?:also|but|because|and[ \t]+yes)\b"
)
PLAIN_CUE = re.compile(
    r"(?i)\b(?:we|i)[ \t]+(?:should|must|need[ \t]+to|ought|'d|would|think|say|vote|want)\b"
    r"|\b(?:let'?s|yes|yeah|no|nope)\b"
)
TOKENS = [
    "we", "We", "WE", "i", "I", "should", "must", "need", "to", "ought", "'d", "would",
    "think", "say", "vote", "Vote", "want", "let's", "lets", "yes", "Yes", "yeah", "no",
    "nope", "No", "also", "but", "because", "and", "a", "b", "ab", "new", "revised",
    "ignore", "my", "last", "scratch", "replace", "ballot", "Décide", "ﬁ", "ß", "K",
    "Kelvin", "é", "1", "2-B", "the", "fate", "of", "agents", "Show", "leniency",
    "new vote", "Revised\tvote", "ignore my last", "Scratch my previous", "replacing my ballot",
    "\u017fcratch my la\u017ft", "we should", "I would vote", "and yes",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\t", ", ", ". ", "; ", "!", "?", "\n", "'", "_", "-", "", "(", ")"]

fragments = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from(SEPARATORS)), max_size=30
).map(lambda pairs: "".join(t + s for t, s in pairs))
any_text = st.one_of(fragments, st.text(max_size=80))


def plain_bare(value: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKD", value.casefold()))


def plain_words(value: str) -> list[str]:
    return re.findall(r"[^\W_]+", value.casefold())


@settings(max_examples=400)
@given(any_text)
def test_the_clause_split_matches_the_plain_pattern(value):
    fast = [m.span() for m in prose.CLAUSE_SPLIT.finditer(value)]
    assert fast == [m.span() for m in PLAIN_CLAUSE_SPLIT.finditer(value)]


@settings(max_examples=400)
@given(any_text)
def test_the_cue_check_matches_the_plain_pattern(value):
    assert prose.has_cue(value) == (PLAIN_CUE.search(value) is not None)


@settings(max_examples=400)
@given(any_text)
def test_bare_and_words_match_the_unicode_forms(value):
    assert text.bare(value) == plain_bare(value)
    assert text.words(value) == plain_words(value)


@settings(max_examples=300)
@given(any_text)
def test_the_replacement_check_matches_the_plain_pattern(value):
    assert social.says_replacement(value) == (social.REPLACE.search(value) is not None)


def plain_restated(line: str, prompts: Prompts):
    """restated_prompt without the prefix pre-check."""
    if len(line) > prompts.restated_max:
        return None
    start = grammar.strip_markers(line)
    b = text.bare(line[NUMBER_PREFIX.match(line, start).end() :])
    if len(b) < 12:
        return None
    for prompt, pb in prompts.bares:
        if b == pb or (len(b) >= 24 and pb.startswith(b)):
            return prompt
        if len(pb) >= 24 and b.startswith(pb) and len(b) - len(pb) <= 3:
            return prompt
    return None


prompt_lines = st.tuples(
    st.sampled_from(["", "1. ", "[X] 2) ", "- ", "3 - ", "  "]),
    st.sampled_from([p.text for p in VOTE.prompts]),
    st.integers(0, 60),
    st.sampled_from(["", ".", "...", " ?", "\u00e9", "X"]),
    st.booleans(),
).map(
    lambda t: (
        t[0]
        + (t[1].upper() if t[4] else t[1].replace(" ", "  ,"))[: max(12, len(t[1]) - t[2])]
        + t[3]
    )
)


@settings(max_examples=400)
@given(st.one_of(prompt_lines, any_text))
def test_the_restated_prompt_check_matches_the_plain_one(line):
    prompts = Prompts.of(VOTE)
    assert restated_prompt(line, prompts) == plain_restated(line, prompts)


@settings(max_examples=300)
@given(st.lists(st.one_of(prompt_lines, fragments), max_size=4).map("\n".join))
def test_the_quoted_prompt_check_matches_the_plain_one(quoted):
    prompts = Prompts.of(VOTE)
    qb = text.bare(quoted)
    plain = [p for p, pb in prompts.bares if pb and pb[:60] in qb]
    assert quoted_prompts(Quote(None, None, quoted, 0, 0), prompts) == plain


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(fragments, prompt_lines), min_size=1, max_size=6))
def test_read_post_with_a_long_window_matches_read_thread(bodies):
    """The worker path builds its indexes lazily; it must read as the whole thread does."""
    posts = [post(body, author=f"p{i % 3}", id=2000 + i) for i, body in enumerate(bodies)]
    posts.append(post(f'[QUOTE="p1, post: {2001}"]x[/QUOTE]\n+1', author="p4", id=3000))
    posts.append(post("[X] p0", author="p5", id=3001))
    whole = read_thread(VOTE, posts)
    for i, p in enumerate(posts):
        assert read_post(p, VOTE, posts[:i]) == whole[i]


@settings(max_examples=300)
@given(
    st.lists(st.one_of(fragments, prompt_lines, st.sampled_from(["", " ", "\t"])), max_size=8).map(
        "\n".join
    )
)
def test_digit_free_prose_is_split_into_paragraphs_as_the_line_walk_does(body):
    doc = scan(body)
    prompts = Prompts.of(VOTE)
    walked = walk_lines(doc, VOTE, prompts, may_restate=True)
    assert walk_lines(doc, VOTE, prompts) == walked  # worked out at the first long line
    if not may_restate(doc.text, prompts):
        assert walk_lines(doc, VOTE, prompts, may_restate=False) == walked
        if not doc.quotes and not re.search(r"\d", doc.text):
            assert paragraphs_only(doc) == walked
    assert read_lines(doc, VOTE, prompts) == walked


def plain_proxy(doc, posters):
    lines = [line for line in doc.text.split("\n") if line.strip() and line.strip() != "\x00"]
    return social.proxy(lines[0], posters) if len(lines) == 1 else None


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            ["[X] Bob", " [x] ^bob ", "\u00a0[X] Bob", "Voting with Bob!", "same as @bob", "",
             " ", "\t", "[QUOTE=Bob]1-A[/QUOTE]", "hello", "\r", "1-A"]
        ),
        max_size=4,
    ).map("\n".join)
)  # fmt: skip
def test_the_proxy_check_matches_the_plain_one(body):
    doc = scan(body)
    posters = {"bob": "Bob"}
    assert proxy(doc, posters) == plain_proxy(doc, posters)


VOTING_TOKENS = [
    "I", "i", "we", "We", "I'm", "we'll", "I\u2019d", "am", "will", "also", "now", "vote",
    "Vote", "VOTING", "choose", "Choosing", "pick", "go", "Going", "support", "back",
    "prefer", "select", "say", "for", "with", "changed", "switch", "to", "my", "vote",
    "is", "would", "be", "goes", "put", "me", "down", "count", "in", ":", "option",
    "Option", "1", "2-B", "3.", "12", "\u0130", "\u017f", "K", "1953",
]  # fmt: skip
VOTING_SEPARATORS = [" ", "  ", "\t", "", ":", ": ", ", ", ".", "-"]
voting_lines = st.lists(
    st.tuples(st.sampled_from(VOTING_TOKENS), st.sampled_from(VOTING_SEPARATORS)), max_size=12
).map(lambda pairs: "".join(t + s for t, s in pairs))


@settings(max_examples=600)
@given(st.one_of(voting_lines, any_text))
def test_the_voting_statement_pre_check_never_hides_a_match(line):
    if grammar.VOTING_ANYWHERE.search(line) is not None:
        assert hints.may_vote_inside(line)


NAMED_TOKENS = [
    "for", "For", "FOR", "on", "On", "as", "regarding", "the", "The", "prompt", "question",
    "number", "#", "first", "Second", "THIRD", "1st", "2nd", "1", "2", "12", "1953", ",",
    "B", "yes", "\u0130", "\u017f", "K", "option",
]  # fmt: skip
named_lines = st.lists(
    st.tuples(st.sampled_from(NAMED_TOKENS), st.sampled_from(VOTING_SEPARATORS)), max_size=10
).map(lambda pairs: "".join(t + s for t, s in pairs))


@settings(max_examples=600)
@given(st.one_of(named_lines, any_text))
def test_the_named_prompt_pre_check_never_hides_a_match(value):
    if prose.NAMED.search(value) is not None:
        assert prose.may_name_prompt(value)


@settings(max_examples=400)
@given(st.one_of(any_text, st.text(alphabet="ab 1\u0661\u0966\uff11-:.)", max_size=20)))
def test_the_ascii_digit_checks_match_the_unicode_ones(value):
    assert grammar.has_digit(value) == (re.search(r"\d", value) is not None)
    hint = grammar.MENTION_HINT_ASCII if value.isascii() else grammar.MENTION_HINT
    assert (hint.search(value) is None) == (grammar.MENTION_HINT.search(value) is None)


NUMBER_TOKENS = [
    "1953", "1,000", "120", "2", "12", "1-B", "B", "on", "the", "second", "First", "for",
    "I vote", "my vote:", "or maybe", "4-AB", "#1953", "Q1953", "1953-B", "B on 1953",
    "\u0661\u0669\u0665\u0663", "\u0662", "\uff11", "A", "b", "yes", "->", "=>",
]  # fmt: skip
number_lines = st.lists(
    st.tuples(st.sampled_from(NUMBER_TOKENS), st.sampled_from(VOTING_SEPARATORS)), max_size=10
).map(lambda pairs: "".join(t + s for t, s in pairs))


@settings(max_examples=800)
@given(st.one_of(number_lines, voting_lines, any_text))
def test_a_line_with_only_long_numbers_and_no_ordinal_reads_as_no_answer(line):
    """hints.may_answer, the pre-check read_line takes after a line's lead, hides nothing:
    where it says no, no answer, letters-first answer, statement or mention is read
    from any position a line's lead can end at (a lead is markers and words: it
    never ends inside a number)."""
    if hints.may_answer(line):
        return
    assert grammar._read_unnumbered(line, 0, VOTE) is None
    for pos in range(len(line) + 1):
        if pos and line[pos - 1].isdigit():
            continue
        assert grammar._read_answers(line, pos, VOTE, after_phrase=True) == ()
        assert grammar._read_answers(line, pos, VOTE, after_phrase=False) == ()


@settings(max_examples=800)
@given(st.one_of(number_lines, voting_lines, any_text))
def test_the_line_walk_skips_only_lines_the_rules_after_the_grammar_read_as_nothing(line):
    """_read_line's use of hints.may_answer: a line it skips reads as the declaring
    lead, revisions, doubt and the unknown-shape check would have read it."""
    if hints.may_answer(line) or not re.search(r"\d", line):
        return
    read = declared.declared(grammar.read_line(line, VOTE), line, VOTE)
    read = revise.doubted(revise.with_revisions(read, line, VOTE), line, VOTE)
    assert lines._read_line(line, VOTE) == (read, bool(grammar.UNKNOWN_SHAPE.match(line)))
