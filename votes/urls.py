from django.urls import path

from votes import views

urlpatterns = [
    path("chapters/<int:number>/tally/", views.chapter_tally, name="chapter-tally"),
    path("chapters/<int:number>/tally.json", views.chapter_tally_json, name="chapter-tally-json"),
    path(
        "chapters/<int:number>/tally.bbcode",
        views.chapter_tally_bbcode,
        name="chapter-tally-bbcode",
    ),
    path(
        "chapters/<int:number>/ballots.csv", views.chapter_ballots_csv, name="chapter-ballots-csv"
    ),
    path("chapters/<int:number>/outcome/", views.vote_outcome, name="vote-outcome"),
    path("chapters/<int:number>/next/", views.next_chapter, name="chapter-next"),
]
