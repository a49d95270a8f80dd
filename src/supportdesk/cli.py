"""The ``supportdesk`` command line."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from supportdesk.config import Settings, get_settings

if TYPE_CHECKING:
    from supportdesk.services import Services

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="supportdesk: support chat service"
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
agent_app = typer.Typer(no_args_is_help=True, help="Staff accounts.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks against a running server.")
keys_app = typer.Typer(no_args_is_help=True, help="Signing keys of support access tokens.")
attachments_app = typer.Typer(no_args_is_help=True, help="Uploaded attachments.")
kb_app = typer.Typer(no_args_is_help=True, help="Knowledge-base articles.")
partners_app = typer.Typer(no_args_is_help=True, help="The partner directory.")
triage_app = typer.Typer(no_args_is_help=True, help="Request triage (classifier).")
app.add_typer(db_app, name="db")
app.add_typer(agent_app, name="agent")
app.add_typer(bench_app, name="bench")
app.add_typer(keys_app, name="keys")
app.add_typer(attachments_app, name="attachments")
app.add_typer(kb_app, name="kb")
app.add_typer(partners_app, name="partners")
app.add_typer(triage_app, name="triage")


def _settings(**overrides: object) -> Settings:
    try:
        return get_settings(**overrides)
    except ValueError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _with_services(work: Callable[[Services], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` with the services of the migrated database, then close them."""
    settings = settings or _settings()

    async def run() -> T:
        from supportdesk import migrate
        from supportdesk.app import build_services

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            return await work(svc)
        finally:
            await svc.db.dispose()

    return asyncio.run(run())


def _echo_import(report: Any) -> None:
    typer.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}")


