# The Betterwork image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries, the Noto fonts for every programme's script (Khmer, Bengali,
# Ethiopic, Arabic, Latin with Vietnamese), gettext for the translations, the PostgreSQL client.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-noto-core fonts-noto-ui-core gettext postgresql-client curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
RUN DEBUG=1 python manage.py compilemessages --ignore=.venv \
    && DEBUG=0 SECRET_KEY=build-only-not-secret ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input \
    && useradd --create-home --uid 10001 betterwork \
    && mkdir -p /app/var/media && chown -R betterwork:betterwork /app/var

USER betterwork
EXPOSE 8000
CMD ["gunicorn", "betterwork.wsgi:application", "--config", "docker/gunicorn.conf.py"]
