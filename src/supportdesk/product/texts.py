"""Customer-facing texts of development requests in Japanese and English: the status
names, the item posted into linked chats, the e-mail sent when it stays unread, and why
there are no dates. (Error texts live in core/i18n.py; page texts in the .po files.)"""

from __future__ import annotations

from collections.abc import Mapping

Bilingual = Mapping[str, str]

STATUS_NAMES: Mapping[str, Bilingual] = {
    "queued": {"en": "queued", "ja": "開発待ち"},
    "in_progress": {"en": "in progress", "ja": "開発中"},
    "fixed": {"en": "fixed", "ja": "修正済み"},
    "released": {"en": "released", "ja": "リリース済み"},
    "wont_fix": {"en": "not planned", "ja": "対応予定なし"},
}

# Shown with every request the customer sees, and in the item of a new request.
NO_DEADLINE: Bilingual = {
    "en": (
        "We do not give dates for requests: the order depends on how complex each change "
        "is and on the development queue, and the requests customers mention most often "
        "go first. We will tell you here in this chat whenever the status changes."
    ),
    "ja": (
        "リクエストには期日をお約束していません。対応の順番は、変更の難しさと開発の待ち状況で"
        "決まり、多くのお客様からご要望いただいたものから優先して進めます。"
        "状況が変わったときは、このチャットでお知らせします。"
    ),
}

_CREATED: Bilingual = {
    "en": "Your request is now development request {number} “{title}” ({status}).",
    "ja": "ご要望を開発リクエスト {number}「{title}」として登録しました（{status}）。",
}
_STATUS: Bilingual = {
    "en": "Request {number} “{title}” is now {status}.",
    "ja": "リクエスト {number}「{title}」のステータスが「{status}」になりました。",
}
_TITLE: Bilingual = {
    "en": "Request {number} is now called “{title}” ({status}).",
    "ja": "リクエスト {number} の件名を「{title}」に変更しました（{status}）。",
}

# The catch-up item of a conversation linked to a request that already existed.
_LINKED: Bilingual = {
    "en": "Your request is linked to development request {number} “{title}”, "
    "which is currently {status}.",
    "ja": "ご要望は開発リクエスト {number}「{title}」に紐づけられました"
    "（現在のステータス：{status}）。",
}

MAIL_SUBJECT: Bilingual = {
    "en": "Update on your request {number}",
    "ja": "リクエスト {number} の更新のお知らせ",
}
MAIL_BODY: Bilingual = {
    "en": "{text}\n\nYou can read the details in your support chat.\n",
    "ja": "{text}\n\nくわしくはサポートチャットをご覧ください。\n",
}


def pick(texts: Bilingual, locale: str) -> str:
    return texts["ja"] if locale == "ja" else texts["en"]


def update_text(change: str, number: str, title: str, status: str) -> dict[str, str]:
    """The chat item's sentence in both languages for a created | status | title change,
    or the catch-up of a conversation ``linked`` to an existing request. The first item a
    conversation gets (created or linked) also says why there are no dates."""
    template = {"created": _CREATED, "title": _TITLE, "linked": _LINKED}.get(change, _STATUS)
    result = {}
    for locale in ("en", "ja"):
        sentence = template[locale].format(
            number=number, title=title, status=STATUS_NAMES[status][locale]
        )
        if change in ("created", "linked"):
            sentence = (
                f"{sentence} {NO_DEADLINE[locale]}"
                if locale == "en"
                else sentence + NO_DEADLINE[locale]
            )
        result[locale] = sentence
    return result
