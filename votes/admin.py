from django.contrib import admin

from votes.models import Ballot, Decision, Outcome, Reading, RecountState, TallyRun


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = (
        "post",
        "vote",
        "kind",
        "post_version",
        "spec_version",
        "rules_version",
        "read_at",
    )
    list_filter = ("kind", "rules_version")
    raw_id_fields = ("post", "vote")


@admin.register(Ballot)
class BallotAdmin(admin.ModelAdmin):
    list_display = ("voter", "vote", "is_current", "updated_at")
    list_filter = ("is_current",)
    search_fields = ("voter",)
    raw_id_fields = ("vote",)


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Decisions are the audit trail: read-only here, made through the moderator pages."""

    list_display = ("post", "prompt", "action", "by", "at")
    list_filter = ("action",)
    raw_id_fields = ("post", "vote")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TallyRun)
class TallyRunAdmin(admin.ModelAdmin):
    list_display = ("vote", "created_at", "sha256", "rules_version", "is_final")
    list_filter = ("is_final",)
    raw_id_fields = ("vote",)


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ("vote", "prompt", "letters", "by", "at")
    raw_id_fields = ("vote",)


@admin.register(RecountState)
class RecountStateAdmin(admin.ModelAdmin):
    """Written by the recount pipeline only: shown, never edited here."""

    list_display = ("vote", "wanted_at", "queued_at", "done_at")
    raw_id_fields = ("vote",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
