"""Load the demo quest: the seed thread's chapter 2 and an open vote on chapter 3."""

import json
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from chapters.kinds import PromptKind
from chapters.models import Chapter
from chapters.prompts import OptionData, PromptData
from chapters.services import chapter_create, chapter_publish, vote_prompts_set
from quest.services import imported_author_get_or_create
from votes.importers.thread_json import thread_import

DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "red-alert-ch2.thread.json"

# Local demo only: these accounts exist to be logged into from the README.
ACCOUNTS = [
    ("panpiotr", "quest master", "red-alert-qm"),
    ("Lyudmila_K", "moderator", "red-alert-mod"),
    ("RedBanner", "player", "red-alert-player"),
    ("newcomer", "player (has not voted yet)", "red-alert-new"),
]

CHAPTER_3_BODY = """The Presidium meets in the Kremlin's Catherine Hall. Zhukov, fresh from \
the funeral commission, asks the comrades to settle the first hundred days.

[SPOILER="Situation report"]
Armistice talks at Panmunjom have stalled over prisoner repatriation. Grain \
procurement is behind plan, and Belgrade has answered our first letter.
[/SPOILER]"""

CHAPTER_3_PROMPTS = [
    PromptData(
        1,
        PromptKind.SINGLE,
        "How should our delegation handle the Korean armistice talks?",
        [
            OptionData("A", "Push for a quick armistice"),
            OptionData("B", "Hold out for better terms on prisoners"),
        ],
    ),
    PromptData(
        2,
        PromptKind.MULTI,
        "Which ministries should be reorganised first?",
        [
            OptionData("A", "Agriculture and Procurement"),
            OptionData("B", "Coal and Oil"),
            OptionData("C", "Light Industry"),
        ],
    ),
    PromptData(
        3,
        PromptKind.RANKED,
        "Rank our diplomatic priorities",
        [OptionData("A", "China"), OptionData("B", "Yugoslavia"), OptionData("C", "Germany")],
    ),
    PromptData(4, PromptKind.WRITE_IN, "Name the first decree of the new Minister of Agriculture."),
]


class Command(BaseCommand):
    help = "Load the demo quest (idempotent) and print the demo accounts."

    def handle(self, *args, **options):
        with transaction.atomic():
            with open(DEMO_FILE, encoding="utf-8") as f:
                quest = thread_import(json.load(f))
            for name, _, password in ACCOUNTS:
                user = imported_author_get_or_create(name=name)
                user.set_password(password)
                user.save(update_fields=["password"])
            self._open_chapter_3(quest)
        self.stdout.write(f"Demo quest: {settings.SITE_URL}/q/{quest.slug}/")
        self.stdout.write("Demo accounts (username / password):")
        for name, role, password in ACCOUNTS:
            self.stdout.write(f"  {name:<12} {password:<18} {role}")

    def _open_chapter_3(self, quest) -> None:
        if Chapter.objects.filter(quest=quest, number=3).exists():
            return
        qm = quest.quest_master
        chapter = chapter_create(
            quest=quest,
            number=3,
            title="Chapter Three: The Hundred Days (April - June 1953)",
            body=CHAPTER_3_BODY,
            by=qm,
        )
        vote_prompts_set(
            chapter=chapter,
            prompts=CHAPTER_3_PROMPTS,
            by=qm,
            closes_at=timezone.now() + timedelta(days=3),
        )
        chapter_publish(chapter=chapter, by=qm)
