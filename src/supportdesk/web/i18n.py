"""Every string the widget and the demo host page show, in Japanese and English.

One catalogue: code -> {"ja": ..., "en": ...}. The widget page receives it as JSON
(the widget learns the locale only from ``GET /api/v1/me``, after the token arrives),
and fills ``{name}``-style fields itself. The demo host page is rendered server-side
with ``t(code, locale)``. Error messages from the API come from ``core/i18n.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from supportdesk.core.i18n import Locale

STRINGS: Mapping[str, Mapping[Locale, str]] = {
    # Widget chrome.
    "widget.title": {"en": "Support", "ja": "サポート"},
    "widget.close": {"en": "Close support", "ja": "サポートを閉じる"},
    "widget.back": {"en": "Back", "ja": "戻る"},
    "widget.loading": {"en": "Loading…", "ja": "読み込み中…"},
    "widget.error": {
        "en": "Something went wrong. Please try again.",
        "ja": "問題が発生しました。もう一度お試しください。",
    },
    "widget.reconnecting": {"en": "Reconnecting…", "ja": "再接続しています…"},
    # Ineligible.
    "ineligible.heading": {
        "en": "Support chat is not available",
        "ja": "サポートチャットはご利用いただけません",
    },
    "ineligible.pricing": {"en": "See plans and pricing", "ja": "プランと料金を見る"},
    "ineligible.help": {"en": "Open the help center", "ja": "ヘルプセンターを開く"},
    # Ask form.
    "ask.heading": {"en": "Ask a question", "ja": "質問する"},
    "ask.label": {"en": "Your question", "ja": "ご質問の内容"},
    "ask.hint": {
        "en": "Describe what you were doing and what happened.",
        "ja": "何をしていて、何が起きたかをお書きください。",
    },
    "ask.submit": {"en": "Send question", "ja": "質問を送信"},
    "ask.suggestions": {"en": "Related help articles", "ja": "関連するヘルプ記事"},
    # History.
    "history.heading": {"en": "Your earlier conversations", "ja": "これまでのお問い合わせ"},
    "history.empty": {"en": "No conversations yet.", "ja": "お問い合わせはまだありません。"},
    "state.waiting": {"en": "Waiting", "ja": "待機中"},
    "state.assigned": {"en": "In progress", "ja": "対応中"},
    "state.resolved": {"en": "Resolved", "ja": "解決済み"},
    "state.closed": {"en": "Closed", "ja": "完了"},
    # Chat.
    "chat.label": {"en": "Your message", "ja": "メッセージ"},
    "chat.send": {"en": "Send", "ja": "送信"},
    "chat.you": {"en": "You", "ja": "あなた"},
    "chat.queue": {
        "en": "Waiting for an agent. You are number {position} in line.",
        "ja": "担当者をお待ちください。現在 {position} 番目です。",
    },
    "chat.waiting": {"en": "Waiting for an agent.", "ja": "担当者をお待ちください。"},
    "chat.with": {"en": "Chatting with {name} ({tier})", "ja": "担当: {name}（{tier}）"},
    "chat.resolved": {
        "en": "This conversation is resolved.",
        "ja": "このお問い合わせは解決済みです。",
    },
    "chat.typing": {"en": "{name} is typing…", "ja": "{name} が入力中…"},
    "tier.customer_support": {"en": "customer support", "ja": "カスタマーサポート"},
    "tier.technical_support": {"en": "technical support", "ja": "テクニカルサポート"},
    # System items.
    "event.assigned": {
        "en": "{name} ({tier}) joined the conversation.",
        "ja": "{name}（{tier}）が対応を始めました。",
    },
    "event.transferred": {
        "en": "Your question was handed over to {tier}.",
        "ja": "お問い合わせを{tier}に引き継ぎました。",
    },
    "event.resolved": {
        "en": "{name} marked the conversation as resolved.",
        "ja": "{name} がこのお問い合わせを解決済みにしました。",
    },
    "event.rated": {
        "en": "You rated this conversation {score} of 5.",
        "ja": "評価: 5 段階中 {score}",
    },
    # Rating.
    "rating.heading": {"en": "How did we do?", "ja": "対応はいかがでしたか？"},
    "rating.star": {"en": "{score} of 5 stars", "ja": "5 段階中 {score}"},
    "rating.comment": {"en": "Comment (optional)", "ja": "コメント（任意）"},
    "rating.submit": {"en": "Send rating", "ja": "評価を送信"},
    "rating.thanks": {"en": "Thank you for your feedback.", "ja": "ご評価ありがとうございました。"},
    # Demo host page.
    "demo.title": {"en": "Host product (demo)", "ja": "ホスト製品（デモ）"},
    "demo.signed_in_as": {"en": "Signed in as", "ja": "サインイン中のユーザー"},
    "demo.switch": {"en": "Switch", "ja": "切り替え"},
    "demo.help": {"en": "Help", "ja": "ヘルプ"},
    "demo.help_heading": {"en": "Help", "ja": "ヘルプ"},
    "demo.help_close": {"en": "Close help", "ja": "ヘルプを閉じる"},
    "demo.ask": {"en": "Ask a question", "ja": "質問する"},
    "demo.ask_intro": {
        "en": "Didn't find an answer? Ask our support team.",
        "ja": "答えが見つかりませんか？サポートチームに質問できます。",
    },
    "demo.dashboard": {"en": "Dashboard", "ja": "ダッシュボード"},
    "demo.dashboard_text": {
        "en": "This page imitates the host product. Open help with the ? icon at the top right.",
        "ja": "このページはホスト製品の代わりです。右上の ? アイコンからヘルプを開けます。",
    },
}

# Help articles shown in the demo help panel (long enough that the panel scrolls).
DEMO_ARTICLES: tuple[Mapping[Locale, str], ...] = (
    {"en": "Getting started", "ja": "はじめに"},
    {"en": "Inviting your team", "ja": "チームを招待する"},
    {"en": "Importing data", "ja": "データをインポートする"},
    {"en": "Exporting to CSV", "ja": "CSV にエクスポートする"},
    {"en": "Roles and permissions", "ja": "ロールと権限"},
    {"en": "Billing and plans", "ja": "請求とプラン"},
    {"en": "Single sign-on", "ja": "シングルサインオン"},
    {"en": "Webhooks", "ja": "Webhook"},
    {"en": "API keys", "ja": "API キー"},
    {"en": "Troubleshooting sync", "ja": "同期のトラブルシューティング"},
)


def t(code: str, locale: Locale) -> str:
    return STRINGS[code][locale]


def catalogue(locale: Locale) -> dict[str, str]:
    """The strings of one locale, for the page."""
    return {code: texts[locale] for code, texts in STRINGS.items()}
