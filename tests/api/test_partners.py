"""The partner directory over HTTP, on the database under test: the public list and its
filters, admin CRUD (delete deactivates), the CSV import through the API and the CLI
(idempotent on name, row-level errors with stable codes, nothing half-written), and who
may do what."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from supportdesk.cli import app
from supportdesk.demo import DEMO_PARTNERS
from supportdesk.partners.models import Partner
from tests.api.test_cli_and_migrations import _rows, cli_env  # noqa: F401 (fixture)
from tests.factories import Actor, Live

DEMO_COUNT = 8


def code(response) -> str:
    return response.json()["error"]["code"]


def body(**changes) -> dict:
    fields = {
        "name": "Sakura Solutions",
        "level": "gold",
        "specializations": ["workflows", "customization"],
        "countries": ["JP"],
        "languages": ["ja", "en"],
        "contact_url": "https://sakura.example.com/contact",
        "email": "leads@sakura.example.com",
        "description_en": "Workflow design in Tokyo.",
        "description_ja": "東京のワークフロー設計。",
    }
    fields.update(changes)
    return fields


async def admin(live: Live) -> Actor:
    return await live.agent("Sara", ["admin"], online=False)


async def upload(actor: Actor, text: str | bytes, content_type: str = "text/csv"):
    return await actor.live.http.post(
        "/api/v1/admin/partners/import",
        content=text.encode() if isinstance(text, str) else text,
        headers={**actor.headers, "Content-Type": content_type},
    )


async def test_admins_create_update_list_and_deactivate(live: Live):
    sara = await admin(live)
    created = await sara.post("/api/v1/admin/partners", body())
    assert created.status_code == 201, created.text
    partner = created.json()
    assert partner["active"] is True and partner["email"] == "leads@sakura.example.com"
    assert partner["description"] == {
        "en": "Workflow design in Tokyo.",
        "ja": "東京のワークフロー設計。",
    }

    taken = await sara.post("/api/v1/admin/partners", body(level="silver"))
    assert taken.status_code == 409 and code(taken) == "partner_name_taken"

    updated = await sara.put(
        f"/api/v1/admin/partners/{partner['id']}", body(level="platinum", countries=["jp", "US"])
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["level"] == "platinum" and updated.json()["countries"] == ["JP", "US"]

    public = (await live.http.get("/api/v1/partners")).json()
    assert [p["name"] for p in public] == ["Sakura Solutions"]
    assert "email" not in public[0]

    gone = await live.http.delete(f"/api/v1/admin/partners/{partner['id']}", headers=sara.headers)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert (await live.http.get("/api/v1/partners")).json() == []
    # Still there for admins (cards, leads and reports point at it), and it can return.
    listed = (await sara.get("/api/v1/admin/partners")).json()
    assert [(p["name"], p["active"]) for p in listed] == [("Sakura Solutions", False)]
    back = await sara.put(f"/api/v1/admin/partners/{partner['id']}", body(active=True))
    assert back.json()["active"] is True
    assert len((await live.http.get("/api/v1/partners")).json()) == 1

    missing = await sara.put("/api/v1/admin/partners/99999", body())
    assert missing.status_code == 404


async def test_bad_partners_are_refused_with_stable_codes(live: Live):
    sara = await admin(live)
    for changes, expected in [
        ({"level": "diamond"}, "partner_level_invalid"),
        ({"specializations": ["cooking"]}, "partner_specialization_invalid"),
        ({"countries": ["Japan"]}, "partner_country_invalid"),
        ({"languages": []}, "partner_language_invalid"),
        ({"contact_url": "javascript:alert(1)"}, "partner_url_invalid"),
        ({"email": "a@example.com\r\nBcc: b@example.com"}, "partner_email_invalid"),
        ({"name": " "}, "partner_name_invalid"),
    ]:
        refused = await sara.post("/api/v1/admin/partners", body(**changes))
        assert refused.status_code == 422 and code(refused) == expected, refused.text
    shapeless = await sara.post("/api/v1/admin/partners", {"name": "x"})
    assert shapeless.status_code == 422 and code(shapeless) == "invalid_request"
    assert (await sara.get("/api/v1/admin/partners")).json() == []


async def test_only_admins_manage_partners(live: Live):
    supervisor = await live.agent("Sven", ["supervisor"], online=False)
    agent = await live.agent("Aiko", ["customer_support"], online=False)
    customer = await live.customer()
    for actor in (supervisor, agent, customer):
        assert (await actor.get("/api/v1/admin/partners")).status_code == 403
        assert (await actor.post("/api/v1/admin/partners", body())).status_code == 403
        assert (await upload(actor, DEMO_PARTNERS.read_text(encoding="utf-8"))).status_code == 403
    anonymous = await live.http.get("/api/v1/admin/partners")
    assert anonymous.status_code == 401


async def test_csv_import_is_idempotent_on_name(live: Live):
    sara = await admin(live)
    text = DEMO_PARTNERS.read_text(encoding="utf-8")
    first = await upload(sara, text)
    assert first.status_code == 200, first.text
    assert first.json() == {"created": DEMO_COUNT, "updated": 0, "unchanged": 0}
    again = await upload(sara, "\ufeff" + text, "text/csv; charset=utf-8")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": DEMO_COUNT}

    changed = text.replace("Fuji Apps Lab,silver", "Fuji Apps Lab,gold")
    third = await upload(sara, changed)
    assert third.json() == {"created": 0, "updated": 1, "unchanged": DEMO_COUNT - 1}
    partners = {p["name"]: p for p in (await sara.get("/api/v1/admin/partners")).json()}
    assert len(partners) == DEMO_COUNT
    assert partners["Fuji Apps Lab"]["level"] == "gold"


async def test_a_csv_with_bad_rows_imports_nothing_and_names_each_row(live: Live):
    sara = await admin(live)
    lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",gold,", ",diamond,")
    lines[4] = lines[4].replace("info@fuji-apps.example.com", "not an address")
    lines.append(lines[1])  # the first partner again
    refused = await upload(sara, "\n".join(lines) + "\n", "text/csv")
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "partner_csv_invalid"
    assert [(e["row"], e["column"], e["code"]) for e in error["errors"]] == [
        (3, "level", "partner_level_invalid"),
        (5, "email", "partner_email_invalid"),
        (10, "name", "partner_csv_duplicate_name"),
    ]
    assert all(e["message"] for e in error["errors"])
    assert (await sara.get("/api/v1/admin/partners")).json() == []

    columns = await upload(sara, "name,colour\nx,y\n")
    codes = {e["code"] for e in columns.json()["error"]["errors"]}
    assert {"partner_csv_unknown_column", "partner_csv_missing_column"} <= codes

    not_csv = await upload(sara, '{"name": "x"}', "application/json")
    assert not_csv.status_code == 415 and code(not_csv) == "partner_csv_content_type"
    not_utf8 = await upload(sara, "名前,level\n".encode("shift_jis"))
    assert not_utf8.status_code == 422
    assert not_utf8.json()["error"]["errors"][0]["code"] == "partner_csv_encoding"
    empty = await upload(sara, "")
    assert empty.json()["error"]["errors"][0]["code"] == "partner_csv_empty"


async def test_the_public_list_filters_by_specialisation_language_and_country(live: Live):
    sara = await admin(live)
    assert (await upload(sara, DEMO_PARTNERS.read_text(encoding="utf-8"))).status_code == 200

    async def names(**params) -> list[str]:
        response = await live.http.get("/api/v1/partners", params=params)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()]

    assert len(await names()) == DEMO_COUNT
    # Best certification first, then by name.
    assert await names(specialization="workflows") == [
        "Sakura Solutions",
        "Northwind Workflow Studio",
        "Osaka Digital Works",
    ]
    assert await names(specialization="workflows", language="en") == [
        "Sakura Solutions",
        "Northwind Workflow Studio",
    ]
    assert await names(specialization="rest_integration", country="ca") == ["Maple API Partners"]
    assert await names(specialization="training", language="ja", country="SG") == [
        "Hikari Training Academy"
    ]
    for params, expected in [
        ({"specialization": "cooking"}, "partner_specialization_invalid"),
        ({"language": "japanese"}, "partner_language_invalid"),
        ({"country": "Japan"}, "partner_country_invalid"),
    ]:
        refused = await live.http.get("/api/v1/partners", params=params)
        assert refused.status_code == 422 and code(refused) == expected


def test_cli_import_twice_and_a_bad_file(cli_env, tmp_path: Path):  # noqa: F811
    first = CliRunner().invoke(app, ["partners", "import", str(DEMO_PARTNERS)])
    assert first.exit_code == 0, first.output
    assert f"created {DEMO_COUNT}, updated 0, unchanged 0" in first.output
    again = CliRunner().invoke(app, ["partners", "import", str(DEMO_PARTNERS)])
    assert f"created 0, updated 0, unchanged {DEMO_COUNT}" in again.output
    assert _rows(cli_env, Partner) == DEMO_COUNT

    bad = tmp_path / "bad.csv"
    bad.write_text(
        DEMO_PARTNERS.read_text(encoding="utf-8").replace("Kumo Integrations,gold", "New One,gold")
        + "Broken,gold,workflows,JP,ja,ftp://x,b@example.com,,,true\n",
        encoding="utf-8",
    )
    refused = CliRunner().invoke(app, ["partners", "import", str(bad)])
    assert refused.exit_code == 1
    assert "row 10, column contact_url: partner_url_invalid" in refused.output
    assert _rows(cli_env, Partner) == DEMO_COUNT  # "New One" was not written either
