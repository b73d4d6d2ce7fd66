# Slim, non-root image. Serves on $PORT and applies migrations on start (`serve` does both).
FROM python:3.11-slim AS build
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements.lock ./
RUN uv venv /venv && uv pip install --python /venv/bin/python --no-cache -r requirements.lock
COPY pyproject.toml README.md LICENSE app.yml ./
COPY bot ./bot
COPY prompts ./prompts
# Editable install: the package reads prompts/ and app.yml beside it, in /app.
RUN uv pip install --python /venv/bin/python --no-cache --no-deps -e .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 issuewright \
    && mkdir /data && chown issuewright /data
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /data
USER issuewright
ENV PATH=/venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    DATABASE_URL=sqlite+aiosqlite:////data/issuewright.db \
    PYTHONUNBUFFERED=1
EXPOSE 3000
# For `serve` (a worker serves no HTTP: docker-compose.yml disables this check for workers).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s \
    CMD python -c "import os,urllib.request;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz',timeout=4)"
CMD ["issuewright", "serve"]
