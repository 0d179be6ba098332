# feedbot as a daemon: config/ and state/ are volumes; runs as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .

COPY config ./config
RUN useradd --create-home --uid 10001 feedbot \
    && mkdir -p /app/state \
    && chown -R feedbot /app/state
USER feedbot

VOLUME ["/app/config", "/app/state"]
HEALTHCHECK --interval=5m --timeout=10s CMD ["feedbot", "health"]
CMD ["feedbot", "run"]
