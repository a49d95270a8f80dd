"""``supportdesk kb import / export / reindex``: idempotent import, round trip, bad files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from supportdesk.cli import app
from supportdesk.demo import DEMO_KB
from supportdesk.knowledge.models import Article, ArticleVersion
from tests.api.test_cli_and_migrations import _rows, cli_env  # noqa: F401 (fixture)

FILES = len(list(DEMO_KB.glob("*.md")))


def test_import_twice_changes_nothing_and_export_round_trips(cli_env, tmp_path: Path):  # noqa: F811
    first = CliRunner().invoke(app, ["kb", "import", str(DEMO_KB)])
    assert first.exit_code == 0, first.output
    assert f"created {FILES}, updated 0, unchanged 0" in first.output
    versions = _rows(cli_env, ArticleVersion)
    assert versions == FILES == _rows(cli_env, Article)

    again = CliRunner().invoke(app, ["kb", "import", str(DEMO_KB)])
    assert f"created 0, updated 0, unchanged {FILES}" in again.output
    assert _rows(cli_env, ArticleVersion) == versions

    out = tmp_path / "export"
    exported = CliRunner().invoke(app, ["kb", "export", str(out)])
    assert exported.exit_code == 0 and len(list(out.glob("*.md"))) == FILES
    back = CliRunner().invoke(app, ["kb", "import", str(out)])
    assert f"created 0, updated 0, unchanged {FILES}" in back.output

    page = out / "user-permissions.ja.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("最も広い", "最も強い"), encoding="utf-8"
    )
    edited = CliRunner().invoke(app, ["kb", "import", str(out)])
    assert f"created 0, updated 1, unchanged {FILES - 1}" in edited.output
    assert _rows(cli_env, ArticleVersion) == versions + 1

    reindexed = CliRunner().invoke(app, ["kb", "reindex"])
    assert reindexed.exit_code == 0 and f"indexed {FILES} articles" in reindexed.output


def test_a_bad_file_imports_nothing(cli_env, tmp_path: Path):  # noqa: F811
    (tmp_path / "good.en.md").write_text(
        "---\nslug: good\nlocale: en\ntitle: Good\ncategory: x\n---\nBody\n", encoding="utf-8"
    )
    (tmp_path / "bad.en.md").write_text(
        "---\nslug: Bad Slug\nlocale: en\ntitle: Bad\ncategory: x\n---\nBody\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["kb", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.en.md" in result.output and "slug" in result.output
    assert _rows(cli_env, Article) == 0


def test_the_demo_loads_the_help_articles(cli_env):  # noqa: F811
    for _ in range(2):  # idempotent: the second run writes no article and no version
        result = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
    assert _rows(cli_env, Article) == FILES == _rows(cli_env, ArticleVersion)
    assert _rows(cli_env, Article, status="draft") == 2  # one draft, in both languages
