"""Pure triage decisions: the keyword evidence (cues), the specificity detectors, the
marketplace-app matcher, and the checks on the triage endpoint's input. No I/O.

Every cue and detector is a regular expression over the NFKC-normalised, lower-cased text
that carries its own explanation in English and Japanese, so whatever it contributes to a
result can be shown to the customer and the agent as a reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from supportdesk.core.errors import invalid

CATEGORIES = ("technical_problem", "how_to", "out_of_scope", "marketplace_app", "feature_request")
SUBTYPES = ("customization", "workflow_design", "app_development", "rest_api")
MISSING_ITEMS = (
    "which_object",
    "which_action",
    "expected_vs_actual",
    "when",
    "error_text",
    "screenshot",
)
# The partner specialisation that does what an out-of-scope request asks for.
SPECIALIZATION = {
    "customization": "customization",
    "workflow_design": "workflows",
    "app_development": "app_development",
    "rest_api": "rest_integration",
}
TEXT_MAX = 4000
MAX_INSTALLED_APPS = 100

CATEGORY_NAMES = {
    "technical_problem": ("a technical problem", "技術的な問題"),
    "how_to": ("a how-to question", "使い方の質問"),
    "out_of_scope": ("work outside support's scope", "サポート対象外の作業依頼"),
    "marketplace_app": ("a marketplace app", "マーケットプレイスのアプリ"),
    "feature_request": ("a feature request", "機能の要望"),
}
SUBTYPE_NAMES = {
    "customization": ("account customisation", "アカウントのカスタマイズ"),
    "workflow_design": ("designing a workflow", "ワークフローの設計"),
    "app_development": ("app development", "アプリ開発"),
    "rest_api": ("REST API integration", "REST API連携"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    en: str
    ja: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "ja": self.ja}


@dataclass(frozen=True, slots=True)
class Cue:
    """Keyword evidence for a category (and, for out-of-scope work, a subtype)."""

    category: str
    subtype: str | None
    weight: float
    pattern: re.Pattern[str]
    en: str  # what the matched words show; "{words}" is filled with the match
    ja: str


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


CUES: tuple[Cue, ...] = (
    Cue(
        "technical_problem",
        None,
        1.5,
        _re(
            r"動かな|動きません|作動し(?:な|ま)|動作し(?:な|ませ)|エラー|不具合|バグ|おかし|変です"
            r"|できません|できない|されません|されない|反映され|消え|止ま|固ま|フリーズ|失敗|壊れ"
            r"|重くて|開けな|開きません|届か|ずれ|調子が悪|うまくいか|使えな|だめ|ダメ|真っ白"
            r"|doesn'?t work|does not work|not working|stopped working|isn'?t working|broken"
            r"|\berror|\bbug|\bfail|crash|freez|\bwon'?t\b|disappear|\bwrong\b|\bissues?\b"
            r"|\bproblems?\b|messed up|\bstuck\b|greyed out|\bslow\b|acting weird|something'?s off"
            r"|can'?t (?:get|use)|\bnot (?:being )?\w+ed\b|doesn'?t (?:load|move|see|show)"
        ),
        "Describes something that does not work ({words}).",
        "うまく動かないことを表す表現があります（{words}）。",
    ),
    Cue(
        "how_to",
        None,
        1.5,
        _re(
            r"どうすれば|どうやって|どうしたら|方法|やり方|手順|使い方|どこ(?:から|で|を)"
            r"|には[?？]|できますか|ありますか|ございますか|教えて|知りたい|ご教示"
            r"|^\s*(?:how|where|is there|is it possible|can i)\b|\bhow (?:do|can|to|does|should)\b"
            r"|\bwhere (?:do|can|is)\b|is it possible|is there a (?:way|page|setting|chart)"
            r"|what does .{1,40} do|what'?s the (?:best )?way|point me to"
        ),
        "Asks how to do something ({words}).",
        "やり方を尋ねる表現があります（{words}）。",
    ),
    Cue(
        "feature_request",
        None,
        2.0,
        _re(
            r"ようにして(?:ほしい|ください|いただけ|もらえ)|ようになると|ようになりますか"
            r"|機能(?:が|を)?(?:欲しい|ほしい|追加)|機能があ(?:ると|れば)|欲しいです|要望|希望します"
            r"|あると(?:嬉しい|助かる|便利)|と助かります|あればいいのに|たら(?:便利|最高|嬉しい)"
            r"|予定はありますか|ご検討|(?:増やして|つけて|付けて|対応して|追加して)ほしい"
            r"|feature request|would (?:love|be (?:great|nice|useful|helpful|a big))"
            r"|it'?d be (?:nice|great)|\bwish\b|suggestion|please (?:add|support|allow)"
            r"|\ballow\b|roadmap|any plans|will you (?:ever )?support|enhancement|great addition"
            r"|like to request|^request:|please consider|would help a lot|\blet us\b"
            r"|could you implement|can you add|would be nice"
        ),
        "Asks for something the product does not do yet ({words}).",
        "製品にまだない機能を求める表現があります（{words}）。",
    ),
    Cue(
        "out_of_scope",
        None,
        1.0,
        _re(
            r"代わりに|代行|お任せ|任せ|よしなに|いい感じに|そちらで|御社で"
            r"|on our behalf|\bfor us\b|for (?:our|my) (?:business|company|team)"
            r"|can (?:your|the) (?:team|support|developers)|could your (?:team|developers)"
        ),
        "Asks support to do the work for the customer ({words}).",
        "作業そのものをサポートに依頼しています（{words}）。",
    ),
    Cue(
        "out_of_scope",
        "customization",
        2.0,
        _re(
            r"カスタマイズ(?:して|を)|に合わせて.{0,20}(?:設定|構成|作り|カスタマイズ)|当社用|弊社用"
            r"|作り込|初期設定|導入支援|設定代行|(?:画面|権限).{0,10}設定しておいて"
            r"|customi[sz]e (?:our|the) |\btailor|to (?:match|fit) (?:our|how)|match how"
            r"|do the (?:initial )?setup|set up (?:our|all)|configure (?:our|the whole)"
            r"|redesign our|recreate our|the way you think"
        ),
        "Asks to configure or customise the account for them ({words}).",
        "アカウントの設定やカスタマイズを依頼しています（{words}）。",
    ),
    Cue(
        "out_of_scope",
        "workflow_design",
        2.5,
        _re(
            r"(?:ワークフロー|フロー|承認ルート)[^。]{0,30}"
            r"(?:作って|作成して|設計|構築|組んで|作り直|用意して|用意していただ|作っていただ)"
            r"|(?:一から|丸ごと|一式|一通り)[^。]{0,20}(?:ワークフロー|フロー)"
            r"|(?:build|design|create|set up|rebuild|convert|automate)\b[^.?!]{0,50}"
            r"(?:workflows?|approval (?:flow|process)|\bflow\b|approval processes)"
            r"|workflows?[^.?!]{0,30}(?:from scratch|end to end|for us|for my company)"
        ),
        "Asks support to design or build a whole workflow ({words}).",
        "ワークフロー全体の設計や構築を依頼しています（{words}）。",
    ),
    Cue(
        "out_of_scope",
        "app_development",
        2.5,
        _re(
            r"開発|コード|プログラ|スクリプト|javascript|プラグイン|拡張機能|ウィジェット"
            r"|専用アプリ|アプリを(?:作|開発)|\bdevelop|(?:write|writing|sample|source|my) code"
            r"|code it|\bjs\b|\bscript\b|plugin|extension|\bprogram\b|bespoke"
            r"|custom(?:-built)? (?:app|widget|page|button)|mobile app|\bdevelopers?\b"
        ),
        "Asks for software development or code ({words}).",
        "ソフトウェアの開発やコードを求めています（{words}）。",
    ),
    Cue(
        "out_of_scope",
        "rest_api",
        2.5,
        _re(
            r"(?<![a-z])(?:rest\s*)?api(?![a-z])|webhook|endpoint|エンドポイント|oauth|\bcurl\b"
            r"|アクセストークン|access token|paginat"
        ),
        "Is about building an integration with the REST API ({words}).",
        "REST APIでの連携づくりに関する内容です（{words}）。",
    ),
    Cue(
        "marketplace_app",
        None,
        2.5,
        _re(
            r"marketplace|マーケットプレイス|アドオン|add-?on\b|app store|third-party app"
            r"|サードパーティ|外部ベンダー|追加アプリ|インストールしたアプリ|入れたアプリ"
            r"|uninstall|アンインストール|installed (?:from|an? app)"
        ),
        "Mentions an app from the marketplace ({words}).",
        "マーケットプレイスのアプリに触れています（{words}）。",
    ),
)


def normalise(text: str) -> str:
    """NFKC (full-width ASCII becomes ASCII, half-width kana become full-width), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True, slots=True)
