from django.urls import path

from votes.views import audit, ballot, follow, forum_name, tally, voters

urlpatterns = [
    path("chapters/<int:number>/tally/", tally.chapter_tally, name="chapter-tally"),
    path("chapters/<int:number>/tally.json", tally.chapter_tally_json, name="chapter-tally-json"),
    path(
        "chapters/<int:number>/tally.bbcode",
        tally.chapter_tally_bbcode,
        name="chapter-tally-bbcode",
    ),
    path(
        "chapters/<int:number>/ballots.csv", tally.chapter_ballots_csv, name="chapter-ballots-csv"
    ),
    path("chapters/<int:number>/tally/voters/", voters.tally_voters, name="tally-voters"),
    path("chapters/<int:number>/outcome/", tally.vote_outcome, name="vote-outcome"),
    path("chapters/<int:number>/next/", tally.next_chapter, name="chapter-next"),
    path("chapters/<int:number>/merges/", tally.entry_merge, name="entry-merge"),
    path("chapters/<int:number>/merges/split/", tally.entry_split, name="entry-split"),
    path("chapters/<int:number>/ballot/", ballot.chapter_ballot, name="ballot-submit"),
    path(
        "chapters/<int:number>/ballot-panel/",
        ballot.chapter_ballot_panel,
        name="chapter-ballot-panel",
    ),
    path("chapters/<int:number>/read/", ballot.reading_preview, name="reading-preview"),
    path("chapters/<int:number>/audit/", audit.vote_audit, name="vote-audit"),
    path("chapters/<int:number>/audit/decide/", audit.vote_decide, name="vote-decide"),
    path("chapters/<int:number>/audit/undo/", audit.vote_undo, name="vote-undo"),
    path("chapters/<int:number>/audit/verify/", audit.vote_verify, name="vote-verify"),
    path("follow/", follow.quest_follow, name="quest-follow"),
    path("follow/status/", follow.quest_follow_status, name="quest-follow-status"),
    path("follow/refresh/", follow.quest_follow_refresh, name="quest-follow-refresh"),
    path("forum-name/", forum_name.quest_forum_name, name="quest-forum-name"),
]
