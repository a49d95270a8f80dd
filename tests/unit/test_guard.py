"""The outbound guard: agent messages that ask for a password, in Japanese and English,
against sentences that say support never asks (the policy saved reply among them)."""

from __future__ import annotations

import importlib

import pytest

from supportdesk.safety.guard import asks_for_credentials

pytestmark = pytest.mark.unit

ASKS = [
    # English
    "Could you send me your password?",
    "What is your password?",
    "What's your current password?",
    "Please share your login credentials so I can check.",
    "Can you tell me the password for your account?",
    "I need your password to look into this.",
    "Please provide your username and password.",
    "Reply with your PIN and we'll verify the change.",
    "DM me your password",
    "Don't worry, could you send me your password?",
    "Would you mind sharing your password?",
    "Could you type your password here?",
    "If you could send me your password, that would help.",
    # Japanese
    "パスワードを教えてください",
    "パスワードを送ってください",
    "現在のパスワードをお知らせいただけますか",
    "確認のため、ログインパスワードを教えていただけませんか",
    "パスワードは何ですか？",
    "PWをチャットで送ってもらえますか",
    "暗証番号を教えてください",
    "ログイン情報（IDとパスワード）を共有してください",
    "お手数ですが、パスワードをこちらにお送りいただけますでしょうか。",
]

NEVER_ASKS = [
    # English
    "We will never ask for your password.",
    "Please don't share your password with anyone, including us.",
    "Please reset your password using the link we sent.",
    "You can reset your password from the login page.",
    "Enter your new password twice and click Save.",
    "If you shared your password with anyone, please change it now.",
    "Could you send me a screenshot of the password reset page?",
    "What is your username?",
    "Have you tried the 'Forgot password' link?",
    "Our technical team will request temporary access instead of asking for your password.",
    # Japanese
    "パスワードを再設定してください",
    "パスワードは他の人に教えないでください",
    "サポートがパスワードをお伺いすることはございません",
    "パスワードをお忘れの場合は、ログイン画面の「パスワードを忘れた方」から再設定できます",
    "新しいパスワードを入力して保存してください",
    "パスワードを送ってしまった場合は、すぐに変更してください",
    "アクセス許可のリクエストをお送りしますので、承認をお願いします",
]


@pytest.mark.parametrize("text", ASKS)
def test_asking_for_a_password_is_caught(text: str) -> None:
    assert asks_for_credentials(text)


@pytest.mark.parametrize("text", NEVER_ASKS)
def test_saying_we_never_ask_passes(text: str) -> None:
    assert not asks_for_credentials(text)


def test_the_policy_replies_pass_in_both_languages() -> None:
    """The seeded saved reply ``password`` (migration 0002) tells customers we never ask."""
    migration = importlib.import_module(
        "supportdesk.migrations.versions.0002_saved_replies_and_reads"
    )
    bodies = {
        locale: body
        for locale, shortcut, _, body in migration.POLICY_REPLIES
        if shortcut == "password"
    }

    assert set(bodies) == {"en", "ja"}
    for body in bodies.values():
        assert not asks_for_credentials(body)


def test_an_ask_inside_a_longer_message_is_caught() -> None:
    text = (
        "Thanks for the details. We will never share your data. "
        "To check the account, please send me your password."
    )
    assert asks_for_credentials(text)
    assert asks_for_credentials(
        "ご連絡ありがとうございます。\n確認のためパスワードを教えてください。"
    )


def test_the_locale_hint_does_not_narrow_the_check() -> None:
    assert asks_for_credentials("パスワードを教えてください", locale="en")
    assert asks_for_credentials("What is your password?", locale="ja")
