"""One small function per kind of quest event; each writes an append-only row.

Call them inside the transaction that makes the change, so the record and
the change land together or not at all.
"""

from quest.models import Quest, QuestEvent


def _log(quest: Quest, kind: str, *, by, **data) -> QuestEvent:
    return QuestEvent.objects.create(quest=quest, kind=kind, by=by, data=data)


def member_invited(quest: Quest, *, by, user) -> QuestEvent:
    return _log(quest, QuestEvent.Kind.MEMBER_INVITED, by=by, user=user.get_username())


def member_joined(quest: Quest, *, user) -> QuestEvent:
    return _log(quest, QuestEvent.Kind.MEMBER_JOINED, by=user, user=user.get_username())


def member_removed(quest: Quest, *, by, user) -> QuestEvent:
    return _log(quest, QuestEvent.Kind.MEMBER_REMOVED, by=by, user=user.get_username())


def invite_link_reset(quest: Quest, *, by) -> QuestEvent:
    return _log(quest, QuestEvent.Kind.INVITE_LINK_RESET, by=by)


def visibility_changed(quest: Quest, *, by) -> QuestEvent:
    kind = QuestEvent.Kind.MADE_PUBLIC if quest.is_public else QuestEvent.Kind.MADE_PRIVATE
    return _log(quest, kind, by=by)


def forum_linked(quest: Quest, *, by, url: str, refresh_minutes: int) -> QuestEvent:
    return _log(
        quest, QuestEvent.Kind.FORUM_LINKED, by=by, url=url, refresh_minutes=refresh_minutes
    )


def forum_unlinked(quest: Quest, *, by, url: str) -> QuestEvent:
    return _log(quest, QuestEvent.Kind.FORUM_UNLINKED, by=by, url=url)
