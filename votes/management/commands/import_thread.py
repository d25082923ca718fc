from django.core.management.base import BaseCommand, CommandError

from votes.importers.sources import FORMATS, Source, SourceError, source_file, sources_import


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
            # A JSON file is streamed from disk as it is imported, never read whole.
            sources = [_source(file, format) for file in files]
            quest = sources_import(sources, format=format, slug=slug)
        except SourceError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(quest.slug)


def _source(file: str, format: str | None) -> Source:
    try:
        return source_file(file, format=format)
    except OSError as e:
        raise CommandError(f"cannot read {file}: {e}") from None
