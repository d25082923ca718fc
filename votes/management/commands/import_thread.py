import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from votes.importers.paste import PasteError, parse_paste
from votes.importers.thread_json import thread_import

FORMATS = ["json", "text"]


class Command(BaseCommand):
    help = (
        "Import a quest thread (quest-thread/1 JSON, or a plain-text copy of a thread page); "
        "prints the quest's slug."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help="json or text; by default a file starting with '{' is JSON, any other text.",
        )
        parser.add_argument(
            "--slug",
            default=None,
            help="for a text paste: the quest to import into (default: from the thread title)",
        )

    def handle(self, *args, file, format=None, slug=None, **options):
        text = _read_text(file)
        format = format or _guess_format(text)
        if format == "json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise CommandError(f"cannot read {file}: {e}") from None
        else:
            try:
                data = parse_paste(text, slug=slug)
            except PasteError as e:
                raise CommandError(f"cannot read {file}: {e}") from None
        try:
            quest = thread_import(data)
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from None
        self.stdout.write(quest.slug)


def _read_text(file: str) -> str:
    try:
        with open(file, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CommandError(f"cannot read {file}: {e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CommandError(f"cannot read {file}: not UTF-8 text ({e})") from None
    # Valid UTF-8 can still be binary; no thread page or JSON file holds a NUL.
    if "\x00" in text:
        raise CommandError(f"cannot read {file}: it is binary, not text")
    if not text.strip():
        raise CommandError(f"cannot read {file}: the file is empty")
    return text


def _guess_format(text: str) -> str:
    return "json" if text.lstrip().startswith("{") else "text"
