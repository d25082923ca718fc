"""Threads in and out: every way a whole thread enters or leaves the app, one module per format.

They live in votes because an import creates quests, chapters and votes at once
(and asks for the recount); nothing below votes imports them.

- `thread_json`: the `quest-thread/1` JSON document (import).
- `export`: a quest as a `quest-thread/1` document.
- `paste`: a plain-text copy of a forum thread page, turned into a `quest-thread/1`
  document (pure: no Django) that `thread_json` imports.
- `xenforo`: saved XenForo 2 thread pages, read into the posts of a `quest-thread/1`
  document (pure: no Django).
"""
