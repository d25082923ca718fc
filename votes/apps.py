from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "votes"

    def ready(self) -> None:
        # Reading and its previews, asked for by the apps below this one;
        # quest/registry.py says why hooks.
        from quest import registry
        from votes import previews, selectors, services

        registry.post_needs_reading.fill(services.reading_request)
        registry.read_as_lines.fill(previews.read_as_lines)
        registry.reply_vote.fill(selectors.reply_vote)
        registry.post_vote.fill(selectors.vote_for_post)
        registry.edit_preview.fill(previews.edit_preview)
        registry.vote_changed.fill(services.vote_reread_request)
        registry.vote_reopened.fill(services.tally_unfreeze)
        registry.ballot_panel.fill(selectors.ballot_panel)
