from django.contrib import admin

from quest.models import (
    ForumIdentity,
    ForumNameClaim,
    Membership,
    Post,
    PostRevision,
    Quest,
    QuestEvent,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fk_name = "quest"
    raw_id_fields = ("user", "appointed_by")


@admin.register(Quest)
class QuestAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "quest_master", "is_public", "last_activity_at", "created_at")
    list_filter = ("is_public",)
    list_select_related = ("quest_master",)
    search_fields = ("title", "slug", "quest_master__username")
    raw_id_fields = ("quest_master",)
    date_hierarchy = "last_activity_at"
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "quest", "role", "appointed_by", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "quest", "appointed_by")
    search_fields = ("user__username", "quest__title", "quest__slug")
    raw_id_fields = ("quest", "user", "appointed_by")


@admin.register(QuestEvent)
class QuestEventAdmin(admin.ModelAdmin):
    list_display = ("quest", "kind", "by", "at")
    list_filter = ("kind",)
    list_select_related = ("quest", "by")
    search_fields = ("quest__slug", "by__username")
    readonly_fields = ("quest", "kind", "by", "at", "data")

    def has_add_permission(self, request) -> bool:
        # The record is written by quest.services, in the change's transaction.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PostRevisionInline(admin.TabularInline):
    model = PostRevision
    extra = 0
    fields = ("version", "created_at", "editor", "body")
    readonly_fields = fields
    can_delete = False
    ordering = ("version",)

    def has_add_permission(self, request, obj=None) -> bool:
        # Revisions are history: they are written by post_edit, never by hand.
        return False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = (
        "ref",
        "seq",
        "quest",
        "author",
        "posted_at",
        "edited_at",
        "version",
        "imported",
    )
    list_filter = ("imported", "quest", ("edited_at", admin.EmptyFieldListFilter))
    list_select_related = ("quest", "author")
    search_fields = ("author__username", "body")
    raw_id_fields = ("quest", "author")
    # Posts change through quest.services (which keeps revisions and asks for
    # a re-read); the admin shows them without offering to bypass that.
    readonly_fields = ("seq", "ref", "version", "body", "posted_at", "edited_at", "imported")
    date_hierarchy = "posted_at"
    inlines = [PostRevisionInline]


@admin.register(PostRevision)
class PostRevisionAdmin(admin.ModelAdmin):
    list_display = ("post", "version", "editor", "created_at")
    list_select_related = ("post", "editor")
    search_fields = ("post__author__username", "body")
    raw_id_fields = ("post", "editor")
    readonly_fields = ("post", "version", "body", "created_at", "editor")


@admin.register(ForumIdentity)
class ForumIdentityAdmin(admin.ModelAdmin):
    list_display = ("name", "forum", "forum_user_id", "user", "linked_user", "linked_at")
    list_filter = ("forum",)
    list_select_related = ("user", "linked_user")
    search_fields = ("name", "forum", "user__username", "linked_user__username")
    raw_id_fields = ("user", "linked_user")


@admin.register(ForumNameClaim)
class ForumNameClaimAdmin(admin.ModelAdmin):
    list_display = ("name", "forum", "user", "quest", "status", "created_at", "expires_at")
    list_filter = ("status",)
    list_select_related = ("user", "quest")
    search_fields = ("name", "code", "user__username", "quest__slug")
    raw_id_fields = ("quest", "user", "post", "identity")
