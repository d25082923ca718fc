"""Reading ballots out of forum posts (pure Python: no Django here).

Public entry points: read_post, read_thread, canonical_text. The data crossing
the edge is in votes.reading.types; the grammar is documented in README.md.
"""

from .canonical import canonical_text
from .reader import read_post, read_thread

__all__ = ["canonical_text", "read_post", "read_thread"]
