# convhub: the hub API (`convhub serve`) and the delivery worker (`convhub worker`) in one image.
# Build: docker build -t convhub .   Run with PostgreSQL: see compose.yaml and the README.

# Stage 1: build the wheel (and the wheels of its dependencies) with the build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Stage 2: only the installed packages, run as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONVHUB_ENV=production
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin convhub
USER convhub
WORKDIR /tmp
EXPOSE 8000
# The slim image has no curl: Python asks /health/live (the process answers); orchestrators
# that route traffic should also watch /health/ready (database, migrations, worker).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status != 200)"]
# `convhub serve` migrates the database first, then serves. The worker service of compose.yaml
# runs `convhub worker --host 0.0.0.0 --port 8000` from this same image.
CMD ["convhub", "serve", "--host", "0.0.0.0", "--port", "8000"]