class CueHit:
    cue: Cue
    words: tuple[str, ...]

    def reason(self) -> Reason:
        quoted_en = ", ".join(f'"{w}"' for w in self.words)
        quoted_ja = "、".join(f"「{w}」" for w in self.words)
        return Reason(self.cue.en.format(words=quoted_en), self.cue.ja.format(words=quoted_ja))


# A Japanese match is shown up to the end of its inflection (作動しま -> 作動しません).
_KANA_TAIL = re.compile(r"[\u3041-\u3096]{0,6}")


def _shown(text: str, match: re.Match[str]) -> str:
    word = match.group(0)
    if word and ("\u3041" <= word[-1] <= "\u30ff" or "\u4e00" <= word[-1] <= "\u9fff"):
        tail = _KANA_TAIL.match(text, match.end())
        word += tail.group(0) if tail else ""
    return word.strip()


def _first_words(pattern: re.Pattern[str], text: str, limit: int) -> tuple[str, ...]:
    """Up to ``limit`` distinct matched words (stops early: a long text has many)."""
    words: dict[str, None] = {}
    for match in pattern.finditer(text):
        word = _shown(text, match)
        if word:
            words[word] = None
            if len(words) == limit:
                break
    return tuple(words)


def cue_hits(text: str) -> list[CueHit]:
    """Every cue that fires on the (normalised) text, with up to three matched words."""
    hits = []
    for cue in CUES:
        words = _first_words(cue.pattern, text, 3)
        if words:
            hits.append(CueHit(cue, words))
    return hits