def _run_server(settings: Settings, workers: int = 1) -> None:
    import uvicorn

    from supportdesk import migrate
    from supportdesk.ops.logs import logging_config

    if workers > 1 and not settings.redis_url:
        typer.echo(
            "configuration error: --workers above 1 needs SUPPORTDESK_REDIS_URL (the "
            "in-process bus reaches only the sockets of its own process)",
            err=True,
        )
        raise typer.Exit(2)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Once, before any worker process starts.
    asyncio.run(migrate.upgrade(settings.database_url_resolved))
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "ws": "websockets-sansio",
        "log_level": settings.log_level,
        "proxy_headers": True,
    }
    log_config = logging_config(settings)
    if log_config is not None:
        common["log_config"] = log_config
    if workers > 1:
        # Each worker process builds its own app from the environment; the options
        # given here travel to them as environment variables.
        os.environ["SUPPORTDESK_HOST"] = settings.host
        os.environ["SUPPORTDESK_PORT"] = str(settings.port)
        uvicorn.run("supportdesk.app:create_app_from_env", factory=True, workers=workers, **common)
        return
    from supportdesk.app import create_app

    uvicorn.run(create_app(settings), **common)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes sharing the port (needs Redis above 1).")
    ] = 1,
) -> None:
    """Apply pending migrations, then serve HTTP and WebSocket. One process uses the
    in-process bus; several (--workers, or several nodes) need SUPPORTDESK_REDIS_URL."""
    _run_server(_settings(host=host, port=port), workers)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs this process runs at the same time.")
    ] = 4,
    poll: Annotated[
        float, typer.Option(min=0.05, help="Seconds between looks at an idle outbox.")
    ] = 1.0,
) -> None:
    """Run outbox jobs (mail, webhooks, notices) until SIGTERM. Start any number on
    PostgreSQL and set SUPPORTDESK_OUTBOX_IN_PROCESS=false on the app processes."""
    from supportdesk.ops.logs import configure_logging
    from supportdesk.ops.worker import run_worker

    # No migrations here: several workers starting at once must not race to apply
    # them; `supportdesk db upgrade` (or `serve`) does that once per release.
    settings = _settings()
    configure_logging(settings)
    asyncio.run(run_worker(settings, concurrency=concurrency, poll_seconds=poll))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply pending migrations."""
    from supportdesk import migrate

    settings = _settings()
    asyncio.run(migrate.upgrade(settings.database_url_resolved, revision))
    typer.echo(f"database at {asyncio.run(migrate.current(settings.database_url_resolved))}")


@app.command()
def token(
    portal: Annotated[str, typer.Option(help="Portal id in the host product.")],
    user: Annotated[str, typer.Option(help="User id in the host product.")],
    role: Annotated[str, typer.Option(help="admin or user")] = "admin",
    plan: Annotated[str, typer.Option(help="Plan code, e.g. professional")] = "professional",
    locale: Annotated[str, typer.Option(help="ja or en")] = "en",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds")] = None,
) -> None:
    """Print a development identity token, signed as the host product would sign it."""
    from supportdesk.core.clock import utcnow
    from supportdesk.identity.tokens import mint_identity_token

    if role not in ("admin", "user"):
        raise typer.BadParameter("role must be admin or user", param_hint="--role")
    settings = _settings()
    typer.echo(
        mint_identity_token(
            settings,
            portal=portal,
            user=user,
            role=role,
            plan=plan,
            locale=locale,
            name=name,
            now=utcnow(),
            ttl_seconds=ttl,
        )
    )


@agent_app.command("create")
def agent_create(
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[list[str], typer.Option(help="Repeat or separate by commas.")],
    languages: Annotated[str, typer.Option(help="Comma-separated, e.g. ja,en")] = "en",
    max_chats: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Create a staff account."""
    from supportdesk.core.errors import DomainError
    from supportdesk.staff.actions import do_create_agent

    roles = [part for value in role for part in value.split(",") if part]

    async def create(svc: Services) -> int:
        agent = await do_create_agent(
            svc,
            email=email,
            name=name,
            password=password,
            roles=roles,
            languages=languages.split(","),
            max_chats=max_chats,
        )
        return agent.id

    try:
        agent_id = _with_services(create)
    except DomainError as exc:
        typer.echo(f"error: {exc.code}: {exc.message('en')}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created agent {agent_id} <{email}>")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Start signing support access tokens with a new key. The old key stops signing at
    once (its private half is erased) and stays in the JWKS until its tokens expire."""
    from supportdesk.account_access.actions import do_rotate_signing_key

    new, retired = _with_services(do_rotate_signing_key)
    typer.echo(f"signing with key {new}")
    for kid in retired:
        typer.echo(f"retired key {kid} (published in the JWKS for 15 more minutes)")


@attachments_app.command("gc")
def attachments_gc() -> None:
    """Delete attachments never sent within SUPPORTDESK_ATTACHMENT_ORPHAN_HOURS, abandoned
    resumable uploads, and stored files nothing refers to any more (the server also does
    this every SUPPORTDESK_ATTACHMENT_GC_SECONDS)."""
    from supportdesk.attachments.actions import do_collect_garbage

    collected = _with_services(do_collect_garbage)
    typer.echo(
        f"removed {collected.attachments} attachments, {collected.uploads} uploads, "
        f"{collected.objects} stored objects"
    )


@kb_app.command("import")
def kb_import(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Markdown folder.")],
) -> None:
    """Create or update articles from ``<slug>.<locale>.md`` files (idempotent: unchanged
    articles get no new version)."""
    from supportdesk.knowledge.actions import import_articles
    from supportdesk.knowledge.files import ArticleFileError, read_folder

    try:
        drafts = read_folder(folder)
    except ArticleFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    _echo_import(_with_services(lambda svc: import_articles(svc, drafts)))


@kb_app.command("export")
def kb_export(folder: Annotated[Path, typer.Argument(file_okay=False)]) -> None:
    """Write every article (drafts too) as ``<slug>.<locale>.md`` with front matter."""
    from supportdesk.knowledge.actions import all_articles
    from supportdesk.knowledge.files import write_folder

    articles = _with_services(all_articles)
    typer.echo(f"exported {write_folder(folder, articles)} articles to {folder}")


@kb_app.command("reindex")
def kb_reindex() -> None:
    """Rebuild the search index from the articles."""
    from supportdesk.knowledge.actions import reindex

    typer.echo(f"indexed {_with_services(reindex)} articles")


@partners_app.command("import")
def partners_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
) -> None:
    """Create or update partners from a CSV file, matched by name (all rows or none;
    importing the same file twice changes nothing)."""
    from supportdesk.core.i18n import translate
    from supportdesk.partners.actions import import_partners
    from supportdesk.partners.rules import CsvInvalid, decode_csv, parse_csv

    try:
        drafts = parse_csv(decode_csv(file.read_bytes()))
    except CsvInvalid as exc:
        for error in exc.errors:
            where = f"row {error.row}" + (f", column {error.column}" if error.column else "")
            message = translate(error.code, "en", error.params)
            typer.echo(f"error: {where}: {error.code}: {message}", err=True)
        raise typer.Exit(1) from exc
    _echo_import(_with_services(lambda svc: import_partners(svc, drafts)))


@app.command()
def demo(
    serve_too: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server.")
    ] = False,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Load demo data (plans, portals, users, agents), print how to try it, and serve."""
    from supportdesk.demo import load_demo

    settings = _settings(demo=True, host=host, port=port, identity_max_ttl_seconds=7 * 24 * 3600)

    async def load(svc: Services) -> list[object]:
        return list(await load_demo(svc))

    customers = _with_services(load, settings)
    _print_demo(settings, customers)
    if serve_too:
        _run_server(settings)


