"""The page routes over plain HTTP: demo mode only, CSP, no token in URLs."""

from __future__ import annotations

from pathlib import Path

from ..factories import Live, start_live


async def test_demo_host_is_404_outside_demo_mode(live: Live) -> None:
    assert (await live.http.get("/demo/host")).status_code == 404
    assert (await live.http.get("/widget")).status_code == 200
    assert (await live.http.get("/widget.js")).status_code == 200


async def test_pages_carry_a_csp_without_inline_scripts(demo_live: Live) -> None:
    for path in ("/demo/host", "/widget"):
        response = await demo_live.http.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "<script>" not in response.text  # every script is a file (or JSON data)
    widget = await demo_live.http.get("/widget")
    assert "frame-ancestors 'self'" in widget.headers["content-security-policy"]


async def test_widget_frame_ancestors_come_from_settings(database_url: str, tmp_path: Path) -> None:
    ancestors = "'self' https://app.example.com"
    async with start_live(database_url, tmp_path, widget_frame_ancestors=ancestors) as live:
        response = await live.http.get("/widget")
    assert f"frame-ancestors {ancestors};" in response.headers["content-security-policy"] + ";"


async def test_static_files_only(demo_live: Live) -> None:
    assert (await demo_live.http.get("/static/widget.js")).status_code == 200
    assert (await demo_live.http.get("/static/nope.js")).status_code == 404
    assert (await demo_live.http.get("/static/..%2Fapi.py")).status_code == 404
    assert (await demo_live.http.get("/demo/host?user=9")).status_code == 404
