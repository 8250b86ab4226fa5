"""The `billreel` command: serve, worker, scheduler, keys, render one bill locally, demo,
simulate."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.access.scopes import SCOPES
from app.infra.settings import Settings

if TYPE_CHECKING:
    from app.cli.batch_client import BatchClient
    from app.infra.services import Services
    from app.simulation.run import Config as SimulationConfig
    from app.simulation.run import Result as SimulationResult
    from renderers.templates import TemplateBundle

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEMO_WAIT_SECONDS = 600
DEMO_KEY_NAME = "demo"


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

    from app.infra.logs import setup_logging
    from app.webhooks.dispatcher import start_dispatcher
    from app.webhooks.signing import webhook_secrets
    from app.wiring import create_app

    settings = _settings(port=port, host=host)
    setup_logging(settings.log_level)  # JSON lines with ids only, as the workers write them
    webhook_secrets(settings)  # a malformed BILLREEL_WEBHOOK_SECRETS fails here, not per poll
    app = create_app(settings)
    services = app.extensions["billreel"]
    start_dispatcher(services)
    if not settings.redis_url:  # embedded: journeys are scheduled here too (else `scheduler`)
        from app.journeys.scheduler import start_scheduler

        start_scheduler(services, services.queue)
    # The studio's grid and publish checks draw on a pool of processes: started now, in the
    # background, so the first publish does not wait seconds for them.
    from app.preview import pool

    threading.Thread(target=pool.start, name="preview-pool", daemon=True).start()
    click.echo(f"billreel listening on http://{settings.host}:{settings.port}", err=True)
    waitress.serve(app, host=settings.host, port=settings.port, threads=threads, ident="billreel")


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes to run and supervise (default BILLREEL_WORKERS, or 1).",
)
def worker(burst: bool, processes: int | None) -> None:
    """Run a render worker against Redis (BILLREEL_REDIS_URL)."""
    import os

    from app.worker.main import run

    if processes is not None:
        os.environ["BILLREEL_WORKERS"] = str(processes)  # read by worker.run's settings
    sys.exit(run(burst=burst))


@main.command()
def sweep() -> None:
    """Re-enqueue renders stuck past BILLREEL_STUCK_AFTER_SECONDS now (workers also do it)."""
    from redis import Redis

    from app.infra.services import Services
    from app.ondemand.sweeper import sweep_videos
    from app.rendering.sweeper import sweep as sweep_stuck
    from app.wiring import rq_queue, rq_video_queue

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("set BILLREEL_REDIS_URL (`billreel serve` sweeps in-process)")
    services = Services.build(settings)
    connection = Redis.from_url(settings.redis_url)
    result = sweep_stuck(services, rq_queue(services, connection))
    click.echo(
        f"stuck: {result.stuck}, re-enqueued: {len(result.requeued)}, "
        f"failed after every run: {len(result.abandoned)}"
    )
    videos = sweep_videos(services, rq_video_queue(services, connection))
    click.echo(
        f"videos made on open stuck: {videos.stuck}, re-enqueued: {len(videos.requeued)}, "
        f"failed after every run: {len(videos.failed)}"
    )


@main.command()
@click.option("--once", is_flag=True, help="Decide every step due now, then exit.")
def scheduler(once: bool) -> None:
    """Run the journey scheduler against Redis: due steps become renders. Several may run at
    once (each step runs once); `billreel serve` schedules in-process without Redis."""
    import signal

    from redis import Redis

    from app.infra.logs import setup_logging
    from app.infra.services import Services
    from app.journeys.scheduler import run_scheduler, tick
    from app.wiring import rq_queue

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("set BILLREEL_REDIS_URL (`billreel serve` schedules in-process)")
    setup_logging(settings.log_level)
    services = Services.build(settings)
    queue = rq_queue(services, Redis.from_url(settings.redis_url))
    if once:
        started = claimed = 0
        while True:
            result = tick(services, queue)
            started, claimed = started + len(result.started), claimed + result.claimed
            if result.claimed < settings.scheduler_batch_steps:
                break
        click.echo(f"due steps decided: {claimed}, renders started: {started}")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # the tick under way commits, then it exits
        signal.signal(signum, lambda *_: stop.set())
    run_scheduler(services, queue, stop)


@main.group()
def webhooks() -> None:
    """Webhook signing secrets."""


@webhooks.command("secret")
def webhooks_secret() -> None:
    """Print the current signing secret (whsec_...) for billing systems to verify webhooks."""
    from app.webhooks.signing import webhook_secrets

    click.echo(webhook_secrets(Settings.from_env())[0])


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="billing",
    show_default=True,
    help="billing: renders and the /v1 resources; marketing: templates only; admin: both, "
    "and keys, sessions, audit.",
)
def keys_create(name: str, scope: str) -> None:
    """Create an API key for a new account and print it (it is shown only once)."""
    from app.access.keys import KeyRefused, make_key

    services = _services()
    try:
        made = make_key(services.db, name, scope)
    except KeyRefused as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    _audit(services, "key.create", made.info.account, made.info.id)
    click.echo(made.secret)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key, one per line.")
def keys_list(as_json: bool) -> None:
    """List every key: name, scope, created, last used (never the secret)."""
    from app.access.keys import list_keys

    def when(value: datetime | None, empty: str) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else empty

    for info in list_keys(_services().db):
        if as_json:
            row = {
                k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(info).items()
            }
            click.echo(json.dumps(row))
            continue
        state = f"revoked {when(info.revoked_at, '')}" if info.revoked_at else "live"
        click.echo(
            f"{info.name:<24} {info.prefix:<12} {info.scope:<8} "
            f"created {when(info.created_at, '')}  last used {when(info.last_used_at, 'never'):<16}"
            f"  {state}  {info.id}"
        )


@keys.command("rotate")
@click.argument("name")
@click.option("--key", "key_id", default=None, help="Rotate this key (its id or prefix).")
def keys_rotate(name: str, key_id: str | None) -> None:
    """Print a new key for NAME's account; the old key works until `keys revoke NAME --key`."""
    from app.access.keys import list_keys, rotate_key

    services = _services()
    live = [
        k
        for k in list_keys(services.db, name=name, live_only=True)
        if key_id in (None, k.id, k.prefix)
    ]
    if not live:
        raise click.BadParameter(f"no live key of {name!r} matches", param_hint="NAME")
    if len({k.account for k in live}) > 1:
        raise click.BadParameter(
            f"{name!r} names keys of several accounts; choose one with --key", param_hint="NAME"
        )
    made = rotate_key(services.db, live[-1].id)
    _audit(services, "key.rotate", made.info.account, made.info.id)
    click.echo(made.secret)


