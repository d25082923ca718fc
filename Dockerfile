# The image web, worker and beat run (docker-compose.yml).
FROM python:3.12-slim AS base

# The reader compiled with mypyc (bin/build-reader, votes/reading/compiled.py), in a
# stage of its own so that the image carries the compiled modules, not the compiler.
FROM base AS reader
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-dev.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements-dev.txt
COPY bin/build-reader ./bin/
COPY quest ./quest
COPY chapters ./chapters
COPY votes ./votes
RUN python bin/build-reader --strict

FROM base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Requirements first, so a code change does not reinstall them.
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt

# The app only, named one by one: .venv, tests and local databases stay out.
COPY manage.py ./
COPY quest ./quest
COPY chapters ./chapters
COPY votes ./votes
COPY templates ./templates
COPY static ./static
COPY demo ./demo
COPY --from=reader /app/.build ./.build

# Static files are collected at build time and served by whitenoise; the key
# is a placeholder that exists only for this step.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --system --no-create-home --uid 10001 quest
# Forum pages a followed thread was read from (FORUM_CACHE_DIR, a volume in docker-compose.yml).
RUN mkdir -p /var/cache/quest-forum && chown quest /var/cache/quest-forum
USER quest

EXPOSE 8000
CMD ["gunicorn", "quest.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
