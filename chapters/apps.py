from django.apps import AppConfig


class ChaptersConfig(AppConfig):
    name = "chapters"

    def ready(self) -> None:
        # What the quest app's pages show of chapters; quest/registry.py says why hooks.
        from chapters import selectors
        from quest import registry

        registry.quests_with_chapters.fill(selectors.quests_with_chapters)
        registry.thread_open_vote.fill(selectors.open_vote)
        registry.thread_closed_vote.fill(selectors.last_closed_vote)
        registry.quest_has_chapters.fill(selectors.has_chapters)
