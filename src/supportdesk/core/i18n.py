"""Locales and the bilingual message catalogue for text a person reads.

Every user-facing string lives here once, in Japanese and English. Error messages are
looked up by their stable machine code, so the code and its texts never drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Locale = Literal["ja", "en"]
LOCALES: tuple[Locale, ...] = get_args(Locale)
DEFAULT_LOCALE: Locale = "en"


def normalize_locale(value: str | None) -> Locale:
    """Map ``ja-JP``, ``en_US``, ``JA`` ... to a supported locale; anything else is English."""
    if value:
        head = value.strip().lower().replace("_", "-").split("-")[0]
        if head == "ja":
            return "ja"
    return DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> Locale | None:
    """The first supported language in an ``Accept-Language`` header, by quality."""
    if not header:
        return None
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:  # q=0 means "not acceptable"
            ranked.append((weight, lang))
    for _, lang in sorted(ranked, key=lambda pair: -pair[0]):
        head = lang.strip().lower().split("-")[0]
        if head in LOCALES:
            return normalize_locale(head)
    return None


# code -> {locale: text}. Texts may use str.format fields filled from error params.
MESSAGES: Mapping[str, Mapping[Locale, str]] = {
    "invalid_request": {
        "en": "The request is not valid: {detail}",
        "ja": "リクエストの内容が正しくありません: {detail}",
    },
    "not_found": {
        "en": "Not found.",
        "ja": "見つかりません。",
    },
    "method_not_allowed": {
        "en": "This method is not allowed here.",
        "ja": "このメソッドはここでは使えません。",
    },
    "invalid_identity_token": {
        "en": "Your sign-in could not be verified. Reload the page and try again.",
        "ja": "サインイン情報を確認できませんでした。ページを再読み込みしてもう一度お試しください。",
    },
    "authentication_required": {
        "en": "Please sign in.",
        "ja": "サインインしてください。",
    },
    "invalid_session": {
        "en": "Your session has expired. Please sign in again.",
        "ja": "セッションの有効期限が切れました。もう一度サインインしてください。",
    },
    "csrf_failed": {
        "en": "The security token of this form is missing or wrong. Reload the page.",
        "ja": "フォームのセキュリティトークンがないか、正しくありません。ページを再読み込みしてください。",
    },
    "invalid_credentials": {
        "en": "The email address or password is wrong.",
        "ja": "メールアドレスまたはパスワードが正しくありません。",
    },
    "too_many_login_attempts": {
        "en": "Too many failed sign-ins. Try again in {retry_after} seconds.",
        "ja": "サインインの失敗が多すぎます。{retry_after} 秒後にもう一度お試しください。",
    },
    "forbidden": {
        "en": "You are not allowed to do this.",
        "ja": "この操作を行う権限がありません。",
    },
    "support_requires_commercial_plan": {
        "en": (
            "Support chat is available on commercial plans. Your portal is on the "
            "{plan_name} plan. You can upgrade, or find answers in the help center."
        ),
        "ja": (
            "サポートチャットは有料プランでご利用いただけます。現在のポータルは"
            "{plan_name}プランです。プランのアップグレード、またはヘルプセンターをご利用ください。"
        ),
    },
    "support_requires_portal_admin": {
        "en": (
            "Only administrators of your portal can contact support. Ask your portal "
            "administrator, or find answers in the help center."
        ),
        "ja": (
            "サポートへのお問い合わせはポータルの管理者のみが行えます。"
            "ポータル管理者にご相談いただくか、ヘルプセンターをご利用ください。"
        ),
    },
    "message_empty": {
        "en": "The message is empty.",
        "ja": "メッセージが空です。",
    },
    "message_too_long": {
        "en": "The message is too long ({length} characters). The limit is {limit}.",
        "ja": "メッセージが長すぎます（{length} 文字）。上限は {limit} 文字です。",
    },
    "client_key_invalid": {
        "en": "client_key must be 1 to 100 characters.",
        "ja": "client_key は 1〜100 文字で指定してください。",
    },
    "client_key_reused": {
        "en": "This client_key was already used for a different request.",
        "ja": "この client_key は別のリクエストで使用済みです。",
    },
    "conversation_resolved": {
        "en": "This conversation is resolved. Please start a new request.",
        "ja": "このお問い合わせは解決済みです。新しいお問い合わせを開始してください。",
    },
    "conversation_not_resolved": {
        "en": "The conversation is not resolved yet, so it cannot be rated.",
        "ja": "お問い合わせはまだ解決していないため、評価できません。",
    },
    "conversation_not_assigned_to_you": {
        "en": "This conversation is not assigned to you.",
        "ja": "このお問い合わせはあなたに割り当てられていません。",
    },
    "conversation_read_only": {
        "en": "You can read this conversation but no longer write in it.",
        "ja": "このお問い合わせは閲覧のみ可能です。",
    },
    "invalid_state_transition": {
        "en": "This is not possible while the conversation is {state}.",
        "ja": "お問い合わせの状態が「{state}」のため、この操作はできません。",
    },
    "transfer_note_required": {
        "en": "A handoff note is required when transferring.",
        "ja": "引き継ぎメモは必須です。",
    },
    "unknown_tier": {
        "en": "Unknown tier: {tier}.",
        "ja": "不明なサポート階層です: {tier}",
    },
    "same_tier_transfer": {
        "en": "The conversation is already at this tier.",
        "ja": "このお問い合わせはすでにこの階層にあります。",
    },
    "preferred_agent_not_specialist": {
        "en": "The preferred agent must be a technical-support specialist.",
        "ja": "指名できるのはテクニカルサポート担当者のみです。",
    },
    "agent_not_in_tier": {
        "en": "This agent does not work in the conversation's tier.",
        "ja": "この担当者はお問い合わせの階層を担当していません。",
    },
    "rating_out_of_range": {
        "en": "The score must be a whole number from 1 to 5.",
        "ja": "評価は 1〜5 の整数で指定してください。",
    },
    "already_rated": {
        "en": "This conversation has already been rated.",
        "ja": "このお問い合わせはすでに評価済みです。",
    },
    "comment_too_long": {
        "en": "The comment is too long. The limit is {limit} characters.",
        "ja": "コメントが長すぎます。上限は {limit} 文字です。",
    },
    "email_taken": {
        "en": "An agent with this email address already exists.",
        "ja": "このメールアドレスの担当者はすでに存在します。",
    },
    "invalid_role": {
        "en": "Unknown role: {role}.",
        "ja": "不明なロールです: {role}",
    },
    "password_too_short": {
        "en": "The password must be at least {min} characters.",
        "ja": "パスワードは {min} 文字以上にしてください。",
    },
    "saved_reply_shortcut_invalid": {
        "en": (
            "The shortcut must be 1 to {limit} characters: lowercase letters a-z, digits, "
            "- and _, starting with a letter or digit."
        ),
        "ja": (
            "ショートカットは半角の英小文字・数字・「-」「_」で 1〜{limit} 文字にし、"
            "英字か数字で始めてください。"
        ),
    },
    "saved_reply_shortcut_taken": {
        "en": "A saved reply with the shortcut /{shortcut} already exists in this language.",
        "ja": "ショートカット /{shortcut} の定型文はこの言語ですでに存在します。",
    },
    "saved_reply_title_empty": {
        "en": "The title is empty.",
        "ja": "タイトルが空です。",
    },
    "saved_reply_title_too_long": {
        "en": "The title is too long. The limit is {limit} characters.",
        "ja": "タイトルが長すぎます。上限は {limit} 文字です。",
    },
    "saved_reply_body_empty": {
        "en": "The reply text is empty.",
        "ja": "定型文の本文が空です。",
    },
    "saved_reply_body_too_long": {
        "en": "The reply text is too long ({length} characters). The limit is {limit}.",
        "ja": "定型文の本文が長すぎます（{length} 文字）。上限は {limit} 文字です。",
    },
    "invalid_date_range": {
        "en": "The start of the period must be before its end.",
        "ja": "期間の開始は終了より前にしてください。",
    },
    "report_range_too_long": {
        "en": "The period is too long. Choose at most {max_days} days.",
        "ja": "期間が長すぎます。{max_days} 日以内で指定してください。",
    },
    # --- account access ---
    "access_scopes_empty": {
        "en": "Choose at least one scope.",
        "ja": "アクセス範囲を 1 つ以上選んでください。",
    },
    "access_scope_not_allowed": {
        "en": "The scope {scope} cannot be granted here: it is not offered, or it was not requested.",
        "ja": "アクセス範囲 {scope} はここでは許可できません（提供されていないか、依頼に含まれていません）。",
    },
    "access_duration_too_long": {
        "en": "The access period is too long. The limit is {max_minutes} minutes.",
        "ja": "アクセス期間が長すぎます。上限は {max_minutes} 分です。",
    },
    "access_duration_too_short": {
        "en": "The access period is too short. It must be at least {min_minutes} minutes.",
        "ja": "アクセス期間が短すぎます。{min_minutes} 分以上にしてください。",
    },
    "access_reason_required": {
        "en": "Please give the reason for the access request.",
        "ja": "アクセスを依頼する理由を入力してください。",
    },
    "access_reason_too_long": {
        "en": "The reason is too long. The limit is {limit} characters.",
        "ja": "理由が長すぎます。上限は {limit} 文字です。",
    },
    "access_not_assigned": {
        "en": "Only the technical-support specialist assigned to this conversation can request account access.",
        "ja": "アカウントへのアクセスを依頼できるのは、この会話を担当しているテクニカルサポートの担当者だけです。",
    },
    "access_request_already_pending": {
        "en": "You already have an access request waiting for the customer's answer in this conversation.",
        "ja": "この会話には、お客様の回答を待っているアクセス依頼がすでにあります。",
    },
    "access_grant_not_yours": {
        "en": "Only the specialist named in this access grant can use it.",
        "ja": "このアクセス許可を使えるのは、許可で指名された担当者だけです。",
    },
    "access_requires_portal_admin": {
        "en": "Only administrators of your portal can manage account access.",
        "ja": "アカウントへのアクセスを管理できるのは、ポータルの管理者だけです。",
    },
    "grant_not_active": {
        "en": "This access grant is not active (it is {state}).",
        "ja": "このアクセス許可は有効ではありません（状態: {state}）。",
    },
    "grant_already_decided": {
        "en": "This access request has already been answered or has lapsed (it is {state}).",
        "ja": "このアクセス依頼はすでに回答済みか、期限切れです（状態: {state}）。",
    },
    "grant_already_ended": {
        "en": "This access has already ended (it is {state}).",
        "ja": "このアクセスはすでに終了しています（状態: {state}）。",
    },
    "host_key_required": {
        "en": "Send the host product's API key as Authorization: Bearer.",
        "ja": "ホスト製品の API キーを Authorization: Bearer で送ってください。",
    },
    "host_key_not_configured": {
        "en": "Token introspection is not set up on this server: SUPPORTDESK_HOST_API_KEY is not set.",
        "ja": "このサーバーではトークンの検査が設定されていません（SUPPORTDESK_HOST_API_KEY が未設定です）。",
    },
    "access_signing_unavailable": {
        "en": "Support access tokens are not available: the server has no signing key secret.",
        "ja": "サポート用アクセストークンを発行できません（サーバーに署名鍵のシークレットが設定されていません）。",
    },
    # --- credential safety ---
    "staff_may_not_ask_for_credentials": {
        "en": "This message was not sent: it asks the customer for their password or login credentials. Support never asks for passwords. If technical support needs to look into the account, request an access grant in the conversation instead: the customer approves it, it is limited and it expires on its own.",
        "ja": "このメッセージは送信されませんでした。お客様にパスワードやログイン情報を尋ねる内容が含まれています。サポートがパスワードをお伺いすることはありません。アカウントの確認が必要な場合は、代わりにテクニカルサポートから会話内でアクセス許可をリクエストしてください。許可はお客様が承認し、範囲が限定され、期限が来ると自動的に無効になります。",
    },
    "invalid_frame": {
        "en": "The frame could not be understood: {detail}",
        "ja": "フレームを解釈できませんでした: {detail}",
    },
    "internal_error": {
        "en": "Something went wrong on our side. Please try again.",
        "ja": "サーバー側で問題が発生しました。もう一度お試しください。",
    },
    "service_unavailable": {
        "en": "The service is temporarily unavailable. Please retry shortly.",
        "ja": "サービスが一時的に利用できません。しばらくしてから再度お試しください。",
    },
}


class _Blank(dict[str, object]):
    """Leaves unknown format fields visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(code: str, locale: Locale, params: Mapping[str, object] | None = None) -> str:
    texts = MESSAGES.get(code) or MESSAGES["internal_error"]
    return texts[locale].format_map(_Blank(params or {}))
