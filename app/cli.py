"""The `billreel` command: serve, worker, keys, render one bill locally, demo."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from app.settings import Settings

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
DEMO_WAIT_SECONDS = 600


@click.group()
def main() -> None:
    """billreel: a personal explainer video and microsite for every bill."""


@main.command()
@click.option(
    "--port", type=int, default=None, help="Port to listen on (default BILLREEL_PORT or 8000)."
)
@click.option("--host", default=None, help="Address to bind (default BILLREEL_HOST or 127.0.0.1).")
@click.option("--threads", type=int, default=8, show_default=True, help="Request threads.")
def serve(port: int | None, host: str | None, threads: int) -> None:
    """Run the API and the customer links (embedded defaults when nothing is configured)."""
    import waitress

    from app import create_app
    from app.webhooks import start_dispatcher, webhook_secrets

    settings = _settings(port=port, host=host)
    webhook_secrets(settings)  # a malformed BILLREEL_WEBHOOK_SECRETS fails here, not per poll
    app = create_app(settings)
    start_dispatcher(app.extensions["billreel"])
    click.echo(f"billreel listening on http://{settings.host}:{settings.port}", err=True)
    waitress.serve(app, host=settings.host, port=settings.port, threads=threads, ident="billreel")


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """Run a render worker against Redis (BILLREEL_REDIS_URL)."""
    from worker import run

    sys.exit(run(burst=burst))


@main.group()
def webhooks() -> None:
    """Webhook signing secrets."""


@webhooks.command("secret")
def webhooks_secret() -> None:
    """Print the current signing secret (whsec_...) for billing systems to verify webhooks."""
    from app.webhooks import webhook_secrets

    click.echo(webhook_secrets(Settings.from_env())[0])


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.argument("name")
def keys_create(name: str) -> None:
    """Create an API key and print it (it is shown only once)."""
    from app.keys import create_key
    from app.services import Services

    services = Services.build(Settings.from_env())
    try:
        secret = create_key(services.db, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    click.echo(secret)


@main.command()
@click.argument("bill_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--template", default="bill-explainer", show_default=True)
@click.option(
    "--outputs", default="video,microsite", show_default=True, help="Comma-separated outputs."
)
def render(bill_file: Path, out_dir: Path, template: str, outputs: str) -> None:
    """Render one bill locally, with no server, queue or cloud."""
    from app import json_input
    from app.bills import bill_document, parse_bill
    from app.errors import InvalidInput
    from renderers import OUTPUT_KINDS
    from renderers import render as render_bill
    from renderers.errors import RenderError
    from renderers.templates import load_bundle

    wanted = [o.strip() for o in outputs.split(",") if o.strip()]
    unknown = [o for o in wanted if o not in OUTPUT_KINDS]
    if unknown or not wanted:
        raise click.BadParameter(f"choose from {', '.join(OUTPUT_KINDS)}", param_hint="--outputs")
    try:
        bill = parse_bill(json_input.loads(bill_file.read_bytes()))
    except json_input.MalformedJson as exc:
        click.echo(f"{bill_file}: not valid JSON: {exc}", err=True)
        sys.exit(2)
    except InvalidInput as exc:
        click.echo(f"{bill_file}: {len(exc.errors)} problem(s):", err=True)
        for error in exc.errors:
            click.echo(f"  {error.pointer or '/'}: {error.detail}", err=True)
        sys.exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = render_bill(bill_document(bill), load_bundle(template), wanted, out_dir)
    except RenderError as exc:
        click.echo(f"render failed: {exc}", err=True)
        sys.exit(1)
    for path in (result.video, result.poster, result.captions, result.site):
        if path is not None:
            click.echo(str(path))


@main.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default 8000).")
@click.option(
    "--serve/--no-serve",
    default=None,
    help="Keep serving the links after rendering (default: only when run from a terminal).",
)
def demo(port: int | None, serve: bool | None) -> None:
    """Render the bundled example bills through the whole service and print their links."""
    from waitress.server import create_server

    from app import create_app
    from app.keys import create_key

    settings = _settings(port=port)
    if not settings.public_url:
        settings = Settings.from_env(
            port=settings.port,
            host=settings.host,
            public_url=f"http://{settings.host}:{settings.port}",
        )
    app = create_app(settings)
    server = create_server(app, host=settings.host, port=settings.port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://{settings.host}:{settings.port}"
    key = create_key(app.extensions["billreel"].db, "demo")
    examples = sorted(EXAMPLES_DIR.glob("*.json"))
    click.echo(f"Rendering {len(examples)} example bills through {base} ...", err=True)
    renders = [_post_render(base, key, path) for path in examples]
    finished = [_wait_done(base, key, body["id"]) for body in renders]
    failed = False
    for path, body in zip(examples, finished, strict=True):
        status = body["status"]
        failed |= status != "done"
        click.echo(f"{path.stem:<12} {status:<6} {body['links'].get('microsite', '')}")
        if status == "done":
            click.echo(f"{'':<12} video  {body['links'].get('video', '')}")
        else:
            click.echo(f"{'':<12} error  {body.get('error')}")
    keep_serving = sys.stdin.isatty() if serve is None else serve
    if keep_serving and not failed:
        click.echo(f"\nServing at {base}: open the links above. Ctrl-C to stop.", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    else:
        click.echo("\nRun `make serve` (or `billreel serve`) to open these links.", err=True)
    server.close()
    sys.exit(1 if failed else 0)


def _settings(**overrides: Any) -> Settings:
    return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})


def _api(method: str, url: str, key: str, body: bytes | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback only)
        result: dict[str, Any] = json.loads(response.read())
        return result


def _post_render(base: str, key: str, path: Path) -> dict[str, Any]:
    bill = json.loads(path.read_text(encoding="utf-8"))
    payload = {"template": "bill-explainer", "external_id": path.stem, "data": bill}
    return _api("POST", f"{base}/v1/renders", key, json.dumps(payload).encode("utf-8"))


def _wait_done(base: str, key: str, render_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEMO_WAIT_SECONDS
    while True:
        body = _api("GET", f"{base}/v1/renders/{render_id}", key)
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


if __name__ == "__main__":
    main()
