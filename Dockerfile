# feedbot as a daemon. Mount your config read-only on /app/config and a folder owned by
# uid 10001 (or run with --user) on /app/state; see README.md, "Running it in Docker".
FROM python:3.11.14-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# exact versions from the lock, in a layer of their own: editing code or the README
# reuses it; only a new lock file installs the dependencies again
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# the package itself, nothing resolved
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps .

# the sample configuration, so the image runs out of the box; mount yours over it
COPY config ./config
RUN useradd --create-home --uid 10001 feedbot \
    && mkdir -p /app/state \
    && chown feedbot /app/state
USER 10001

VOLUME ["/app/state"]
HEALTHCHECK --interval=1m --timeout=10s --start-period=2m --retries=3 CMD ["feedbot", "health"]
CMD ["feedbot", "run"]
