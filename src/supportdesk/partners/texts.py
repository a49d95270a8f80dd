"""Texts that leave the service as data in Japanese and English: the policy sentence on
referral cards, the confirmation in the chat, the lead e-mail and the report's CSV
headers. (Error texts live in core/i18n.py; page texts in the .po catalogues.)"""

from __future__ import annotations

from collections.abc import Mapping

Bilingual = Mapping[str, str]

PARTNER_POLICY: Bilingual = {
    "en": (
        "Our support team helps with specific questions about features and with problems "
        "you run into. Customising your account, designing or building whole workflows, "
        "developing apps and teaching REST API integration are outside what support does. "
        "Certified partners offer exactly these services; here are partners who fit your "
        "request."
    ),
    "ja": (
        "サポートチームは、機能についての具体的なご質問や発生している問題への対応をお手伝いします。"
        "アカウントのカスタマイズ、ワークフロー全体の設計・構築、アプリの開発、REST API 連携の"
        "ご指導はサポートの対象外です。これらのサービスは認定パートナーが提供しています。"
        "ご要望に合うパートナーをご紹介します。"
    ),
}

VENDOR_POLICY: Bilingual = {
    "en": (
        "{app} is a marketplace app made and supported by {vendor}, not by us. For problems "
        "with the app, please contact its developer, who knows it best: their support "
        "contacts are below."
    ),
    "ja": (
        "{app} は {vendor} が開発・サポートしているマーケットプレイスのアプリで、当社の製品では"
        "ありません。アプリの不具合については、アプリを最もよく知る開発元にお問い合わせください。"
        "開発元のサポート窓口は以下のとおりです。"
    ),
}

LEAD_CONFIRMATION: Bilingual = {
    "en": (
        "We have sent your request to {partner}. They will contact you directly; you can "
        "keep using this chat for questions about the product."
    ),
    "ja": (
        "{partner} にご依頼を送りました。パートナーから直接ご連絡があります。製品についての"
        "ご質問は、引き続きこのチャットでどうぞ。"
    ),
}

LEAD_MAIL_SUBJECT: Bilingual = {
    "en": "New enquiry from {customer} ({portal}) via support",
    "ja": "サポート経由のお問い合わせ：{customer} 様（{portal}）",
}

LEAD_MAIL_BODY: Bilingual = {
    "en": (
        "Hello {partner},\n\n"
        "A customer asked our support to put them in touch with you.\n\n"
        "Customer: {customer}\n"
        "E-mail: {email}\n"
        "Portal: {portal}\n"
        "Language: {language}\n"
        "Requested service: {specialization}\n\n"
        "What they asked support:\n"
        "----------------------------------------\n"
        "{summary}\n"
        "----------------------------------------\n\n"
        "Please contact the customer directly. Reference: lead {lead_id}.\n"
        "This message was sent automatically by the support desk.\n"
    ),
    "ja": (
        "{partner} ご担当者様\n\n"
        "お客様から、貴社をご紹介してほしいとのご依頼がサポートにありました。\n\n"
        "お客様：{customer} 様\n"
        "メールアドレス：{email}\n"
        "ポータル：{portal}\n"
        "言語：{language}\n"
        "ご希望のサービス：{specialization}\n\n"
        "サポートへのお問い合わせ内容：\n"
        "----------------------------------------\n"
        "{summary}\n"
        "----------------------------------------\n\n"
        "お客様へ直接ご連絡をお願いいたします。参照番号：リード {lead_id}\n"
        "このメールはサポートデスクから自動送信されています。\n"
    ),
}

NO_EMAIL: Bilingual = {"en": "(not given; reply through the portal)", "ja": "（未登録）"}

LANGUAGE_NAMES: Mapping[str, Bilingual] = {
    "en": {"en": "English", "ja": "英語"},
    "ja": {"en": "Japanese", "ja": "日本語"},
}

SPECIALIZATION_NAMES: Mapping[str, Bilingual] = {
    "implementation": {"en": "Implementation", "ja": "導入支援"},
    "customization": {"en": "Customisation", "ja": "カスタマイズ"},
    "workflows": {"en": "Workflow design", "ja": "ワークフロー設計"},
    "app_development": {"en": "App development", "ja": "アプリ開発"},
    "rest_integration": {"en": "REST API integration", "ja": "REST API 連携"},
    "training": {"en": "Training", "ja": "トレーニング"},
}

REPORT_CSV_HEADER: Mapping[str, tuple[str, ...]] = {
    "en": ("Partner ID", "Partner", "Level", "Active", "Referrals", "Leads", "Lead rate"),
    "ja": ("パートナーID", "パートナー", "レベル", "有効", "紹介数", "リード数", "リード率"),
}

YES_NO: Mapping[str, tuple[str, str]] = {"en": ("yes", "no"), "ja": ("はい", "いいえ")}


def pick(texts: Bilingual, locale: str) -> str:
    return texts["ja"] if locale == "ja" else texts["en"]
