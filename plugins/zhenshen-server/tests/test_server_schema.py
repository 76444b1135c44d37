"""schemathesis against a live ``zhenshen serve``: generated requests to every operation of the
OpenAPI document; no answer is a 5xx, and every answer's status, content type and body are what
the document says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")
pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin")

import zhenshen_chengdu_gaoxin  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from zhenshen_server_testkit import make_key, start_server  # noqa: E402

PACK = Path(zhenshen_chengdu_gaoxin.__file__).parent / "pack"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_no_5xx_and_every_answer_matches_the_schema(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    key = make_key(store, "admin", pii=True)[1]
    server = start_server(store, tmp_path, ["--desk", f"default={PACK}", "--sweep-every", "0"])
    headers = {"Authorization": f"Bearer {key}"}
    tried = []
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path == "/v1/admin/reload":
                continue  # loads every pack: its own tests cover it, and it is slow here
            tried.append(f"{operation.method.upper()} {operation.path}")

            @given(operation.as_strategy())
            @settings(max_examples=12, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def answers_as_documented(case: Any) -> None:
                case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

            answers_as_documented()
    finally:
        assert server.stop() == 0, server.output()
    assert len(tried) >= 12, tried