# --- How specific a problem report is -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detail:
    """One thing a good problem report says, and how we notice that it says it."""

    item: str  # one of MISSING_ITEMS
    pattern: re.Pattern[str]
    en: str
    ja: str


DETAILS: tuple[Detail, ...] = (
    Detail(
        "which_object",
        _re(
            r"「[^」]{1,60}」|『[^』]{1,60}』|\"[^\"]{1,60}\"|“[^”]{1,60}”|#\d+|\bid\s*\d+|no\.\s*\d+"
            r"|[\w.+-]+@[\w-]+\.[\w.]+|(?:[一-龥]{2,}|[ァ-ヶー]{3,}[一-龥]*)ワークフロー"
            r"|フィールド|欄|項目|ステップ|ステージ|マイルストーン|フォルダ|ビュー|フィルター|列|投票"
            r"|\b(?:field|column|step|stage|milestone|folder|view|filter|row|vote|board|card)s?\b"
        ),
        "Says which item is affected ({words}).",
        "どの対象かが書かれています（{words}）。",
    ),
    Detail(
        "which_action",
        _re(
            r"押す|押し|押せ|クリック|保存|送信|ドラッグ|アップロード|インポート|エクスポート"
            r"|並び替え|検索|差し戻|変更|移動|入力|作成|一括|切り替え|発行|カウント|集計|計算"
            r"|実行|アクション|ボタン|承認し|添付しよう|ずらす"
            r"|\b(?:click|press|sav(?:e|ing)|submit|drag|upload|import|export|sort|search"
            r"|approv(?:e|es|ed|ing)|reject|edit|chang(?:e|ing)|mov(?:e|ing)|add(?:ing)?"
            r"|delet(?:e|ing)|enter|creat(?:e|ing)|bulk|switch|count|calculat\w*|trigger"
            r"|action|export)\w*"
        ),
        "Says what was being done ({words}).",
        "何の操作をしたかが書かれています（{words}）。",
    ),
    Detail(
        "expected_vs_actual",
        _re(
            r"はず|本来|期待|ではなく|なのに|のに|まま|しか|だけ|ずれ|戻って|てしまい|てしまう"
            r"|想定|見えていました|できていました|なしなら|なしだと|では表示"
            r"|expect|\bshould\b|supposed to|instead|rather than|\bstill\b|\bonly\b|\bstays?\b"
            r"|\bbut\b|although|even though|\bremains?\b|fine\b"
        ),
        "Says what was expected and what happened instead ({words}).",
        "期待した結果と実際の結果が書かれています（{words}）。",
    ),
    Detail(
        "when",
        _re(
            r"昨日|今日|今朝|本日|先週|先月|先日|今週|今月|毎回|毎朝|毎晩|毎日|以降|アップデート後"
            r"|更新後|午前|午後|夕方|\d+時|\d+月\d+日|\d+日(?:から|以降|まで)|ごろから|頃から"
            r"|\b(?:since|yesterday|today|tonight|this (?:morning|week|month)"
            r"|last (?:week|night|month|friday|monday|quarter)"
            r"|every (?:time|night|day|morning)|whenever|started|began"
            r"|after (?:the|yesterday|we|i|an?|our)|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
            r"|\d{1,2}(?::\d\d|\s?[ap]m)|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w* \d)"
        ),
        "Says when it happens ({words}).",
        "いつ起きるかが書かれています（{words}）。",
    ),
    Detail(
        "error_text",
        _re(
            r"「[^」]{2,80}」(?:という|と)(?:エラー|メッセージ)?(?:が)?(?:表示|出|な)"
            r"|エラー[:：]?\s*「|(?:エラー|メッセージ)は「|\be-?\d{2,5}\b|\((?:code )?[45]\d\d\)"
            r"|\b(?:error|code|status)\s*:?\s*[45]\d\d\b|\b[45]\d\d (?:internal|error|not)"
            r"|(?:error|message|says|saying|fails with|failed with|gives|tooltip says)"
            r"[^.\n]{0,30}[\"“'][^\"”']{2,}"
        ),
        "Quotes the error message ({words}).",
        "エラーメッセージが書かれています（{words}）。",
    ),
    Detail(
        "screenshot",
        _re(
            r"スクリーンショット|スクショ|キャプチャ|画面録画|添付(?:します|しました|いたします|画像"
            r"|の(?:とおり|通り)|$|。)|画面を添付|を添付"
            r"|screen ?shot|screen recording|screen capture|\battached\b|attaching (?:a|the)"
        ),
        "Includes a screenshot or attachment ({words}).",
        "スクリーンショットや添付があります（{words}）。",
    ),
)
MISSING_TEXT = {
    "which_object": (
        "which workflow, deal, app or page it is",
        "どのワークフロー・案件・アプリ・画面か",
    ),
    "which_action": ("which action or step you took", "どの操作・アクションを行ったか"),
    "expected_vs_actual": (
        "what you expected and what happened instead",
        "期待した結果と実際に起きたこと",
    ),
    "when": ("when it happens or since when", "いつから・いつ起きるか"),
    "error_text": ("the exact error message", "表示されたエラーメッセージ"),
    "screenshot": (
        "a screenshot of the settings or the error",
        "設定画面やエラーのスクリーンショット",
    ),
}
# A problem report that says at least this many of the details is specific enough.
SPECIFIC_DETAILS = 2


