"""Threads in and out: every way a whole thread enters or leaves the app, one module per format.

They live in votes because an import creates quests, chapters and votes at once
(and asks for the recount); nothing below votes imports them.

- `sources`: the one way in: files of any format (`import_thread FILE...`) checked,
  made into one `quest-thread/1` document and imported by `thread_json`.
- `thread_json`: the `quest-thread/1` JSON document (import).
- `export`: a quest as a `quest-thread/1` document.
- `paste`: plain-text copies of forum thread pages, merged and turned into a
  `quest-thread/1` document (pure: no Django) that `thread_json` imports.
- `xenforo`: saved XenForo 2 thread pages, read into the posts of a `quest-thread/1`
  document (pure: no Django).
- `xenforo_thread`: pages read by `xenforo` put together into a whole `quest-thread/1`
  document: quest master, chapters, votes (pure: no Django).
"""
