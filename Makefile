.PHONY: run test setup demo demo-data check-deploy
DEMO_INSTITUTIONS ?= 2000
DEMO_SEED ?= 2023
run:            ## serve the portal with demo data on 127.0.0.1:8000
	bash scripts/run.sh
test:           ## the whole suite against PostgreSQL and Redis
	bash scripts/test.sh
demo:           ## load the demo data into the configured database (DATABASE_URL, or SQLite in var/); refuses one that holds institutions
	bash scripts/setup.sh
	$(MAKE) --no-print-directory demo-data
demo-data:      ## the same without the install step
	.venv/bin/python scripts/ensure_database.py
	.venv/bin/python manage.py migrate --noinput
	.venv/bin/python manage.py seed_demo --institutions $(DEMO_INSTITUTIONS) --seed $(DEMO_SEED)
setup:
	bash scripts/setup.sh --dev
check-deploy:   ## production settings must pass with no warnings
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=portal.example.gov.cn EMAIL_URL=smtp+tls://smtp.example.gov.cn:587 \
	DATABASE_URL=postgres://qts@db.internal:5432/qts REDIS_URL=redis://redis.internal:6379/0 \
	DJANGO_DEFAULT_FROM_EMAIL=noreply@portal.example.gov.cn .venv/bin/python manage.py check --deploy --fail-level WARNING