@dataclass(frozen=True, slots=True)
class Specificity:
    present: dict[str, tuple[str, ...]]  # item -> the words that show it
    missing: list[str]

    @property
    def specific(self) -> bool:
        return len(self.present) >= SPECIFIC_DETAILS

    def reasons(self) -> list[Reason]:
        reasons = []
        for detail in DETAILS:
            words = self.present.get(detail.item)
            if words:
                en = ", ".join(f'"{w}"' for w in words)
                ja = "、".join(f"「{w}」" for w in words)
                reasons.append(Reason(detail.en.format(words=en), detail.ja.format(words=ja)))
        if self.missing:
            en = "; ".join(MISSING_TEXT[item][0] for item in self.missing)
            ja = "、".join(MISSING_TEXT[item][1] for item in self.missing)
            reasons.append(Reason(f"Does not say: {en}.", f"書かれていないこと: {ja}。"))
        return reasons


def specificity(text: str) -> Specificity:
    """Which of the six details a problem report gives (``text`` normalised)."""
    present: dict[str, tuple[str, ...]] = {}
    for detail in DETAILS:
        words = _first_words(detail.pattern, text, 2)
        if words:
            present[detail.item] = tuple(w[:40] for w in words)
    return Specificity(present, [item for item in MISSING_ITEMS if item not in present])


