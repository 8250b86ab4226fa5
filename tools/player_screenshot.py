"""Render a bill through the real service and photograph its player at phone size, with the
buttons over the video showing (docs/images/player-phone.png).

    PYTHONPATH=. python tools/player_screenshot.py [BILL.json] [OUT.png]

Default bill: examples/it_overdue.json made firm (a chronic late payer), so all three
buttons show. Needs ffmpeg and Chromium (playwright with the system's browser).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.infra.settings import Settings
from app.rendering.job import run_render_with
from app.wiring import create_app
from tests.realparts import CHROMIUM_ARGS, find_chromium, free_port

ROOT = Path(__file__).resolve().parents[1]
PHONE = {"width": 390, "height": 844}


def main() -> None:
    bill_file = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "it_overdue.json"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "images" / "player-phone.png"
    bill = json.loads(bill_file.read_text("utf-8"))
    if len(sys.argv) <= 1:
        bill["customer"]["segment"] = "chronic"
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app = create_app(Settings(data_dir=Path(tmp), public_url=base), start_queue=False)
        services = app.extensions["billreel"]
        key = create_key(services.db, "screenshot")
        made = app.test_client().post(
            "/v1/renders", json={"template": "bill-explainer", "data": bill},
            headers={"Authorization": f"Bearer {key}"},
        ).get_json()  # fmt: skip
        assert run_render_with(services, made["id"]) == "done"
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=find_chromium(),
                                                     args=CHROMIUM_ARGS)  # fmt: skip
                page = browser.new_page(viewport=PHONE, device_scale_factor=2)
                page.goto(made["links"]["microsite"], wait_until="load")
                start = float(page.get_attribute("a.cta-pay", "data-start") or 0)
                page.evaluate(
                    """async t => { const v = document.querySelector('video');
                    v.preload = 'auto'; v.muted = true;
                    await new Promise(r => { v.addEventListener('loadeddata', r, {once: true});
                                             v.load(); });
                    await new Promise(r => { v.addEventListener('seeked', r, {once: true});
                                             v.currentTime = t; });
                    while (v.readyState < 4) {
                      await new Promise(r => v.addEventListener('canplaythrough', r, {once: true}));
                    } }""",
                    start + 1.5,
                )
                page.evaluate("() => document.getElementById('video-heading').scrollIntoView()")
                page.wait_for_timeout(500)  # the player's spinner fades after the seek
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            server.shutdown()
            services.db.dispose()
    print(out)


if __name__ == "__main__":
    main()
