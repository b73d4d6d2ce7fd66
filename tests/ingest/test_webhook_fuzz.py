"""Random bodies and headers never make the receiver answer 5xx (nor store anything unsigned)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from bot.app import create_app
from bot.store.db import make_engine
from bot.store.migrate import upgrade
from tests.conftest import _run_sync, make_settings
from tests.ingest.helpers import sign

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=60
)
bodies = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=256).map(str.encode),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda v: __import__("json").dumps(v).encode()),
)


def test_random_requests_never_get_a_5xx(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    _run_sync(migrate)
    app = create_app(make_settings(tmp_path, url))
    with TestClient(app) as client:

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            body=bodies,
            event=header_text,
            delivery=header_text,
            signed=st.booleans(),
            signature=header_text,
        )
        def check(body: bytes, event: str, delivery: str, signed: bool, signature: str) -> None:
            headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
            headers["X-Hub-Signature-256"] = sign(body) if signed else signature
            response = client.post("/webhooks/github", content=body, headers=headers)
            assert response.status_code < 500, (response.status_code, response.text)
            if not signed:
                assert response.status_code == 401

        check()
