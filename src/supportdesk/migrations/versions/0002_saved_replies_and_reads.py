"""saved replies (with the policy replies) and conversation read markers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The support desk's policies, installed with the schema so every installation has them
# in both languages. (locale, shortcut, title, body); the texts are frozen here on
# purpose: a later change of wording is a supervisor's edit, not a migration.
POLICY_REPLIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "en",
        "no-phone",
        "Support is by chat only (no phone or remote desktop)",
        "Thank you for reaching out. Our support is provided by chat only: we do not "
        "offer support by phone, and we do not connect to your computer by remote "
        "desktop or screen sharing.\n\n"
        "Chat keeps a written record of everything we have checked, lets us share links "
        "and screenshots, and lets a technical specialist join this same conversation "
        "when needed, so you never have to explain the issue twice.\n\n"
        "Please continue here in this chat, and we will work through it with you.",
    ),
    (
        "en",
        "password",
        "We never need your password",
        "For your security: our support team will never ask for your password. Please "
        "never share it with anyone, including us, by chat, email or any other channel. "
        "If you have already sent your password somewhere, please change it now.\n\n"
        "If we need to look into your account, our technical support team will send you "
        "a request for temporary access here in the chat. You decide whether to grant "
        "it: the access is limited to what the investigation needs, expires on its own, "
        "and you can revoke it at any time.",
    ),
    (
        "en",
        "describe-problem",
        "How to describe a problem",
        "To help us solve this quickly, please tell us:\n\n"
        "1. Where: the screen or page, and the item involved (for example the name of "
        "the record, report or user).\n"
        "2. What you did: the steps or action just before the problem.\n"
        "3. What you expected to happen.\n"
        "4. What happened instead.\n"
        "5. When it happened (date and time, with your time zone), and whether it "
        "happens every time.\n"
        "6. The exact text of any error message (copying it is best).\n"
        "7. A screenshot, if you can: it often shows what words cannot.\n\n"
        "The more specific the details, the faster we can help. Thank you!",
    ),
    (
        "ja",
        "no-phone",
        "サポートはチャットのみ（電話・リモート操作は不可）",
        "お問い合わせいただきありがとうございます。サポートはこのチャットでのみ承って"
        "おります。お電話でのサポートや、リモートデスクトップ・画面共有によるお客様の"
        "パソコンの遠隔操作は行っておりません。\n\n"
        "チャットでは確認した内容が記録として残り、リンクやスクリーンショットを共有"
        "できます。また、必要に応じて技術担当者が同じ会話のまま対応を引き継ぎますので、"
        "同じ説明を繰り返していただく必要はありません。\n\n"
        "引き続きこちらのチャットでご連絡ください。解決まで一緒に対応いたします。",
    ),
    (
        "ja",
        "password",
        "パスワードをお伺いすることはありません",
        "安全のため、サポートからお客様のパスワードをお伺いすることは一切ありません。"
        "チャットやメールなど、どのような方法でも、パスワードは誰にも（サポート担当者"
        "にも）お伝えにならないでください。すでにどこかへパスワードを送ってしまった"
        "場合は、すぐに変更してください。\n\n"
        "調査のためにアカウントの確認が必要な場合は、テクニカルサポートの担当者から"
        "このチャットで一時的なアクセス許可をお願いします。許可するかどうかはお客様が"
        "お決めいただけます。アクセスは調査に必要な範囲に限られ、期限が来ると自動的に"
        "無効になり、いつでも取り消すことができます。",
    ),
    (
        "ja",
        "describe-problem",
        "問題の伝え方",
        "迅速に解決するため、次の内容をお知らせください。\n\n"
        "1. 場所：問題が起きた画面やページと、対象のデータ（レコード、レポート、"
        "ユーザーの名前など）\n"
        "2. 操作：問題が起きる直前に行った手順や操作\n"
        "3. 期待した結果：本来どうなるはずだったか\n"
        "4. 実際の結果：実際に何が起きたか\n"
        "5. 日時：発生した日時（タイムゾーンも）と、毎回起きるかどうか\n"
        "6. エラーメッセージ：表示された文言そのまま（コピーしていただくのが確実です）\n"
        "7. スクリーンショット：可能であれば添付してください。言葉では伝えにくい状況が"
        "よく分かります\n\n"
        "具体的であるほど、早くお手伝いできます。ご協力ありがとうございます。",
    ),
)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_by", _id(), nullable=True),
        sa.Column("updated_by", _id(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["agents.id"], name=op.f("fk_saved_replies_created_by_agents")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["agents.id"], name=op.f("fk_saved_replies_updated_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
        sa.UniqueConstraint("locale", "shortcut", name=op.f("uq_saved_replies_locale_shortcut")),
    )
    op.create_table(
        "conversation_reads",
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_reads_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reads_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("agent_id", "conversation_id", name=op.f("pk_conversation_reads")),
    )

    replies = sa.table(
        "saved_replies",
        sa.column("shortcut", sa.String),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("locale", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        replies,
        [
            {
                "locale": locale,
                "shortcut": shortcut,
                "title": title,
                "body": body,
                "created_at": now,
                "updated_at": now,
            }
            for locale, shortcut, title, body in POLICY_REPLIES
        ],
    )


def downgrade() -> None:
    op.drop_table("conversation_reads")
    op.drop_table("saved_replies")
