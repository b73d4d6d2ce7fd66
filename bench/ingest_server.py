"""Server side of bench/ingest.py: `python -m bench.ingest_server (app|bare) PORT DB_URL`."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from litestar import Litestar, Response, post

from bot.app import create_app
from bot.settings import Settings
from bot.store.migrate import upgrade_sync

SECRET = "bench-secret"


@post("/webhooks/github", status_code=202)
async def bare() -> Response[bytes]:
    """The baseline: answers 202 without reading the body."""
    return Response(content=b"", status_code=202)


def main() -> None:
    kind, port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "bare":
        app = Litestar(route_handlers=[bare], openapi_config=None)
    else:
        upgrade_sync(url)
        settings = Settings(
            webhook_secret=SECRET,
            database_url=url,
            run_worker=kind == "app+worker",
            data_dir=Path(url.rsplit("/", 1)[0].removeprefix("sqlite+aiosqlite:///")),
        )
        app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