@keys.command("revoke")
@click.argument("name")
@click.option("--key", "key_id", default=None, help="Revoke only this key (its id or prefix).")
def keys_revoke(name: str, key_id: str | None) -> None:
    """Revoke NAME's live keys (or one of them): they get 401 at once, everywhere."""
    from app.access.keys import list_keys, revoke_key

    services = _services()
    live = list_keys(services.db, name=name, live_only=True)
    chosen = [k for k in live if key_id in (None, k.id, k.prefix)]
    if not chosen:
        raise click.BadParameter(f"no live key of {name!r} matches", param_hint="NAME")
    for info in chosen:
        revoke_key(services.db, info.id)
        _audit(services, "key.revoke", info.account, info.id)
        click.echo(f"revoked {info.name} {info.prefix} {info.id}")


def _services() -> Services:
    from app.infra.services import Services

    return Services.build(Settings.from_env())


def _audit(services: Services, action: str, account: str, target: str) -> None:
    """A change made from the command line, in the audit trail as the operating-system user."""
    import getpass

    from app.audit.trail import record

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "unknown"
    record(
        services.db,
        actor_type="cli",
        actor_id=user[:64],
        account=account,
        action=action,
        target=target,
    )


@main.command()
def purge() -> None:
    """Remove personal data of renders past retention (BILLREEL_LINK_TTL_DAYS); run daily."""
    from app.delivery.retention import purge as purge_expired
    from app.infra.services import Services

    services = Services.build(Settings.from_env())
    try:
        result = purge_expired(services)
    finally:
        services.db.dispose()
    click.echo(
        f"purged {result.renders} render(s), {result.objects} stored object(s), "
        f"{result.idempotency_records} stored response(s)"
    )


