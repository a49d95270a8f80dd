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
    "kb_slug_invalid": {
        "en": "The article's slug must be 1 to 120 lower-case letters, digits or hyphens.",
        "ja": "記事のスラッグは英小文字・数字・ハイフンで1〜120文字にしてください。",
    },
    "kb_locale_invalid": {
        "en": "The article's language must be ja or en.",
        "ja": "記事の言語は ja または en にしてください。",
    },
    "kb_title_invalid": {
        "en": "The article needs a title of at most {max} characters.",
        "ja": "記事のタイトルは1〜{max}文字で入力してください。",
    },
    "kb_body_too_long": {
        "en": "The article's body is longer than {max} characters.",
        "ja": "記事の本文が{max}文字を超えています。",
    },
    "kb_category_invalid": {
        "en": "The article needs a category of at most {max} characters.",
        "ja": "記事のカテゴリは1〜{max}文字で入力してください。",
    },
    "kb_tags_invalid": {
        "en": "An article has at most {max} tags of at most {length} characters each.",
        "ja": "タグは{max}個まで、1つ{length}文字までです。",
    },
    "kb_status_invalid": {
        "en": "The article's status must be draft or published.",
        "ja": "記事の状態は draft（下書き）または published（公開）にしてください。",
    },
    "kb_edit_forbidden": {
        "en": "Only administrators and supervisors edit help articles.",
        "ja": "ヘルプ記事を編集できるのは管理者とスーパーバイザーだけです。",
    },
    "kb_slug_taken": {
        "en": "An article with the slug {slug} already exists in this language.",
        "ja": "スラッグ {slug} の記事はこの言語ですでに存在します。",
    },
    "kb_query_too_long": {
        "en": "The search text is longer than {max} characters.",
        "ja": "検索語が{max}文字を超えています。",
    },
    "kb_too_many_suggestions": {
        "en": "At most {max} suggested articles can be kept on a conversation.",
        "ja": "会話に残せる提案記事は{max}件までです。",
    },
    "triage_text_invalid": {
        "en": "Write the request to check (1 to {max} characters).",
        "ja": "確認する問い合わせ内容を入力してください（1〜{max}文字）。",
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
    # --- attachments: type sniffing and media processing (attachments/sniff.py, media.py) ---
    "attachment_empty": {
        "en": "The file is empty (0 bytes).",
        "ja": "ファイルが空です（0 バイト）。",
    },
    "attachment_type_not_allowed": {
        "en": "Allowed: images (PNG, JPEG, GIF, WebP, HEIC), videos (MP4, WebM, MOV), PDF and plain text files.",
        "ja": "添付できるのは画像（PNG、JPEG、GIF、WebP、HEIC）、動画（MP4、WebM、MOV）、PDF、テキストファイルです。",
    },
    # The reason-specific first sentence of attachment_type_not_allowed (AttachmentRefused).
    "attachment_type_not_allowed.svg": {
        "en": "SVG images are not allowed because they can contain scripts.",
        "ja": "SVG 画像はスクリプトを含められるため添付できません。",
    },
    "attachment_type_not_allowed.html": {
        "en": "HTML files and web pages are not allowed.",
        "ja": "HTML ファイルやウェブページは添付できません。",
    },
    "attachment_type_not_allowed.xml": {
        "en": "XML files are not allowed.",
        "ja": "XML ファイルは添付できません。",
    },
    "attachment_type_not_allowed.script": {
        "en": "Scripts are not allowed ({detected}).",
        "ja": "スクリプトは添付できません（{detected}）。",
    },
    "attachment_type_not_allowed.executable": {
        "en": "Programs are not allowed ({detected}).",
        "ja": "プログラムは添付できません（{detected}）。",
    },
    "attachment_type_not_allowed.archive": {
        "en": "Archives and Office documents are not allowed ({detected}).",
        "ja": "圧縮ファイルや Office 文書は添付できません（{detected}）。",
    },
    "attachment_type_not_allowed.polyglot": {
        "en": "This {detected} file also contains something else ({payload}), so it is refused.",
        "ja": "この {detected} ファイルには別の内容（{payload}）も含まれているため、受け付けられません。",
    },
    "attachment_type_not_allowed.extension_mismatch": {
        "en": "The file's contents ({detected}) do not match the extension of its name ({extension}).",
        "ja": "ファイルの中身（{detected}）が名前の拡張子（{extension}）と一致しません。",
    },
    "attachment_type_not_allowed.pdf_active_content": {
        "en": "PDF files with active content are not allowed ({detected}).",
        "ja": "動的なコンテンツを含む PDF ファイルは添付できません（{detected}）。",
    },
    "attachment_type_not_allowed.unsupported": {
        "en": "{detected} files are not supported.",
        "ja": "{detected} ファイルには対応していません。",
    },
    "attachment_type_not_allowed.unknown": {
        "en": "The file type could not be recognised, and the file is not plain UTF-8 text.",
        "ja": "ファイルの種類を判別できず、UTF-8 のテキストファイルでもありません。",
    },
    "attachment_type_not_allowed.corrupt_image": {
        "en": "The image could not be read ({detected}).",
        "ja": "画像を読み取れませんでした（{detected}）。",
    },
    "attachment_type_not_allowed.unreadable_video": {
        "en": "The video could not be read ({detected}).",
        "ja": "動画を読み取れませんでした（{detected}）。",
    },
    "attachment_image_too_large": {
        "en": "The image is too large: {width}×{height} pixels ({megapixels} megapixels). The limit is {limit} megapixels.",
        "ja": "画像が大きすぎます（{width}×{height} ピクセル、{megapixels} メガピクセル）。上限は {limit} メガピクセルです。",
    },
    "invalid_frame": {
        "en": "The frame could not be understood: {detail}",
        "ja": "フレームを解釈できませんでした: {detail}",
    },
    # --- attachments: uploads, limits, downloads (attachments/) ---
    "attachment_too_large": {
        "en": "The file is too large ({size}): the limit for {kind} attachments is {limit}.",
        "ja": "ファイルが大きすぎます（{size}）。{kind}の添付の上限は {limit} です。",
    },
    "portal_quota_exceeded": {
        "en": "Your portal's attachment storage is full: {used} of {quota} is used, and this file needs {size}.",
        "ja": "ポータルの添付ファイル保存容量が不足しています（{quota} のうち {used} を使用中、このファイルは {size}）。",
    },
    "too_many_attachments": {
        "en": "A message may carry at most {limit} attachments ({count} given).",
        "ja": "1 件のメッセージに添付できるのは {limit} 個までです（{count} 個指定されました）。",
    },
    "attachment_not_linkable": {
        "en": "Attachment {id} cannot go with this message: it must be uploaded by you in this conversation and not be part of another message.",
        "ja": "添付ファイル {id} はこのメッセージに付けられません。この会話であなたがアップロードし、まだ他のメッセージに付けていないものに限ります。",
    },
    "upload_not_multipart": {
        "en": "Send the file as multipart/form-data with a field named file.",
        "ja": "ファイルは file という名前のフィールドを持つ multipart/form-data で送ってください。",
    },
    "upload_malformed": {
        "en": "The upload could not be read: {detail}. Nothing was stored.",
        "ja": "アップロードを読み取れませんでした（{detail}）。何も保存されていません。",
    },
    "upload_incomplete": {
        "en": "The upload ended before the file was complete. Nothing was stored; please send it again.",
        "ja": "ファイルが最後まで届く前にアップロードが終わりました。何も保存されていません。もう一度送ってください。",
    },
    "range_not_satisfiable": {
        "en": "The requested range is outside the file ({size} bytes).",
        "ja": "指定された範囲がファイル（{size} バイト）の外です。",
    },
    "tus_version_unsupported": {
        "en": "This server speaks tus 1.0.0: send the header Tus-Resumable: 1.0.0.",
        "ja": "このサーバーは tus 1.0.0 に対応しています。Tus-Resumable: 1.0.0 ヘッダーを付けてください。",
    },
    "upload_length_invalid": {
        "en": "Send the file's size in bytes as Upload-Length.",
        "ja": "ファイルのサイズ（バイト数）を Upload-Length で送ってください。",
    },
    "upload_metadata_invalid": {
        "en": "Upload-Metadata is not valid (key {key}): each entry is a key, a space and the value in Base64.",
        "ja": "Upload-Metadata が正しくありません（キー {key}）。各項目は「キー 空白 Base64 の値」です。",
    },
    "upload_filename_required": {
        "en": "Upload-Metadata must carry the file's name as filename.",
        "ja": "Upload-Metadata にファイル名（filename）を含めてください。",
    },
    "upload_content_type": {
        "en": "PATCH requests must have Content-Type: application/offset+octet-stream.",
        "ja": "PATCH リクエストには Content-Type: application/offset+octet-stream が必要です。",
    },
    "upload_offset_mismatch": {
        "en": "The upload is at byte {offset}, not {sent}: ask for the offset with HEAD and resume from there.",
        "ja": "アップロードは {offset} バイト目まで届いています（{sent} ではありません）。HEAD で位置を確認し、そこから再開してください。",
    },
    "upload_exceeds_length": {
        "en": "More bytes were sent than the declared Upload-Length ({length} bytes).",
        "ja": "宣言された Upload-Length（{length} バイト）を超えるデータが送られました。",
    },
    "upload_busy": {
        "en": "Another request is writing to this upload right now. Try again when it has finished.",
        "ja": "別のリクエストがこのアップロードに書き込み中です。終わってから再度お試しください。",
    },
    "upload_not_finished": {
        "en": "The upload is not complete yet: {offset} of {length} bytes have arrived.",
        "ja": "アップロードはまだ完了していません（{length} バイト中 {offset} バイト受信済み）。",
    },
    # --- partners, referrals and leads (partners/) ---
    "partner_name_invalid": {
        "en": "The partner needs a name of 1 to {max} characters.",
        "ja": "パートナー名は1〜{max}文字で入力してください。",
    },
    "partner_level_invalid": {
        "en": "The certification level must be one of: {levels}.",
        "ja": "認定レベルは次のいずれかにしてください: {levels}",
    },
    "partner_specialization_invalid": {
        "en": "Give at least one specialisation, each one of: {allowed}.",
        "ja": "専門分野を1つ以上、次の中から指定してください: {allowed}",
    },
    "partner_country_invalid": {
        "en": "Countries must be two-letter ISO codes such as JP or US.",
        "ja": "国は JP や US のような2文字の ISO コードで指定してください。",
    },
    "partner_language_invalid": {
        "en": "Give at least one language, as a two- or three-letter code such as ja or en.",
        "ja": "言語を1つ以上、ja や en のような2〜3文字のコードで指定してください。",
    },
    "partner_url_invalid": {
        "en": "The contact URL must start with http:// or https:// and have at most {max} characters.",
        "ja": "連絡先 URL は http:// または https:// で始まる{max}文字以内の URL にしてください。",
    },
    "partner_email_invalid": {
        "en": "The partner's e-mail address is not a valid address.",
        "ja": "パートナーのメールアドレスが正しくありません。",
    },
    "partner_description_too_long": {
        "en": "Each description may have at most {max} characters.",
        "ja": "説明はそれぞれ{max}文字以内にしてください。",
    },
    "partner_name_taken": {
        "en": "A partner named {name} already exists.",
        "ja": "{name} という名前のパートナーはすでに存在します。",
    },
    "partner_import_conflict": {
        "en": "Another change to the same partners happened at the same time. Nothing was imported; try again.",
        "ja": "同じパートナーへの別の変更が同時に行われました。何も取り込まれていません。もう一度お試しください。",
    },
    "partner_csv_content_type": {
        "en": "Send the CSV file as the request body with Content-Type: text/csv.",
        "ja": "CSV ファイルは Content-Type: text/csv のリクエスト本文として送ってください。",
    },
    "partner_csv_invalid": {
        "en": "The CSV file has {count} problems. Nothing was imported; fix the rows listed and try again.",
        "ja": "CSV ファイルに{count}件の問題があります。何も取り込まれていません。表示された行を修正して再度お試しください。",
    },
    "partner_csv_too_large": {
        "en": "The CSV file is larger than {max} bytes.",
        "ja": "CSV ファイルが{max}バイトを超えています。",
    },
    "partner_csv_encoding": {
        "en": "The CSV file is not UTF-8 text.",
        "ja": "CSV ファイルが UTF-8 のテキストではありません。",
    },
    "partner_csv_malformed": {
        "en": "The file could not be read as CSV.",
        "ja": "ファイルを CSV として読み取れませんでした。",
    },
    "partner_csv_empty": {
        "en": "The CSV file is empty: it needs a header row and at least one partner.",
        "ja": "CSV ファイルが空です。見出し行と1件以上のパートナーが必要です。",
    },
    "partner_csv_unknown_column": {
        "en": "Unknown column: {column}.",
        "ja": "不明な列です: {column}",
    },
    "partner_csv_missing_column": {
        "en": "The required column {column} is missing.",
        "ja": "必須の列 {column} がありません。",
    },
    "partner_csv_duplicate_column": {
        "en": "A column appears twice in the header row.",
        "ja": "見出し行に同じ列が2回あります。",
    },
    "partner_csv_too_many_rows": {
        "en": "The CSV file has more than {max} rows.",
        "ja": "CSV ファイルの行数が{max}行を超えています。",
    },
    "partner_csv_column_count": {
        "en": "This row does not have {expected} cells like the header row.",
        "ja": "この行のセルの数が見出し行の{expected}個と一致しません。",
    },
    "partner_csv_active_invalid": {
        "en": "The active column must be true or false (or empty for true).",
        "ja": "active 列は true または false にしてください（空欄は true）。",
    },
    "partner_csv_duplicate_name": {
        "en": "This partner's name already appears in row {first_row}.",
        "ja": "このパートナー名は{first_row}行目にもあります。",
    },
    "partner_none_match": {
        "en": "No active partner offers this specialisation ({specialization}). Add one in the partner directory first.",
        "ja": "この専門分野（{specialization}）の有効なパートナーがいません。先にパートナー一覧に登録してください。",
    },
    "partner_inactive": {
        "en": "{name} no longer takes requests through us. Please choose another partner.",
        "ja": "{name} は現在、当社経由のご依頼を受け付けていません。別のパートナーをお選びください。",
    },
    "referral_app_unknown": {
        "en": "There is no active marketplace app with the code {app}.",
        "ja": "コード {app} の有効なマーケットプレイスアプリはありません。",
    },
    "lead_partner_not_offered": {
        "en": "This partner was not offered on this card.",
        "ja": "このパートナーはこのカードで紹介されていません。",
    },
    # --- outbound webhooks (webhooks/) ---
    "webhook_url_invalid": {
        "en": "The webhook URL must be an http:// or https:// URL of at most {max} characters, without user name, password or #fragment.",
        "ja": "Webhook の URL は http:// または https:// で始まる{max}文字以内の URL にしてください（ユーザー名・パスワード・#フラグメントは使えません）。",
    },
    "webhook_events_invalid": {
        "en": "Choose at least one event, each one of: {allowed}.",
        "ja": "イベントを1つ以上、次の中から選んでください: {allowed}",
    },
    "webhook_description_too_long": {
        "en": "The description may have at most {max} characters.",
        "ja": "説明は{max}文字以内にしてください。",
    },
    "webhook_target_forbidden": {
        "en": "Webhooks may not be sent to {host}: it resolves to {address}, a private, loopback, link-local or otherwise non-public address. An administrator can allow it with SUPPORTDESK_WEBHOOK_ALLOW.",
        "ja": "{host} には Webhook を送信できません。{address} に解決され、これはプライベート・ループバック・リンクローカルなどの公開されていないアドレスです。管理者は SUPPORTDESK_WEBHOOK_ALLOW で許可できます。",
    },
    "webhook_host_unresolvable": {
        "en": "The host name {host} could not be resolved.",
        "ja": "ホスト名 {host} を名前解決できませんでした。",
    },
    "webhook_secret_unavailable": {
        "en": "Webhook signing secrets cannot be used: set SUPPORTDESK_SIGNING_KEY_SECRET. A secret sealed under a different setting cannot be read; re-create the endpoint.",
        "ja": "Webhook の署名シークレットを利用できません。SUPPORTDESK_SIGNING_KEY_SECRET を設定してください。別の設定で保存されたシークレットは読み取れないため、エンドポイントを作り直してください。",
    },
    "internal_error": {
        "en": "Something went wrong on our side. Please try again.",
        "ja": "サーバー側で問題が発生しました。もう一度お試しください。",
    },
    "service_unavailable": {
        "en": "The service is temporarily unavailable. Please retry shortly.",
        "ja": "サービスが一時的に利用できません。しばらくしてから再度お試しください。",
    },
    "metrics_token_required": {
        "en": "Metrics need the operator's bearer token (SUPPORTDESK_METRICS_TOKEN).",
        "ja": "メトリクスの取得には運用者のベアラートークン（SUPPORTDESK_METRICS_TOKEN）が必要です。",
    },
    "product_role_required": {
        "en": "Only staff with the product role may do this.",
        "ja": "この操作はプロダクト担当のスタッフのみが行えます。",
    },
    "product_bug_tier2_only": {
        "en": "Only technical support (tier 2) files bug reports.",
        "ja": "不具合報告は技術サポート（2次対応）のみが登録できます。",
    },
    "product_title_invalid": {
        "en": "The title must not be empty or longer than {limit} characters.",
        "ja": "件名は空にできず、{limit}文字以内で入力してください。",
    },
    "product_text_invalid": {
        "en": "The text must be at most {limit} characters.",
        "ja": "テキストは{limit}文字以内で入力してください。",
    },
    "product_quote_invalid": {
        "en": "Quote the customer's words (at most {limit} characters).",
        "ja": "お客様の言葉を引用してください（{limit}文字以内）。",
    },
    "product_bug_steps_invalid": {
        "en": "Describe the steps to reproduce (at most {limit} characters).",
        "ja": "再現手順を入力してください（{limit}文字以内）。",
    },
    "product_bug_expected_invalid": {
        "en": "Describe the expected result (at most {limit} characters).",
        "ja": "期待される結果を入力してください（{limit}文字以内）。",
    },
    "product_bug_actual_invalid": {
        "en": "Describe the actual result (at most {limit} characters).",
        "ja": "実際の結果を入力してください（{limit}文字以内）。",
    },
    "product_comment_invalid": {
        "en": "A comment must not be empty or longer than {limit} characters.",
        "ja": "コメントは空にできず、{limit}文字以内で入力してください。",
    },
    "product_token_name_invalid": {
        "en": "Give the token a name of at most {limit} characters.",
        "ja": "トークンには{limit}文字以内の名前を付けてください。",
    },
    "product_topic_state_unknown": {
        "en": "Unknown topic state: {state}.",
        "ja": "不明なトピックの状態です: {state}",
    },
    "product_request_status_unknown": {
        "en": "Unknown request status: {status}.",
        "ja": "不明なリクエストのステータスです: {status}",
    },
    "product_request_kind_unknown": {
        "en": "Unknown request kind: {kind}.",
        "ja": "不明なリクエストの種類です: {kind}",
    },
    "product_complexity_unknown": {
        "en": "Complexity must be S, M or L (not {complexity}).",
        "ja": "複雑さは S、M、L のいずれかです（{complexity} は指定できません）。",
    },
    "product_too_many_attachments": {
        "en": "A bug report may reference at most {limit} attachments.",
        "ja": "不具合報告で参照できる添付ファイルは{limit}件までです。",
    },
    "product_attachment_unknown": {
        "en": "An attachment does not belong to this conversation.",
        "ja": "この会話にない添付ファイルが指定されています。",
    },
    "product_topic_choice": {
        "en": "Choose an existing topic or describe a new one (exactly one).",
        "ja": "既存のトピックを選ぶか、新しいトピックを入力してください（どちらか一方）。",
    },
    "product_topic_transition": {
        "en": "A topic that is {state} cannot become {to}.",
        "ja": "状態が {state} のトピックを {to} にはできません。",
    },
    "product_request_transition": {
        "en": "A request that is {status} cannot become {to}.",
        "ja": "ステータスが {status} のリクエストを {to} にはできません。",
    },
    "product_merge_into_itself": {
        "en": "A topic cannot be merged into itself.",
        "ja": "トピックをそれ自身に統合することはできません。",
    },
    "product_topic_merged": {
        "en": "This topic is merged into another; unmerge it first.",
        "ja": "このトピックは別のトピックに統合されています。先に統合を解除してください。",
    },
    "product_merge_target_merged": {
        "en": "The target topic is itself merged; merge into the topic it belongs to.",
        "ja": "統合先のトピックは別のトピックに統合済みです。統合先の親トピックを指定してください。",
    },
    "product_topic_has_request": {
        "en": "A topic with a development request cannot be merged into another.",
        "ja": "開発リクエストのあるトピックは、他のトピックに統合できません。",
    },
    "product_topic_not_merged": {
        "en": "This topic is not merged.",
        "ja": "このトピックは統合されていません。",
    },
    "integration_token_invalid": {
        "en": "The integration token is missing, unknown or revoked.",
        "ja": "連携トークンがないか、不明か、失効しています。",
    },
}


class _Blank(dict[str, object]):
    """Leaves unknown format fields visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# Words that error messages put into their {fields}, in both languages.
ATTACHMENT_KIND_NAMES: Mapping[str, Mapping[Locale, str]] = {
    "image": {"en": "image", "ja": "画像"},
    "video": {"en": "video", "ja": "動画"},
    "file": {"en": "other file", "ja": "その他のファイル"},
}


def translate(code: str, locale: Locale, params: Mapping[str, object] | None = None) -> str:
    """The message of ``code`` in ``locale``. A field whose value is a ``{"en", "ja"}``
    mapping is a word in both languages and is filled in the message's language."""
    texts = MESSAGES.get(code) or MESSAGES["internal_error"]
    fields = {
        name: value[locale] if isinstance(value, Mapping) and locale in value else value
        for name, value in (params or {}).items()
    }
    return texts[locale].format_map(_Blank(fields))
