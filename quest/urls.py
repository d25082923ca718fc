from django.contrib import admin
from django.urls import include, path

from quest import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    # Before django.contrib.auth's own: these two are rate limited.
    path("accounts/login/", views.log_in, name="login"),
    path("accounts/password_reset/", views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("preview/", views.bbcode_preview, name="bbcode-preview"),
    path("quests/new/", views.quest_create, name="quest-create"),
    path("import/", include("votes.import_urls")),
    path("q/<slug:slug>/", views.quest_thread, name="quest-thread"),
    path("q/<slug:slug>/post/", views.post_reply, name="post-reply"),
    path("q/<slug:slug>/p/<int:ref>/", views.post_permalink, name="post-permalink"),
    path("q/<slug:slug>/p/<int:ref>/edit/", views.post_edit, name="post-edit"),
    path("q/<slug:slug>/p/<int:ref>/edit/read/", views.post_edit_reading, name="post-edit-reading"),
    path("q/<slug:slug>/p/<int:ref>/revisions/", views.post_revisions, name="post-revisions"),
    path("q/<slug:slug>/moderators/", views.quest_moderators, name="quest-moderators"),
    path("q/<slug:slug>/members/", views.quest_members, name="quest-members"),
    path("q/<slug:slug>/join/<str:token>/", views.quest_join, name="quest-join"),
    path("q/<slug:slug>/", include("chapters.urls")),
    path("q/<slug:slug>/", include("votes.urls")),
    path("help/voting/", views.help_voting, name="help-voting"),
    path("csp-report/", views.csp_report, name="csp-report"),
]
