from django.contrib import admin

from chapters.models import Chapter, Option, Prompt, Vote, VoteEvent


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["title", "quest__slug", "quest__title"]
    raw_id_fields = ["quest", "post", "follows_vote"]


class PromptInline(admin.TabularInline):
    model = Prompt
    extra = 0
    show_change_link = True


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "opens_at", "closes_at", "results_visibility"]
    list_filter = ["status", "results_visibility"]
    search_fields = ["chapter__title", "chapter__quest__slug"]
    raw_id_fields = ["chapter", "post"]
    readonly_fields = ["spec_version"]
    inlines = [PromptInline]


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["__str__", "vote", "kind"]
    list_filter = ["kind"]
    raw_id_fields = ["vote"]
    inlines = [OptionInline]


@admin.register(Option)
class OptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "prompt"]
    raw_id_fields = ["prompt"]


@admin.register(VoteEvent)
class VoteEventAdmin(admin.ModelAdmin):
    """The record is append-only: the admin shows it and changes nothing."""

    list_display = ["vote", "kind", "by", "at", "reason"]
    list_filter = ["kind"]
    search_fields = ["reason", "vote__chapter__quest__slug"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