@main.command()
@click.argument("bill_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--template",
    default="bill-explainer",
    show_default=True,
    help="NAME (its published version) or NAME@N, from the data directory's template store.",
)
@click.option(
    "--outputs", default="video,microsite", show_default=True, help="Comma-separated outputs."
)
@click.option(
    "--format",
    "video_format",
    type=click.Choice(["16:9", "9:16", "1:1"]),
    default="16:9",
    show_default=True,
    help="Video frame: 1280x720, 720x1280 or 1080x1080.",
)
def render(bill_file: Path, out_dir: Path, template: str, outputs: str, video_format: str) -> None:
    """Render one bill locally, with no server, queue or cloud."""
    from app.infra.errors import InvalidInput
    from app.intake import bill_document, json_input, parse_bill
    from app.rendering.voices import voice_from_settings
    from renderers import OUTPUT_KINDS
    from renderers import render as render_bill
    from renderers.errors import RenderError

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
    settings = Settings.from_env()
    bundle = _template_bundle(settings, template)
    out_dir.mkdir(parents=True, exist_ok=True)
    voice = voice_from_settings(settings)  # BILLREEL_VOICE, as the workers use it
    try:
        result = render_bill(
            bill_document(bill),
            bundle,
            wanted,
            out_dir,
            video_format=video_format,
            voice=voice,
        )
    except RenderError as exc:
        click.echo(f"render failed: {exc}", err=True)
        sys.exit(1)
    for path in (result.video, result.poster, result.captions, result.chapters, result.site):
        if path is not None:
            click.echo(str(path))


def _template_bundle(settings: Settings, ref: str) -> TemplateBundle:
    """The version `ref` names in the data directory's store (the shipped bundles are its
    first versions), loaded as a worker loads it; exits 2 naming the problem otherwise."""
    from app.infra.services import Services
    from app.templates.bundles import bundle_for
    from app.templates.lookup import find_version
    from app.templates.store import VersionNotFound

    services = Services.build(settings)
    try:
        return bundle_for(services, find_version(services, ref))
    except (VersionNotFound, ValueError) as exc:
        click.echo(f"--template: {exc}", err=True)
        sys.exit(2)
    finally:
        services.db.dispose()


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

    from app.access.keys import create_key, list_keys, revoke_key
    from app.wiring import create_app

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
    db = app.extensions["billreel"].db
    for earlier in list_keys(db, name=DEMO_KEY_NAME, live_only=True):
        revoke_key(db, earlier.id)  # an earlier demo's key; each demo makes its own
    key = create_key(db, DEMO_KEY_NAME)
    examples = sorted(EXAMPLES_DIR.glob("*.json"))
    if not examples:
        server.close()
        raise click.ClickException(f"no example bills in {EXAMPLES_DIR}")
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


