"""The labelled triage requests that ship with the project (written by us, ja and en).

``train.jsonl`` trains the model; ``test.jsonl`` is held out for ``supportdesk triage eval``
and never used for training or tuning. Each line: ``{"text", "locale", "category",
"subtype", "quality", "missing"}``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

Part = Literal["train", "test"]


def load_rows(part: Part) -> list[dict[str, Any]]:
    text = resources.files(__package__).joinpath(f"{part}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# The marketplace catalogue the migration seeds: fictional apps and vendors (example.com
# addresses). Evaluation and the benchmark use it too.
DEMO_APPS: list[dict[str, Any]] = [
    {
        "code": "smart-forms",
        "name_en": "SmartForms Pro",
        "name_ja": "スマートフォームPro",
        "aliases": ["SmartForms", "Smart Forms", "スマートフォーム", "スマフォ"],
        "vendor": "FormWorks Inc.",
        "support_url": "https://formworks.example.com/support",
        "support_email": "support@formworks.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/smart-forms#support",
    },
    {
        "code": "gantt-plus",
        "name_en": "Gantt Plus",
        "name_ja": "ガントプラス",
        "aliases": ["GanttPlus", "ガントPlus"],
        "vendor": "Timeline Labs",
        "support_url": "https://timelinelabs.example.com/help",
        "support_email": "help@timelinelabs.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/gantt-plus#support",
    },
    {
        "code": "signflow",
        "name_en": "SignFlow e-Sign",
        "name_ja": "サインフロー電子署名",
        "aliases": ["SignFlow", "Sign Flow", "サインフロー"],
        "vendor": "Trustmark Ltd.",
        "support_url": "https://trustmark.example.com/signflow/support",
        "support_email": "signflow-support@trustmark.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/signflow#support",
    },
    {
        "code": "kintai-clock",
        "name_en": "Kintai Clock",
        "name_ja": "勤怠クロック",
        "aliases": ["Kintai", "KintaiClock", "キンタイクロック"],
        "vendor": "Hanabi Soft",
        "support_url": "https://hanabisoft.example.com/kintai/support",
        "support_email": "kintai@hanabisoft.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/kintai-clock#support",
    },
    {
        "code": "mailbridge",
        "name_en": "MailBridge",
        "name_ja": "メールブリッジ",
        "aliases": ["Mail Bridge", "メルブリ"],
        "vendor": "Bridgeway Systems",
        "support_url": "https://bridgeway.example.com/mailbridge",
        "support_email": "mailbridge@bridgeway.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/mailbridge#support",
    },
    {
        "code": "invoicely",
        "name_en": "Invoicely Billing",
        "name_ja": "インボイスリー請求書",
        "aliases": ["Invoicely", "インボイスリー"],
        "vendor": "Ledger & Co.",
        "support_url": "https://ledger.example.com/invoicely/help",
        "support_email": "invoicely@ledger.example.com",
        "support_tab_url": "https://marketplace.example.com/apps/invoicely#support",
    },
]
