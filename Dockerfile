# 农e贷 application image: the API, the worker and the `nongedai` command (see docker-compose.yml).
FROM python:3.11-slim-bookworm

# Pango/HarfBuzz and CJK fonts: weasyprint renders the Chinese contract PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# NUMBA_CACHE_DIR: the batch scorer's compiled code is cached on disk, and only var/ is writable here.
# PYTHONPATH keeps the source tree first on sys.path: templates/, alembic.ini and db/migrations are found
# beside the code rather than in site-packages, where `pip install .` would not put them.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    NUMBA_CACHE_DIR=/app/var/numba

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app nongedai \
    && mkdir -p /app/var && chown nongedai /app/var

USER nongedai
EXPOSE 8000
CMD ["nongedai", "api", "--host", "0.0.0.0", "--port", "8000"]
