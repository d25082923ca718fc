import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from votes.importing import thread_import


class Command(BaseCommand):
    help = "Import a quest thread (quest-thread/1 JSON); prints the quest's slug."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["json"], default="json")

    def handle(self, *args, file, **options):
        try:
            with open(file, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CommandError(f"cannot read {file}: {e}") from None
        try:
            quest = thread_import(data)
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from None
        self.stdout.write(quest.slug)
