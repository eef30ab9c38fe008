# syntax=docker/dockerfile:1
# The sweep worker image: `sweep init|worker|report` against a shared PostgreSQL study storage.
#   docker build -t sweep:local .
#   docker run --rm sweep:local worker studies/quickstart.yaml --storage postgresql+psycopg://...
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    CUDA_VISIBLE_DEVICES=-1 \
    SWEEP_CACHE_DIR=/cache

# Chromium: kaleido renders the report's static PNG figures with the system browser.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies come from pyproject.toml; the pip cache mount keeps rebuilds after a code change fast
# without storing wheels in the image. README* is optional (package metadata only).
COPY pyproject.toml README* ./
COPY sweep ./sweep
RUN --mount=type=cache,target=/root/.cache/pip pip install .

# Default studies; compose mounts ./studies over them so a study edit needs no rebuild.
COPY studies ./studies

# A fixed non-root uid; /cache is created here so a fresh named volume inherits its ownership.
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin sweep \
    && mkdir -p /cache /app/reports \
    && chown sweep:sweep /cache /app/reports
USER sweep

ENTRYPOINT ["sweep"]
CMD ["--help"]
