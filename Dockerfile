# One image for web, worker and beat; configured entirely by environment (see README, "Configuration").
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && mkdir -p static_build/vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js static_build/vendor/ \
    && cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map \
       static_build/vendor/

FROM python:3.11-slim-bookworm

# Static files are collected into the image (STATIC_ROOT, hashed and gzipped names that WhiteNoise serves), not
# under VAR_DIR: that is a volume, which would keep serving an earlier image's files.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var STATIC_ROOT=/app/static_root
WORKDIR /app

COPY pyproject.toml README.md ./
# The desk's apps; devtools/ (sandbox platform, SMTP sink, demo data) stays out of the production image.
COPY config ./config
COPY core ./core
COPY audit ./audit
COPY platforms ./platforms
COPY accounts ./accounts
COPY alerts ./alerts
COPY cases ./cases
COPY intake ./intake
COPY evidence ./evidence
COPY referral ./referral
COPY search ./search
COPY notifications ./notifications
COPY liveness ./liveness
COPY reports ./reports
COPY templates ./templates
COPY static ./static
COPY --from=assets /build/static_build ./static_build
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && useradd --system --home /app desk \
    && mkdir -p /app/var /app/static_root && chown desk /app/var /app/static_root
USER desk
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application"]
