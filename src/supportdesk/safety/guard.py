"""The outbound guard: does an agent's message ask the customer for their password?

Support never needs a customer's password (technical support asks for an access grant
instead), so a message that asks for one is refused before it is stored. The guard
looks for a request (a verb of handing over, or a question, aimed at the password or
the login credentials) and lets the sentence pass when its clause says the opposite:
"we will never ask for your password", 「パスワードは誰にも教えないでください」, "if you
shared your password, change it". It works sentence by sentence, in Japanese and
English, whatever the conversation's language, because agents mix them.
"""

from __future__ import annotations

import re

_EN_SECRET = (
    r"(?:pass(?:word|code|phrase)s?|pass word|pin(?: code| number)?"
    r"|(?:login|sign[- ]in|account) (?:credentials|details|info(?:rmation)?)|credentials)"
    # "the password reset page" is about a page, not the password.
    r"(?!\s*(?:reset|policy|page|field|manager|requirements?|rules|link|settings|screen"
    r"|strength|hint|change|expiry|form|box|prompt|recovery)\b)"
)
_EN_OWNER = (
    r"(?:(?:your|the|ur|this|that)\s+)?"
    r"(?:(?:current|existing|old|new|account|login|admin|user|portal|wifi|email|e-mail"
    r"|sign-in)\s+){0,2}"
    # "your username and password"
    r"(?:(?:username|user name|user id|login id|email|e-mail|id)\s*(?:and|&|/|\+)\s*"
    r"(?:(?:your|the)\s+)?)?"
)
_HAND_OVER = (
    r"(?:send|give|share|tell|provide|post|paste|email|e-mail|dm|message|forward|text"
    r"|disclose|reveal|reply with|respond with|let (?:me|us) know)"
)
_EN_ASKS = [
    # "could you send me your password", "please share your login credentials"
    _HAND_OVER + r"(?:\s+(?:it\s+)?(?:me|us|over|along))?\s+" + _EN_OWNER + _EN_SECRET,
    r"would you mind (?:sending|sharing|giving|telling|providing|posting|typing)\s+"
    + r"(?:(?:me|us)\s+)?"
    + _EN_OWNER
    + _EN_SECRET,
    # typing it is only an ask when it is typed to us: "enter your password here"
    r"(?:enter|type|input|put|write)\s+"
    + _EN_OWNER
    + _EN_SECRET
    + r"\s+(?:here|below|to (?:me|us)|in (?:the|this) (?:chat|conversation|message|reply))",
    # "what is your password"
    r"what(?:'s|’s|\s+is|\s+was)\s+(?:your|the)\s+(?:(?:current|existing|account|login|admin"
    r"|portal)\s+)?" + _EN_SECRET,
    # "I need your password", "we'll need to know your password"
    r"(?:i|we)(?:\s+(?:will|would|'ll|’ll|'d))?\s+(?:need|require|must have|want"
    r"|have to (?:get|have|know))\s+(?:to\s+(?:know|have|get|see|check)\s+)?"
    + _EN_OWNER
    + _EN_SECRET,
    # "can I have your password", "I have to ask for your password"
    r"(?:can|could|may|might)\s+(?:i|we)\s+(?:have|get|know|see|ask for)\s+"
    + _EN_OWNER
    + _EN_SECRET,
    r"ask(?:ing)?\s+(?:you\s+)?for\s+" + _EN_OWNER + _EN_SECRET,
    # "your password, please"
    _EN_SECRET + r"\s*,?\s*please\s*[.!]?\s*$",
]

_JA_SECRET = (
    r"(?:パスワード|ﾊﾟｽﾜｰﾄﾞ|パスコード|暗証番号|(?<![A-Za-z])(?:PW|pw|Pw)(?![A-Za-z])|ＰＷ"
    r"|ログイン情報|認証情報)"
)
_JA_VERB = (
    r"(?:教え|お教え|送|お送り|知らせ|お知らせ|伺|うかが|聞かせ|お聞かせ|共有|記載|記入"
    r"|書い|書き込|貼り付け|貼っ|伝え|お伝え|連絡|提供|開示|確認させ)"
)
_JA_REQUEST = (
    r"(?:ください|下さい|くださ|いただけ|頂け|いただき|頂き|もらえ|もらい|くれ|ほしい|欲しい"
    r"|願い|ますか|ませんか|ますでしょうか|できますか|頂戴|ちょうだい|て(?=[。！？!?\s]|$))"
)
_JA_ASKS = [
    # 「パスワードを教えてください」「現在のパスワードをこちらにお送りいただけますか」
    _JA_SECRET
    + r"[」』）)]?(?:を|も|について|は)[^。！？!?\n、]{0,12}?"
    + _JA_VERB
    + r"[^。！？!?\n、]{0,6}?"
    + _JA_REQUEST,
    # 「パスワードは何ですか」
    _JA_SECRET + r"[」』）)]?(?:は|って)\s*(?:何|なに|なん)",
]

_ASKS = [re.compile(r"\b" + pattern, re.IGNORECASE) for pattern in _EN_ASKS] + [
    re.compile(pattern, re.IGNORECASE) for pattern in _JA_ASKS
]

_SCREEN = re.compile(
    r"(?i:pass|pin|credential|login|sign[- ]in|account|pw)|パスワード|ﾊﾟｽﾜｰﾄﾞ|パスコード"
    r"|暗証番号|ＰＷ|ログイン情報|認証情報"
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|\n+")
_CLAUSE_BREAK = re.compile(r"[、,;；:：]")
# Polite requests that look negative: "couldn't you …", 「教えていただけませんか」.
_POLITE = re.compile(
    r"(?i)\bif you (?:could|can|would|don't mind|do not mind|wouldn't mind)\b"
    r"|\bwhy (?:don't|not) you\b|ませんか|ないでしょうか|ないですか|ないか[？?]|ないかな"
)
_NEGATION = re.compile(
    r"(?i)\b(?:never|not|no|no one|nobody|neither|nor|without|instead|rather than|if"
    r"|whether|unless|avoid)\b|n't|n’t|ない|ません|ず[、。にと]|せず|決して|一切|絶対に"
)


def asks_for_credentials(text: str, locale: str | None = None) -> bool:
    """True when the text asks the reader for their password or login credentials.

    ``locale`` is accepted for callers that know it; both languages are always checked.
    """
    if _SCREEN.search(text) is None:
        return False
    for sentence in _SENTENCES.split(text):
        for pattern in _ASKS:
            for match in pattern.finditer(sentence):
                if not _negated(sentence, match.start(), match.end()):
                    return True
    return False


def _negated(sentence: str, start: int, end: int) -> bool:
    """Whether the clause around the ask says the opposite ("never", 「ない」, "if" …)."""
    breaks_before = [m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, start)]
    after = _CLAUSE_BREAK.search(sentence, end)
    clause = sentence[breaks_before[-1] if breaks_before else 0 : after.start() if after else None]
    return _NEGATION.search(_POLITE.sub(" ", clause)) is not None
