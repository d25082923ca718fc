from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from votes.importers.sources import FORMATS, SourceError, source_read, sources_import, too_large


class Command(BaseCommand):
    help = (
        "Import a quest thread: a quest-thread/1 JSON file, plain-text pastes of thread "
        "pages, or saved XenForo thread pages (several files: pages of one thread, in "
        "order); prints the quest's slug. Importing the same files again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help=(
                "json, text or xenforo; by default a file starting with '{' is JSON, "
                "one starting with '<' a XenForo page, any other text."
            ),
        )
        parser.add_argument(
            "--slug",
            default=None,
            help=(
                "the quest to import into (default: a paste's from the thread title, forum "
                "pages' from the thread's address, a JSON file's its own)"
            ),
        )

    def handle(self, *args, files, format=None, slug=None, **options):
        try:
            sources = [source_read(file, _read_bytes(file)) for file in files]
            quest = sources_import(sources, format=format, slug=slug)
        except SourceError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(quest.slug)


def _read_bytes(file: str) -> bytes:
    # Read one byte past the limit, never the whole of an oversized file.
    try:
        with open(file, "rb") as f:
            raw = f.read(settings.IMPORT_MAX_BYTES + 1)
    except OSError as e:
        raise CommandError(f"cannot read {file}: {e}") from None
    if len(raw) > settings.IMPORT_MAX_BYTES:
        raise CommandError(too_large(file))
    return raw
