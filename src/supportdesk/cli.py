"""The ``supportdesk`` command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from supportdesk.config import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="supportdesk: support chat service"
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
agent_app = typer.Typer(no_args_is_help=True, help="Staff accounts.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks against a running server.")
keys_app = typer.Typer(no_args_is_help=True, help="Signing keys of support access tokens.")
attachments_app = typer.Typer(no_args_is_help=True, help="Uploaded attachments.")
kb_app = typer.Typer(no_args_is_help=True, help="Knowledge-base articles.")
app.add_typer(db_app, name="db")
app.add_typer(agent_app, name="agent")
app.add_typer(bench_app, name="bench")
app.add_typer(keys_app, name="keys")
app.add_typer(attachments_app, name="attachments")
app.add_typer(kb_app, name="kb")


def _settings(**overrides: object) -> Settings:
    try:
        return get_settings(**overrides)
    except ValueError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _run_server(settings: Settings) -> None:
    import uvicorn

    from supportdesk import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(migrate.upgrade(settings.database_url_resolved))
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "ws": "websockets-sansio",
        "log_level": settings.log_level,
        "proxy_headers": True,
    }
    from supportdesk.app import create_app

    uvicorn.run(create_app(settings), **common)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Apply pending migrations, then serve HTTP and WebSocket (one process: the
    in-process bus delivers only to this process's sockets)."""
    _run_server(_settings(host=host, port=port))


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

    roles = [part for value in role for part in value.split(",") if part]
    settings = _settings()

    async def run() -> int:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.staff.actions import do_create_agent

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
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
        finally:
            await svc.db.dispose()

    try:
        agent_id = asyncio.run(run())
    except DomainError as exc:
        typer.echo(f"error: {exc.code}: {exc.message('en')}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created agent {agent_id} <{email}>")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Start signing support access tokens with a new key. The old key stops signing at
    once (its private half is erased) and stays in the JWKS until its tokens expire."""
    settings = _settings()

    async def run() -> tuple[str, list[str]]:
        from supportdesk import migrate
        from supportdesk.account_access.actions import do_rotate_signing_key
        from supportdesk.app import build_services

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            new, retired = await do_rotate_signing_key(svc)
            return new, retired
        finally:
            await svc.db.dispose()

    new, retired = asyncio.run(run())
    typer.echo(f"signing with key {new}")
    for kid in retired:
        typer.echo(f"retired key {kid} (published in the JWKS for 15 more minutes)")


@attachments_app.command("gc")
def attachments_gc() -> None:
    """Delete attachments never sent within SUPPORTDESK_ATTACHMENT_ORPHAN_HOURS, abandoned
    resumable uploads, and stored files nothing refers to any more (the server also does
    this every SUPPORTDESK_ATTACHMENT_GC_SECONDS)."""
    settings = _settings()

    async def run() -> tuple[int, int, int]:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.attachments.actions import do_collect_garbage

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            collected = await do_collect_garbage(svc)
            return collected.attachments, collected.uploads, collected.objects
        finally:
            await svc.db.dispose()

    attachments, uploads, objects = asyncio.run(run())
    typer.echo(f"removed {attachments} attachments, {uploads} uploads, {objects} stored objects")


@kb_app.command("import")
def kb_import(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Markdown folder.")],
) -> None:
    """Create or update articles from ``<slug>.<locale>.md`` files (idempotent: unchanged
    articles get no new version)."""
    from supportdesk.knowledge.files import ArticleFileError, read_folder

    settings = _settings()
    try:
        drafts = read_folder(folder)
    except ArticleFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc

    async def run() -> object:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.knowledge.actions import import_articles

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            return await import_articles(svc, drafts)
        finally:
            await svc.db.dispose()

    report = asyncio.run(run())
    typer.echo(
        f"created {report.created}, updated {report.updated}, "  # type: ignore[attr-defined]
        f"unchanged {report.unchanged}"  # type: ignore[attr-defined]
    )


@kb_app.command("export")
def kb_export(folder: Annotated[Path, typer.Argument(file_okay=False)]) -> None:
    """Write every article (drafts too) as ``<slug>.<locale>.md`` with front matter."""
    settings = _settings()

    async def run() -> int:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.knowledge.actions import all_articles
        from supportdesk.knowledge.files import write_folder

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            return write_folder(folder, await all_articles(svc))
        finally:
            await svc.db.dispose()

    typer.echo(f"exported {asyncio.run(run())} articles to {folder}")


@kb_app.command("reindex")
def kb_reindex() -> None:
    """Rebuild the search index from the articles."""
    settings = _settings()

    async def run() -> int:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.knowledge.actions import reindex

        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            return await reindex(svc)
        finally:
            await svc.db.dispose()

    typer.echo(f"indexed {asyncio.run(run())} articles")


@app.command()
def demo(
    serve_too: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server.")
    ] = False,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Load demo data (plans, portals, users, agents), print how to try it, and serve."""
    settings = _settings(demo=True, host=host, port=port, identity_max_ttl_seconds=7 * 24 * 3600)

    async def run() -> list[object]:
        from supportdesk import migrate
        from supportdesk.app import build_services
        from supportdesk.demo import load_demo

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate.upgrade(settings.database_url_resolved)
        svc = build_services(settings)
        try:
            return list(await load_demo(svc))
        finally:
            await svc.db.dispose()

    customers = asyncio.run(run())
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
) -> None:
    """Closed-loop chat over real WebSockets, against supportdesk and a bare relay."""
    from supportdesk.bench.chat import bench_chat as run
    from supportdesk.bench.load import format_report

    results = asyncio.run(run(pairs, duration, warmup, database_url, processes))
    for count in pairs:
        subset = {name: result for name, result in results.items() if name.endswith(f" {count}")}
        typer.echo(format_report(subset, baseline_key=f"relay {count}"))
        typer.echo("")


@bench_app.command("kb")
def bench_kb(
    articles: Annotated[int, typer.Option(min=100, help="Synthetic articles (half ja).")] = 100_000,
    queries: Annotated[int, typer.Option(min=10, help="Mixed queries to time.")] = 1000,
    database_url: Annotated[
        str | None,
        typer.Option(help="A migrated database to index into; default: a fresh SQLite file."),
    ] = None,
) -> None:
    """Knowledge-base search: indexing throughput, query latency p50/p95/p99, index size."""
    from supportdesk.bench.kb import bench_kb as run

    typer.echo(asyncio.run(run(articles, queries, database_url)).report())


def main() -> None:
    app()
