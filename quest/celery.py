"""The Celery app. Workers: `celery -A quest worker`; periodic tasks: `celery -A quest beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")

app = Celery("quest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