def _print_demo(settings: Settings, customers: list[object]) -> None:
    from supportdesk.demo import DEMO_AGENTS, DEMO_PASSWORD

    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "supportdesk demo",
        f"  Host product: {base}/demo/host   (the customer's side: click ?, then Ask a question)",
        f"  Console:      {base}/console     (agents; sign in with a staff login below)",
        f"  Supervisor:   {base}/supervisor",
        f"  API docs:     {base}/docs",
        f"  Health:       {base}/healthz",
        f"  WebSocket:    ws://{settings.host}:{settings.port}/api/v1/stream?token=<token>",
        f"  Database:     {settings.database_url_resolved}",
        "",
        f"Staff logins (password: {DEMO_PASSWORD}):",
    ]
    lines += [f"  {email:<18} {name} [{', '.join(roles)}]" for email, name, roles, _ in DEMO_AGENTS]
    lines += [
        "",
        "Host product API key (POST /api/v1/access-tokens/introspect; "
        "support access tokens verify with /.well-known/jwks.json):",
        f"  {settings.host_api_key}",
    ]
    lines += ["", "Customer identity tokens (valid 7 days):"]
    for customer in customers:
        lines += [f"  {customer.label}:", f"    {customer.token}"]  # type: ignore[attr-defined]
    lines += [
        "",
        "Try it:",
        f"  curl -s {base}/api/v1/me/eligibility -H 'Authorization: Bearer <token>'",
        f"  curl -s -X POST {base}/api/v1/conversations -H 'Authorization: Bearer <token>' "
        '-H \'Content-Type: application/json\' -d \'{"body": "Hello", "client_key": "k1"}\'',
        f"  curl -s -X POST {base}/api/v1/staff/login -H 'Content-Type: application/json' "
        f'-d \'{{"email": "aiko@demo.test", "password": "{DEMO_PASSWORD}"}}\'',
    ]
    typer.echo("\n".join(lines))


@bench_app.command("chat")
def bench_chat(
    pairs: Annotated[
        list[int], typer.Option(help="Customer/agent pairs; repeat for several runs.")
    ] = [100],  # noqa: B006
    duration: Annotated[float, typer.Option(help="Measured seconds per run.")] = 10.0,
    warmup: Annotated[float, typer.Option(help="Unmeasured seconds before each run.")] = 3.0,
    database_url: Annotated[
        str | None, typer.Option(help="An empty PostgreSQL database; default: a fresh SQLite file.")
    ] = None,
    processes: Annotated[int, typer.Option(min=1, help="Client processes.")] = 1,
    redis_url: Annotated[
        str,
        typer.Option(help="Also run two app processes sharing the database and this Redis."),
    ] = "",
) -> None:
    """Closed-loop chat over real WebSockets, against supportdesk and a bare relay."""
    from supportdesk.bench.chat import bench_chat as run
    from supportdesk.bench.load import format_report

    results = asyncio.run(run(pairs, duration, warmup, database_url, processes, redis_url))
    for count in pairs:
        subset = {name: result for name, result in results.items() if name.endswith(f" {count}")}
        typer.echo(format_report(subset, baseline_key=f"relay {count}"))
        typer.echo("")


@bench_app.command("idle")
def bench_idle(
    connections: Annotated[
        list[int], typer.Option(help="Idle sockets to hold; repeat for several runs.")
    ] = [10_000],  # noqa: B006
    database_url: Annotated[
        str | None, typer.Option(help="An empty PostgreSQL database; default: a fresh SQLite file.")
    ] = None,
    settle: Annotated[float, typer.Option(help="Seconds to wait before each RSS reading.")] = 3.0,
    parallel: Annotated[int, typer.Option(min=1, help="Handshakes in flight at once.")] = 200,
) -> None:
    """Idle WebSocket capacity: server RSS growth per open socket, against the bare relay."""
    from supportdesk.bench.idle import bench_idle as run
    from supportdesk.bench.idle import format_idle_report

    typer.echo(format_idle_report(asyncio.run(run(connections, database_url, settle, parallel))))


@bench_app.command("kb")
def bench_kb(
    articles: Annotated[int, typer.Option(min=100, help="Synthetic articles (half ja).")] = 100_000,
    queries: Annotated[int, typer.Option(min=10, help="Mixed queries to time.")] = 1000,
    database_url: Annotated[
        str | None,
        typer.Option(help="A migrated database to index into; default: a fresh SQLite file."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes that analyse the articles; default: cores.")
    ] = os.cpu_count() or 1,
) -> None:
    """Knowledge-base search: indexing throughput, query latency p50/p95/p99, index size."""
    from supportdesk.bench.kb import bench_kb as run

    typer.echo(asyncio.run(run(articles, queries, database_url, workers=workers)).report())


@bench_app.command("triage")
def bench_triage(
    requests: Annotated[int, typer.Option(min=10, help="Requests to classify.")] = 2000,
) -> None:
    """Triage classifier: requests per second and latency p50/p95/p99 (in process)."""
    from supportdesk.triage.bench import bench_triage as run

    typer.echo(run(requests).report())


@triage_app.command("eval")
def triage_eval() -> None:
    """Per-class precision/recall/F1, confusion matrix and vague/specific accuracy of the
    classifier on the held-out part of the labelled requests."""
    from supportdesk.triage.eval import evaluate_held_out

    typer.echo(evaluate_held_out().report())


def main() -> None:
    app()
