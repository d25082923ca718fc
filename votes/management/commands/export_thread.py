import json

from django.core.management.base import BaseCommand, CommandError

from quest.models import Quest
from votes.importers.export import thread_export


class Command(BaseCommand):
    help = "Print a quest's whole thread as quest-thread/1 JSON."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        quest = Quest.objects.filter(slug=slug).first()
        if quest is None:
            raise CommandError(f"no quest with slug {slug!r}")
        self.stdout.write(json.dumps(thread_export(quest), ensure_ascii=False, indent=1))