@main.command()
@click.argument("ndjson_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--api-url",
    envvar="BILLREEL_API_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Base URL of the API (env BILLREEL_API_URL).",
)
@click.option("--api-key", envvar="BILLREEL_API_KEY", required=True, help="env BILLREEL_API_KEY")
@click.option(
    "--idempotency-key",
    default=None,
    help="Default: the file's SHA-256, so running the command again resumes the same batch.",
)
@click.option(
    "--results",
    "results_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the batch's results (NDJSON, input order) to this file at the end.",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the renders.")
@click.option(
    "--poll", "poll_seconds", default=2.0, show_default=True, help="Seconds between polls."
)
def batch(
    ndjson_file: Path,
    api_url: str,
    api_key: str,
    idempotency_key: str | None,
    results_file: Path | None,
    wait: bool,
    poll_seconds: float,
) -> None:
    """Submit a billing run (one render request per line) and wait for its renders.

    Exit status: 0 all rendered, 1 some lines rejected or renders failed, 2 the API refused.
    """
    from app.cli import batch_client

    client = batch_client.BatchClient(api_url, api_key)
    key = idempotency_key or batch_client.file_digest(ndjson_file)
    try:
        size = ndjson_file.stat().st_size
        with click.progressbar(length=size, label="upload  ", file=sys.stderr) as bar:
            accepted = client.submit(ndjson_file, key, progress=bar.update)
        rejected = accepted["rejected"]
        click.echo(
            f"batch {accepted['id']}: {accepted['accepted']} accepted, {len(rejected)} rejected"
        )
        for rejection in rejected[: batch_client.REJECTIONS_SHOWN]:
            for error in rejection["errors"]:
                click.echo(f"  line {rejection['line']}: {error['pointer']}: {error['detail']}")
        if len(rejected) > batch_client.REJECTIONS_SHOWN:
            click.echo(f"  ... and {len(rejected) - batch_client.REJECTIONS_SHOWN} more lines")
        counts: dict[str, Any] = {"done": 0, "failed": 0}
        if wait and accepted["accepted"]:
            counts = _wait_batch(client, accepted["id"], int(accepted["accepted"]), poll_seconds)
            extra = "".join(
                f", {counts[name]} {name}" for name in ("cancelled",) if counts.get(name)
            )
            click.echo(f"renders: {counts['done']} done, {counts['failed']} failed{extra}")
        if results_file is not None:
            lines = client.results(accepted["id"], results_file)
            click.echo(f"results: {lines} lines written to {results_file}")
    except batch_client.ApiProblem as exc:
        click.echo(f"billreel batch: {exc}", err=True)
        sys.exit(2)
    sys.exit(1 if rejected or counts.get("failed") or counts.get("cancelled") else 0)


def _wait_batch(
    client: BatchClient, batch_id: str, total: int, poll_seconds: float
) -> dict[str, Any]:
    """A progress bar of finished renders until none is queued or rendering."""
    from app.cli.batch_client import finished_count

    started = time.monotonic()
    with click.progressbar(
        length=total, label="renders ", file=sys.stderr, show_pos=True, show_eta=True
    ) as bar:
        shown = 0
        while True:
            counts = client.counts(batch_id)
            finished = finished_count(counts)
            bar.update(finished - shown)
            shown = finished
            if finished >= total:
                break
            time.sleep(poll_seconds)
    click.echo(f"finished in {time.monotonic() - started:.0f} s", err=True)
    return counts


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of tables.")
@click.option("--stuck-shown", default=10, show_default=True, help="Stuck renders listed.")
def status(as_json: bool, stuck_shown: int) -> None:
    """Queues, workers and stuck renders, read from Redis and the database."""
    from redis.exceptions import RedisError

    from app.infra.services import Services
    from app.rendering import metrics

    services = Services.build(Settings.from_env())
    try:
        report = {
            "queues": [asdict(q) for q in metrics.queue_states(services)],
            "workers": [asdict(w) for w in metrics.worker_states(services)],
            "renders": metrics.render_counts(services),
            "stuck_after_seconds": services.settings.stuck_after_seconds,
            "stuck": [asdict(r) for r in metrics.stuck_renders(services, stuck_shown)],
            "stuck_count": metrics.stuck_count(services),
        }
    except RedisError as exc:
        click.echo(f"billreel status: Redis (BILLREEL_REDIS_URL) failed: {exc}", err=True)
        sys.exit(1)
    finally:
        services.db.dispose()
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo(_status_text(report, in_process=not services.settings.redis_url))


def _status_text(report: dict[str, Any], in_process: bool) -> str:
    lines = [f"{'queue':<10} {'waiting':>8} {'running':>8} {'retrying':>9} {'failed':>7}"]
    for q in report["queues"]:
        lines.append(
            f"{q['name']:<10} {q['waiting']:>8} {q['started']:>8} {q['scheduled']:>9} "
            f"{q['failed']:>7}"
        )
    if in_process:
        lines.append("\nworkers: in-process (BILLREEL_REDIS_URL unset)")
    else:
        lines.append(f"\nworkers: {len(report['workers'])}")
        for w in report["workers"]:
            job = f" rendering {w['current_job']}" if w["current_job"] else ""
            lines.append(
                f"  {w['name']} on {w['hostname']}: {w['state']}{job}, "
                f"heartbeat {w['last_heartbeat']}"
            )
    counts = ", ".join(f"{count} {status}" for status, count in report["renders"].items())
    lines.append(f"\nrenders: {counts}")
    lines.append(
        f"stuck (queued or rendering, no change for {report['stuck_after_seconds']} s): "
        f"{report['stuck_count']}"
    )
    for r in report["stuck"]:
        lines.append(f"  {r['id']} {r['status']} since {r['updated_at']}, attempts {r['attempts']}")
    return "\n".join(lines)


def _int_list(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"whole days, comma-separated, not {value!r}") from None


@main.command()
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Synthetic customers, one bill each (6000 take about 20 minutes).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seeds every draw.")
@click.option(
    "--lift",
    "lift_points",
    type=click.FloatRange(min=0, max=100),
    default=0.0,
    show_default=True,
    help="Points planted in the treatment arm's paid-in-time rate.",
)
@click.option(
    "--skew",
    type=click.FloatRange(min=0, max=1),
    default=0.0,
    show_default=True,
    help="Share of the treatment arm's customers whose renders never run (a "
    "failing fleet): the split check should flag it.",
)
@click.option("--holdout", is_flag=True, help="Add a hold-out arm (the plain microsite).")
@click.option(
    "--outputs",
    default="microsite",
    show_default=True,
    help="Outputs of every render, comma-separated: microsite, video. A video per "
    "bill makes a run of a few hundred customers take hours.",
)
@click.option(
    "--steps",
    default="-3,1,7",
    show_default=True,
    callback=_int_list,
    help="The journey's steps in days from the due date.",
)
@click.option(
    "--due-days",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Bills are due this many days after the billing run.",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Days the clock moves [default: until every bill's deadline has passed].",
)
@click.option(
    "--step-hours",
    type=click.FloatRange(min=0, max=24, min_open=True),
    default=1.0,
    show_default=True,
    help="How far the clock moves between looks.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep the service's data here (a new directory) [default: a temporary one].",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the truth, report, ground truth and figures here.",
)
@click.option(
    "--treatment",
    default=None,
    help="The treatment arm's version, NAME@N [default: a new copy of control].",
)
@click.option(
    "--url",
    default=None,
    help="Run through this service instead of a new one: an embedded `billreel serve` on "
    "this machine that reads --clock-file. Its scheduler and worker run the steps and renders.",
)
@click.option(
    "--key",
    envvar="BILLREEL_SIMULATE_KEY",
    default=None,
    help="With --url: an admin key of that service (or BILLREEL_SIMULATE_KEY).",
)
@click.option(
    "--clock-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --url: the service's BILLREEL_CLOCK_FILE, which the run moves.",
)
def simulate(
    customers: int, seed: int, lift_points: float, skew: float, holdout: bool, outputs: str,
    steps: tuple[int, ...], due_days: int, days: int | None, step_hours: float,
    data_dir: Path | None, json_path: Path | None, treatment: str | None, url: str | None,
    key: str | None, clock_file: Path | None,
) -> None:  # fmt: skip
    """Run a synthetic population through the real service on its clock and print the
    experiment's report beside the ground truth, and the figures.

    A fresh service (SQLite and files under a new data directory) gets a treatment version
    of bill-explainer, a journey and an experiment through its API; a billing run of one
    bill per customer; then the clock moves hour by hour while the scheduler and the
    render job run and each customer pays when the population's model says, given what
    the service sent them. Microsite only by default: about 0.1 s of this machine per
    customer (docs/collection.md, "Simulating"). With --url the run goes through a service
    already running here instead, moving its clock file and waiting for its scheduler and
    worker.
    """
    from app.infra.logs import setup_logging
    from app.simulation.calls import ServiceError, SimulationInputError
    from app.simulation.run import Config
    from app.simulation.summary import text

    setup_logging("warning")
    config = Config(
        customers=customers, seed=seed, lift_points=lift_points, skew=skew, holdout=holdout,
        outputs=tuple(o.strip() for o in outputs.split(",") if o.strip()), steps=steps,
        due_days=due_days, days=days, step_hours=step_hours, treatment=treatment,
    )  # fmt: skip
    try:
        config.check()
    except (SimulationInputError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None
    if url is not None and (key is None or clock_file is None):
        raise click.BadParameter("--url needs --key and --clock-file")
    if data_dir is not None and data_dir.exists() and any(data_dir.iterdir()):
        raise click.BadParameter(f"{data_dir} is not empty: a simulation needs a fresh one")
    try:
        result = _simulated(config, url, key, clock_file, data_dir)
    except (SimulationInputError, ServiceError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")


def _simulated(
    config: SimulationConfig,
    url: str | None,
    key: str | None,
    clock_file: Path | None,
    data_dir: Path | None,
) -> SimulationResult:
    """One run through the service at `url`, or through a new one on `data_dir` (or a
    temporary directory, in memory where the system has a tmpfs)."""
    import tempfile

    from app.simulation.remote import RemoteService
    from app.simulation.run import simulate as run_simulation
    from app.simulation.service import EmbeddedService, scratch_dir

    def say(line: str) -> None:
        click.echo(line, err=True)

    if url is not None:
        assert key is not None and clock_file is not None
        remote = RemoteService(url, key, clock_file)
        try:
            return run_simulation(config, remote, progress=say)
        finally:
            remote.close()
    with tempfile.TemporaryDirectory(prefix="billreel-sim-", dir=scratch_dir()) as scratch:
        service = EmbeddedService(data_dir or Path(scratch))
        try:
            return run_simulation(config, service, progress=say)
        finally:
            service.close()


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
