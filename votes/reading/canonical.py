"""The canonical text of a ballot: what the players' ballot form posts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .types import Answer, PromptKind, VoteSpec

_BLANK_LINES = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*)+")


def canonical_text(answers: Sequence[Answer], vote: VoteSpec) -> str:
    """One line per answer, in prompt order: "1-B", "4-AC", "5-C>A>B", "3-text".

    A write-in keeps its line breaks but loses blank lines, since a blank line
    ends a numbered write-in when the text is read back.
    """
    lines = []
    for answer in sorted(answers, key=lambda a: a.prompt):
        prompt = vote.prompt(answer.prompt)
        if prompt is None:
            continue
        if answer.text is not None:
            lines.append(f"{answer.prompt}-{_BLANK_LINES.sub(chr(10), answer.text.strip())}")
        elif prompt.kind is PromptKind.RANKED:
            lines.append(f"{answer.prompt}-{'>'.join(answer.letters)}")
        elif answer.letters:
            lines.append(f"{answer.prompt}-{''.join(answer.letters)}")
    return "\n".join(lines)
