from django.urls import path

from chapters import views

urlpatterns = [
    path("chapters/", views.chapter_index, name="chapter-index"),
    path("chapters/new/", views.chapter_create, name="chapter-create"),
    path("chapters/preview/", views.chapter_preview, name="chapter-preview"),
    path("chapters/<int:number>/", views.chapter_detail, name="chapter-detail"),
    path("chapters/<int:number>/edit/", views.chapter_edit, name="chapter-edit"),
    path("chapters/<int:number>/publish/", views.chapter_publish, name="chapter-publish"),
    path("chapters/<int:number>/vote/", views.vote_prompts, name="vote-prompts"),
    path("chapters/<int:number>/vote/paste/", views.vote_paste, name="vote-paste"),
    path("chapters/<int:number>/vote/close/", views.vote_close, name="vote-close"),
    path("chapters/<int:number>/vote/extend/", views.vote_extend, name="vote-extend"),
    path("chapters/<int:number>/vote/reopen/", views.vote_reopen, name="vote-reopen"),
    path("chapters/<int:number>/vote/events/", views.vote_events, name="vote-events"),
]
