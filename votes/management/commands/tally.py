import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chapters.models import Vote
from votes import selectors, services
from votes.tally import to_text


class Command(BaseCommand):
    help = "Print a chapter's current tally, computed by the same code the workers run."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--chapter", type=int, required=True)
        parser.add_argument("--format", choices=["json", "bbcode", "text"], default="json")

    def handle(self, *args, slug, chapter, format, **options):
        vote = (
            Vote.objects.filter(chapter__quest__slug=slug, chapter__number=chapter)
            .select_related("chapter__quest", "post")
            .first()
        )
        if vote is None:
            raise CommandError(f"quest {slug!r} has no vote on chapter {chapter}")
        run = services.vote_recount(vote_id=vote.pk)
        if run is None:
            raise CommandError(f"the vote on chapter {chapter} was deleted while it was counted")
        tally = run.data
        if format == "json":
            self.stdout.write(json.dumps(tally, ensure_ascii=False, indent=1))
        elif format == "bbcode":
            self.stdout.write(selectors.tally_bbcode(vote, base_url=settings.SITE_URL))
        else:
            self.stdout.write(to_text(tally))
