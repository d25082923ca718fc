"""Reading ballots out of forum posts (pure Python: no Django here).

Public entry points: read_post, read_thread, ReadingContext (a vote's thread
kept between posts, so each new post is read alone), canonical_text. The data crossing
the edge is in votes.reading.types; the grammar is documented in README.md.
`COMPILED` says whether the mypyc build of these modules is in use (compiled.py).
"""

from . import compiled as _compiled

COMPILED = _compiled.use_build(__path__)

from .canonical import canonical_text  # noqa: E402  (after the build is chosen)
from .reader import ReadingContext, line_suggestions, read_post, read_thread  # noqa: E402

__all__ = [
    "COMPILED",
    "ReadingContext",
    "canonical_text",
    "line_suggestions",
    "read_post",
    "read_thread",
]
