# One image for web, worker, beat and the one-off migrate service (docker-compose.yml). Fonts for Chinese PDFs and
# Pango for WeasyPrint. .dockerignore keeps .venv, node_modules, var/ and .git out of the build context.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk fontconfig nodejs npm \
 && rm -rf /var/lib/apt/lists/*
# The processes run as this unprivileged user, never as root.
RUN groupadd --system --gid 10001 qts \
 && useradd --system --uid 10001 --gid qts --create-home --home-dir /home/qts --shell /usr/sbin/nologin qts
WORKDIR /app
COPY pyproject.toml package.json package-lock.json ./
COPY requirements/lock.txt requirements/lock.txt
RUN npm ci --no-audit --no-fund --loglevel=error
# Exactly the versions and file hashes of the lock (scripts/setup.sh installs the same).
RUN pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY . .
# collectstatic at build time; the placeholders only satisfy the production settings' checks for this one command.
RUN pip install --no-cache-dir --no-deps -e . \
 && DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
    EMAIL_URL=smtp://localhost:25 DJANGO_DEFAULT_FROM_EMAIL=build@localhost \
    DATABASE_URL=postgres://build@localhost:5432/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
 && mkdir -p /data/media /data/beat \
 && chown -R qts:qts /data /app/var
ENV DJANGO_SETTINGS_MODULE=config.settings.production
USER qts
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
