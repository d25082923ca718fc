"""The import page's addresses: a thread comes in before it has a quest of its own."""

from django.urls import path

from votes.views import imports

urlpatterns = [
    path("", imports.import_thread, name="import-thread"),
    path("<int:pk>/", imports.import_job, name="import-job"),
]
