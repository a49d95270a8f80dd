"""The command line (token, agent create, db upgrade, demo) and the migrations' fit
with the models, on the database under test."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from supportdesk.cli import app
from supportdesk.config import Settings
from supportdesk.core.clock import utcnow
from supportdesk.core.db import Database
from supportdesk.identity.models import Portal
from supportdesk.identity.tokens import verify_identity_token
from supportdesk.migrate import alembic_config
from supportdesk.models import metadata
from supportdesk.staff.models import Agent
from tests.factories import SECRET


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    for name, value in {
        "SUPPORTDESK_DATABASE_URL": database_url,
        "SUPPORTDESK_DATA_DIR": str(tmp_path),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    return database_url


def _rows(url, model, **where):
    async def count():
        db = Database(url)
        try:
            async with db.read() as session:
                query = select(func.count()).select_from(model)
                for key, value in where.items():
                    query = query.where(getattr(model, key) == value)
                return await session.scalar(query)
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_token_command_prints_a_token_the_service_accepts(cli_env):
    result = CliRunner().invoke(
        app,
        [
            "token",
            "--portal",
            "p1",
            "--user",
            "u1",
            "--role",
            "admin",
            "--plan",
            "professional",
            "--locale",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    claims = verify_identity_token(
        result.output.strip(), Settings(identity_secret=SECRET), utcnow()
    )
    assert (claims.portal, claims.sub, claims.role, claims.plan, claims.locale) == (
        "p1",
        "u1",
        "admin",
        "professional",
        "ja",
    )
    refused = CliRunner().invoke(app, ["token", "--portal", "p", "--user", "u", "--role", "owner"])
    assert refused.exit_code != 0


def test_agent_create_and_db_upgrade(cli_env):
    upgrade = CliRunner().invoke(app, ["db", "upgrade"])
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert upgrade.exit_code == 0 and f"database at {head}" in upgrade.output
    args = [
        "agent",
        "create",
        "--email",
        "Kenji@Example.test",
        "--name",
        "Kenji",
        "--password",
        "a long password",
        "--role",
        "technical_support",
        "--languages",
        "ja,en",
    ]
    created = CliRunner().invoke(app, args)
    assert created.exit_code == 0, created.output
    assert _rows(cli_env, Agent, email="kenji@example.test") == 1
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "email_taken" in again.output
    bad_role = CliRunner().invoke(app, [*args[:-4], "--role", "wizard"])
    assert bad_role.exit_code == 1 and "invalid_role" in bad_role.output


def test_commands_refuse_a_missing_secret(cli_env, monkeypatch):
    monkeypatch.delenv("SUPPORTDESK_IDENTITY_SECRET")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "SUPPORTDESK_IDENTITY_SECRET" in result.output


def test_demo_loads_its_data_and_prints_how_to_try_it(cli_env, monkeypatch):
    monkeypatch.delenv("SUPPORTDESK_IDENTITY_SECRET")  # the demo brings its own
    for _ in range(2):  # idempotent
        result = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
    for label in (
        "commercial admin",
        "commercial non-admin",
        "free-plan admin",
        "aiko@demo.test",
        "/demo/host",
        "/console",
        "/supervisor",
    ):
        assert label in result.output
    assert _rows(cli_env, Agent) == 4
    assert _rows(cli_env, Portal) == 2


async def test_migrations_match_the_models(database_url):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diffs == []
