"""The triage classifier on the issue's must-show examples, its reasons, the specificity
detectors and the marketplace-app matcher (pure: no database)."""

from __future__ import annotations

import pytest

from supportdesk.triage import rules
from supportdesk.triage.classifier import classify
from supportdesk.triage.eval import demo_catalogue

pytestmark = pytest.mark.unit

CATALOGUE = demo_catalogue()


def test_a_vague_japanese_workflow_complaint_is_a_vague_technical_problem_with_missing_items():
    result = classify("ワークフローが作動しません。何とかしてください。", "ja", (), CATALOGUE)
    assert result.category == "technical_problem"
    assert result.quality == "vague"
    assert {"which_object", "which_action", "expected_vs_actual", "screenshot"} <= set(
        result.missing
    )
    assert result.subtype is None and result.app is None and result.specialization is None
    # The reasons say, in both languages, what was seen and what is missing.
    assert any("作動しません" in r.ja and "作動しません" in r.en for r in result.reasons)
    assert any(r.en.startswith("Does not say") and "書かれていない" in r.ja for r in result.reasons)


def test_the_specific_vote_counting_report_is_specific():
    text = (
        "ワークフローで、従業員の投票が正確にカウントされません。"
        "賛成が3票なのに2票と表示されます。アクション設定のスクリーンショットを添付します。"
    )
    result = classify(text, "ja", (), CATALOGUE)
    assert result.category == "technical_problem"
    assert result.quality == "specific"
    assert "screenshot" not in result.missing and "which_action" not in result.missing


def test_the_issue_sentence_itself_is_specific_too():
    result = classify(
        "ワークフローで、従業員の投票が正確にカウントされません。"
        "アクション設定のスクリーンショットを添付します。",
        "ja",
        (),
        CATALOGUE,
    )
    assert (result.category, result.quality) == ("technical_problem", "specific")


@pytest.mark.parametrize(
    "text",
    [
        "Please build a whole approval workflow for our purchase requests, with all the steps.",
        "購買申請の承認ワークフローを丸ごと作ってください。",
    ],
)
def test_asking_support_to_build_a_whole_approval_workflow_is_out_of_scope_workflow_design(text):
    result = classify(text, None, (), CATALOGUE)
    assert (result.category, result.subtype) == ("out_of_scope", "workflow_design")
    assert result.specialization == "workflows"
    assert result.quality is None and result.missing == []
    assert any("ワークフロー" in r.ja for r in result.reasons)


@pytest.mark.parametrize(
    ("text", "subtype", "specialization"),
    [
        (
            "Teach me how to call your REST API from Python with OAuth.",
            "rest_api",
            "rest_integration",
        ),
        ("自社専用のプラグインを開発してもらえますか。", "app_development", "app_development"),
        (
            "Please customize the CRM fields and layouts for our business.",
            "customization",
            "customization",
        ),
    ],
)
def test_other_out_of_scope_subtypes_map_to_a_partner_specialisation(text, subtype, specialization):
    result = classify(text, None, (), CATALOGUE)
    assert (result.category, result.subtype, result.specialization) == (
        "out_of_scope",
        subtype,
        specialization,
    )


def test_a_problem_with_a_named_installed_app_is_a_marketplace_app_with_the_vendor_contact():
    result = classify(
        "SmartForms Proの送信ボタンを押してもフォームが送信されません。",
        "ja",
        ["smart-forms"],
        CATALOGUE,
    )
    assert result.category == "marketplace_app"
    assert result.app is not None
    assert result.app["code"] == "smart-forms"
    assert result.app["installed"] is True
    assert result.app["vendor"] == "FormWorks Inc."
    assert result.app["support_email"] == "support@formworks.example.com"
    assert result.app["support_url"].startswith("https://")
    assert result.app["support_tab_url"].startswith("https://")
    assert any("FormWorks" in r.en and "FormWorks" in r.ja for r in result.reasons)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("メルブリの同期が昨日から止まっています。", "mailbridge"),  # Japanese alias
        ("the mail bridge import keeps failing", "mailbridge"),  # spaced English name
        ("Invoicly keeps rounding our tax wrong", "invoicely"),  # typo
        ("サインフローで署名依頼が送れません", "signflow"),
    ],
)
def test_apps_are_found_by_name_alias_and_with_typos(text, code):
    result = classify(text, None, (), CATALOGUE)
    assert result.category == "marketplace_app"
    assert result.app is not None and result.app["code"] == code
    assert result.app["installed"] is False


def test_installed_apps_are_matched_first_and_short_aliases_must_be_exact():
    # スマホ (smartphone) is not the alias スマフォ, not even for a portal that has the app.
    assert rules.match_app("スマホで開けません", ["smart-forms"], CATALOGUE) is None
    # A typo of an installed app's name passes the installed apps' lower bar.
    match = rules.match_app("SmartFroms Pro fails", ["smart-forms"], CATALOGUE)
    assert match is not None and match.app.code == "smart-forms" and match.installed
    assert rules.match_app("our gantt chart is broken", [], CATALOGUE) is None


def test_how_to_and_feature_requests():
    assert (
        classify("タスクの期限を一括で変えるにはどうすればいいですか？", "ja").category == "how_to"
    )
    assert classify("How do I add a second approver to a step?", "en").category == "how_to"
    assert classify("ガントチャートをPDFで出力できる機能を追加してほしいです。").category == (
        "feature_request"
    )
    assert classify("It would be great if the calendar showed week numbers.").category == (
        "feature_request"
    )


def test_results_have_the_contract_shape_and_bilingual_reasons():
    result = classify("the workflow doesnt work, fix it")
    data = result.as_dict()
    assert set(data) == {
        "category",
        "subtype",
        "quality",
        "missing",
        "confidence",
        "reasons",
        "app",
        "specialization",
    }
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["reasons"] and all(
        set(r) == {"en", "ja"} and r["en"] and r["ja"] for r in data["reasons"]
    )
    assert set(data["missing"]) <= set(rules.MISSING_ITEMS)


def test_the_specificity_detectors_name_what_they_found():
    found = rules.specificity(
        rules.normalise(
            'When I click Save on deal #2291 I get "Error 409: conflict" since yesterday, '
            "expected it to save. Screenshot attached."
        )
    )
    assert found.specific
    assert found.missing == []
    assert rules.specificity(rules.normalise("it's broken")).missing == list(rules.MISSING_ITEMS)


def test_text_checks():
    from supportdesk.core.errors import DomainError

    assert rules.check_text("  hello  ") == "hello"
    for bad in ("", "   ", "x" * (rules.TEXT_MAX + 1)):
        with pytest.raises(DomainError) as refused:
            rules.check_text(bad)
        assert refused.value.code == "triage_text_invalid" and refused.value.status == 422
    assert rules.check_installed_apps([" a ", "a", "", "b"]) == ["a", "b"]