# --- Marketplace apps -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppEntry:
    code: str
    name_en: str
    name_ja: str
    aliases: tuple[str, ...]
    vendor: str
    support_url: str
    support_email: str
    support_tab_url: str

    def names(self) -> tuple[str, ...]:
        return (self.name_en, self.name_ja, *self.aliases)


@dataclass(frozen=True, slots=True)
class AppMatch:
    app: AppEntry
    name: str  # the name or alias that matched
    score: float
    installed: bool


_SQUEEZE = re.compile(r"[\s\-_・.·+]+")
# Names this short must appear exactly: fuzzy matching would find スマホ in スマフォ.
EXACT_BELOW = 5
INSTALLED_THRESHOLD = 86.0
CATALOGUE_THRESHOLD = 90.0


def _squeeze(text: str) -> str:
    return _SQUEEZE.sub("", normalise(text))


def _score(name: str, squeezed_text: str) -> float:
    key = _squeeze(name)
    if not key:
        return 0.0
    if key in squeezed_text:
        return 100.0
    if len(key) < EXACT_BELOW:
        return 0.0
    return float(fuzz.partial_ratio(key, squeezed_text))


def match_app(
    text: str, installed: Sequence[str], catalogue: Sequence[AppEntry]
) -> AppMatch | None:
    """The marketplace app the text names, fuzzy over names and aliases (rapidfuzz).

    The portal's installed apps are tried first and with a slightly lower bar (a typo in
    the name of an app the customer has is far likelier than a mention of one they do
    not have); then the whole catalogue."""
    squeezed = _squeeze(text)
    installed_codes = set(installed)
    best: AppMatch | None = None
    for is_installed, threshold in ((True, INSTALLED_THRESHOLD), (False, CATALOGUE_THRESHOLD)):
        for app in catalogue:
            if (app.code in installed_codes) is not is_installed:
                continue
            for name in app.names():
                score = _score(name, squeezed)
                if score >= threshold and (best is None or score > best.score):
                    best = AppMatch(app, name, score, is_installed)
        if best is not None:
            return best
    return None


def check_text(text: str) -> str:
    stripped = text.strip()
    if not stripped or len(stripped) > TEXT_MAX:
        raise invalid("triage_text_invalid", max=TEXT_MAX)
    return stripped


def check_installed_apps(codes: Sequence[str]) -> list[str]:
    """The ``apps`` claim: distinct app codes, at most ``MAX_INSTALLED_APPS``."""
    return list(dict.fromkeys(code.strip() for code in codes if code.strip()))[:MAX_INSTALLED_APPS]
