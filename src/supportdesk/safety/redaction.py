"""Find secrets in customer text and replace them with typed placeholders.

``redact(text)`` is pure and fast: the patterns are compiled once, there is no I/O, and
each detector runs only when the text contains one of its trigger words (or, for card
numbers, a long run of digits), so an ordinary chat line costs a few microseconds.

Each detector reports spans of the *original* text; overlapping findings are settled by
precedence (a private-key block beats the token inside it, a token beats the
"password:" in front of it), then the text is rebuilt once. Only the secret value is
replaced: "my password is hunter2" becomes "my password is [password removed]", so the
sentence still makes sense to the agent.

What is found:

- passwords stated in natural Japanese and English phrasings (「パスワードは…です」,
  「パスワード：…」, 「PWは…」, 「暗証番号は…」, "my password is …", "password: …",
  "pass: …", "PW=…", "pwd …", "changed my password to …"), with full-width colons and
  spaces; descriptions such as "my password is not working" or 「パスワードは8文字以上」
  are not values;
- card numbers: 13–19 digits, optionally grouped with spaces or dashes, with a known
  issuer prefix and a valid Luhn check digit (``python-stdnum``); numbers inside URLs,
  after a ``+`` (phone numbers) or glued to letters are left alone; also a CVV/CVC
  stated as such;
- well-known token formats: AWS access key ids, GitHub, GitLab, Slack, Stripe, Google
  and OpenAI-style keys, JWTs, and long random values after "API key", "token",
  "secret", "Bearer" …;
- PEM private-key blocks (also when the END line is missing);
- the secret part of inbound-webhook URLs (Slack, Discord, Teams, Zapier) and of
  ``token=``/``secret=``/``sig=``/``key=`` … query parameters; the host stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import luhn

PASSWORD = "password"
CARD_NUMBER = "card_number"
API_KEY = "api_key"
PRIVATE_KEY = "private_key"
WEBHOOK_SECRET = "webhook_secret"

# The order kinds are reported in.
KINDS: tuple[str, ...] = (PASSWORD, CARD_NUMBER, API_KEY, PRIVATE_KEY, WEBHOOK_SECRET)

# One language-neutral form is stored; the widget explains it in the customer's language.
PLACEHOLDERS: dict[str, str] = {
    PASSWORD: "[password removed]",
    CARD_NUMBER: "[card number removed]",
    API_KEY: "[API key removed]",
    PRIVATE_KEY: "[private key removed]",
    WEBHOOK_SECRET: "[webhook secret removed]",
}

# When two findings overlap, the earlier kind here wins (the more specific finding).
_PRECEDENCE: dict[str, int] = {
    PRIVATE_KEY: 0,
    WEBHOOK_SECRET: 1,
    API_KEY: 2,
    CARD_NUMBER: 3,
    PASSWORD: 4,
}


@dataclass(frozen=True, slots=True)
class Redacted:
    """The text with its secrets replaced, and the kinds that were removed (empty when
    nothing was)."""

    text: str
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Finding:
    start: int
    end: int
    kind: str


# --- the quick screens ------------------------------------------------------------

# Each detector runs only when the lower-cased text contains one of its trigger words
# (plain substring tests, far cheaper than a case-insensitive regex alternation), so an
# ordinary chat line costs a few microseconds.
_PASSWORD_TRIGGERS = ("pass", "pw", "pin", "パス", "ﾊﾟｽ", "暗証", "ｐｗ", "ｐｉｎ", "ピン")
_TOKEN_TRIGGERS = (
    "akia", "asia", "abia", "acca", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "xox", "sk_", "rk_", "sk-", "aiza", "eyj",
)  # fmt: skip
_CONTEXT_TRIGGERS = ("key", "token", "secret", "bearer", "キー", "トークン", "シークレット")
_WEBHOOK_TRIGGERS = ("hooks.", "webhook", "discord", "=")
_CVV_TRIGGERS = ("cvv", "cvc", "セキュリティ")
_LONG_NUMBER = re.compile(r"(?:[0-9０-９][ \u3000\-－]?){13}")


def _has(lowered: str, triggers: tuple[str, ...]) -> bool:
    return any(trigger in lowered for trigger in triggers)


# --- URLs --------------------------------------------------------------------------

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'「」『』（）、。]+")

# --- private keys ------------------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    # A block pasted without its END line: the header lines and base64 lines after it.
    r"|(?:[ \t]*\r?\n[ \t]*(?:[A-Za-z][A-Za-z-]*:[^\n]*|[A-Za-z0-9+/=]{8,}))*)",
    re.S,
)

# --- tokens --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{36,251}"  # GitHub (classic, OAuth, user, server, refresh)
    r"|github_pat_[A-Za-z0-9_]{22,251}"  # GitHub fine-grained
    r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|sk-(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}"  # OpenAI-style
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{8,}"  # JWT
    r")(?![A-Za-z0-9_\-])"
)

_SECRET_WORD = (
    r"(?:(?<![A-Za-z])(?i:aws_?secret_?access_?key|secret[ _\-]?access[ _\-]?key"
    r"|api[ _\-]?key|api[ _\-]?token|access[ _\-]?token|auth[ _\-]?token|private[ _\-]?token"
    r"|secret[ _\-]?key|client[ _\-]?secret|secret|token|bearer)"
    r"|API\s?キー|ＡＰＩキー|アクセストークン|トークン|シークレット(?:アクセス)?キー?)"
)
# A long random-looking value (letters and digits both) right after such a word.
_CONTEXT_TOKEN = re.compile(
    _SECRET_WORD
    + r"(?:\s*(?:[:=：＝]|->|→|\bis\b|は|が)\s*|\s+)[\"'「『]?"
    + r"(?=[A-Za-z0-9_\-./+=~]*[0-9])(?=[A-Za-z0-9_\-./+=~]*[A-Za-z])"
    + r"(?P<value>[A-Za-z0-9_\-./+=~]{16,})"
)

# --- webhooks --------------------------------------------------------------------------

_WEBHOOK_PATH = re.compile(
    r"(?i)(?<![A-Za-z0-9.\-])(?:https?://)?(?:"
    r"hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d+/"
    r"|[a-z0-9.\-]*webhook\.office\.com/webhookb2/"
    r"|hooks\.zapier\.com/hooks/catch/"
    r")(?P<value>(?!\[)[^\s?#<>\"'」』）)]+)"
)
_SECRET_PARAM = re.compile(
    r"(?i)[?&;](?:token|secret|sig|signature|key|api[_\-]?key|access[_\-]?token"
    r"|auth[_\-]?token|client[_\-]?secret|webhook[_\-]?secret|x-amz-signature"
    r"|x-amz-security-token|x-amz-credential|x-goog-signature)"
    r"=(?P<value>(?!\[)[^&#\s<>\"'」』）)]{6,})"
)
_PASSWORD_PARAM = re.compile(
    r"(?i)[?&;](?:password|passwd|pwd|pass)=(?P<value>(?!\[)[^&#\s<>\"'」』）)]+)"
)

# --- card numbers ---------------------------------------------------------------------

# Runs of digits with single spaces or dashes between groups, not after a dot or comma
# (decimals, versions), a slash (paths, dates) or a letter. A run that starts with "+" is
# matched whole, so that a phone number ("+81 …") can be skipped as a whole.
_DIGIT_RUN = re.compile(
    r"(?<![0-9０-９A-Za-z+＋.,/_])[+＋]?[0-9０-９]+(?:[ \u3000\-－][0-9０-９]+)*"
    r"(?![0-9０-９A-Za-z_])"
)
_GROUP_SEPARATOR = re.compile(r"[ \u3000\-－]")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_CVV = re.compile(
    r"(?:(?<![A-Za-z])(?i:cvv2?|cvc2?)|セキュリティー?コード)"
    r"(?:\s*(?:[:=：＝]|\bis\b|は)\s*|\s+)(?P<value>[0-9０-９]{3,4})(?![0-9０-９])"
)

# --- passwords --------------------------------------------------------------------------

_PW_WORD = (
    r"(?:(?<![A-Za-z])(?i:pass(?:word|wd|code|phrase)|pass[ \-]word|pwd|pw)(?![A-Za-z])"
    r"|パスワード|ﾊﾟｽﾜｰﾄﾞ|パスコード|パスフレーズ|ＰＷ|ｐｗ|Ｐｗ)"
)
# "password for the admin account is …", "password I use is …"
_PW_FILLER = r"(?:\s+(?i:for|of|on|to|that|i|we)\s+[^\n:：=?!。]{0,40}?)?"
_PW_SEPARATOR = (
    r"(?:\s+(?i:is|was)\b(?:\s*[:：])?|'s(?=\s)|\s*(?:[:=：＝]|->|=>|→|⇒)|\s*(?:は|が|って))\s*"
)
_PW_ADVERB = r"(?:(?i:now|currently|still|just|actually|simply|temporarily|set to)\s+)?"
_PW_VALUE = (
    r"(?:\"(?P<dq>[^\"\n]{1,128})\"|“(?P<cq>[^”\n]{1,128})”|「(?P<jq>[^」\n]{1,128})」"
    r"|『(?P<jq2>[^』\n]{1,128})』|`(?P<bq>[^`\n]{1,128})`|'(?P<sq>[^'\n]{1,128})'"
    r"|(?P<bare>[!-~！-～]{1,128}))"
)
_PW_STATED = re.compile(_PW_WORD + _PW_FILLER + _PW_SEPARATOR + _PW_ADVERB + _PW_VALUE)
_PW_CHANGED_EN = re.compile(
    r"(?i:\b(?:chang|set|reset|updat|switch)\w*\s+"
    r"(?:(?:my|the|our|your|it|its|account|login|admin|new|wifi|wi-fi)\s+){0,3}"
    r"(?:password|passcode|pw|pwd)\s+(?:to|as)(?:\s*[:：])?\s+)" + _PW_VALUE
)
_PW_CHANGED_JA = re.compile(
    _PW_WORD + r"を\s*" + _PW_VALUE + r"\s*(?=に(?:変更|設定|変え|し|更新))"
)
# "pass: …" (only with a colon or equals sign: "pass" alone is an ordinary word)
_PASS_COLON = re.compile(
    r"(?:(?<![A-Za-z])(?i:pass)(?![A-Za-z])|パス(?!ワ|コ|フ|ポ))\s*[:=：＝]\s*" + _PW_VALUE
)
# "pwd Tr0ub4dor&3": no separator at all, so only a value that looks like a password.
_PW_BARE = re.compile(
    r"(?:(?<![A-Za-z])(?i:password|passwd|pwd|pw)(?![A-Za-z])|パスワード|ＰＷ)"
    r"[ \t\u3000]+(?P<bare>[!-~！-～]{6,128})"
)
_PIN = re.compile(
    r"(?:(?<![A-Za-z])(?i:pin)(?:\s*(?:(?i:code|number|no\.?)|コード|番号))?(?![A-Za-z])"
    r"|暗証番号|ＰＩＮ(?:コード)?|ピン(?:コード|番号))"
    r"(?:\s+(?i:is|was)\b(?:\s*[:：])?|\s*(?:[:=：＝]|→|は|が))\s*"
    r"[\"'「]?(?P<bare>[0-9０-９]{4,8})(?![0-9０-９])"
)

# Words that describe a password rather than being one ("my password is not working").
# fmt: off
_NOT_A_PASSWORD = frozenset((
    "a", "about", "accepted", "actually", "again", "all", "already", "also", "always", "an",
    "and", "any", "anything", "appears", "are", "as", "asked", "asking", "at", "auto-generated",
    "autogenerated", "bad", "banned", "been", "being", "blank", "blocked", "both", "broken",
    "but", "by", "can", "can't", "cannot", "case", "case-sensitive", "changed", "changing",
    "complex", "complicated", "contains", "correct", "currently", "default", "definitely",
    "did", "didn't", "different", "disabled", "displayed", "do", "does", "doesn't", "done",
    "empty", "enabled", "encrypted", "every", "everything", "expired", "expires", "expiring",
    "fails", "failing", "field", "fine", "for", "forgotten", "from", "generated", "getting",
    "going", "good", "greyed", "grayed", "had", "has", "hashed", "have", "having", "hello",
    "help", "here", "hi", "hidden", "how", "however", "i", "identical", "ignored", "in",
    "incorrect", "includes", "insecure", "into", "invalid", "is", "isn't", "it", "its", "just",
    "keeps", "kept", "known", "less", "like", "linked", "locked", "long", "lost", "managed",
    "mandatory", "masked", "may", "meant", "might", "mine", "missing", "more", "must", "my",
    "n/a", "necessary", "need", "needed", "needs", "never", "no", "none", "not", "nothing",
    "now", "null", "of", "ok", "okay", "on", "one", "only", "optional", "or", "our", "please",
    "probably", "protected", "really", "rejected", "required", "reset", "right", "rules",
    "safe", "same", "saved", "secure", "seems", "sent", "set", "short", "should", "showing",
    "shown", "similar", "simple", "so", "some", "something", "sometimes", "still", "stored",
    "strong", "stuck", "such", "supposed", "suspended", "synced", "temporarily", "thank",
    "thanks", "that", "the", "their", "there", "this", "to", "too", "two", "unchanged",
    "unfortunately", "unique", "unknown", "updated", "used", "using", "valid", "very",
    "visible", "was", "wasn't", "weak", "what", "whatever", "when", "where", "which", "who",
    "why", "will", "with", "won't", "working", "would", "wrong", "yes", "you", "your", "yours",
))
# fmt: on
_UNIT_WORDS = re.compile(
    r"\s*(?:(?i:characters?|chars?|letters?|digits?|symbols?|numbers?|long|times|attempts?"
    r"|tries|days?|hours?|minutes?|weeks?|months?|years?)\b|文字|桁|回|日|時間|分)"
)
_MASKED = re.compile(r"[*•●・xX#.\-_]+")
# What may follow a bare value that ends in the middle of Japanese text: particles and
# copulas, punctuation, space or the end. 「パスワードは8文字以上」 stops at 文, which is
# not here, so "8" is no password.
_JA_AFTER = re.compile(
    r"$|[\s。、．，」』）)\]】！？!?]|です|でし|だ|と|に|で(?=[すしロろ、\s])|ね|よ|って|という|な[のん]|を"
)
_TRAILING = ".,;:)]}>\"'。、"
_LEADING = "({<\"'"  # not "[": a value starting with it is a placeholder


def redact(text: str) -> Redacted:
    """``text`` with every secret it states replaced by a typed placeholder."""
    findings = _settle(list(_find_all(text))) if text else []
    if not findings:
        return Redacted(text)
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    found = {finding.kind for finding in findings}
    return Redacted("".join(parts), tuple(kind for kind in KINDS if kind in found))


def _settle(findings: list[_Finding]) -> list[_Finding]:
    """Keep the findings that do not overlap a finding of higher precedence, in order."""
    kept: list[_Finding] = []
    for finding in sorted(findings, key=lambda f: (_PRECEDENCE[f.kind], f.start, -f.end)):
        if all(finding.end <= other.start or finding.start >= other.end for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def _find_all(text: str) -> Iterator[_Finding]:
    lowered = text.lower()
    if "-----begin" in lowered:
        for match in _PEM.finditer(text):
            yield _Finding(match.start(), match.end(), PRIVATE_KEY)
    if _has(lowered, _WEBHOOK_TRIGGERS):
        for pattern in (_WEBHOOK_PATH, _SECRET_PARAM):
            for match in pattern.finditer(text):
                yield _Finding(match.start("value"), match.end("value"), WEBHOOK_SECRET)
        for match in _PASSWORD_PARAM.finditer(text):
            yield _Finding(match.start("value"), match.end("value"), PASSWORD)
    if _has(lowered, _TOKEN_TRIGGERS):
        for match in _TOKEN.finditer(text):
            yield _Finding(match.start(), match.end(), API_KEY)
    if _has(lowered, _CONTEXT_TRIGGERS):
        for match in _CONTEXT_TOKEN.finditer(text):
            yield _Finding(match.start("value"), match.end("value"), API_KEY)
    if _LONG_NUMBER.search(text):
        yield from _card_numbers(text)
    if _has(lowered, _CVV_TRIGGERS):
        for match in _CVV.finditer(text):
            yield _Finding(match.start("value"), match.end("value"), CARD_NUMBER)
    if _has(lowered, _PASSWORD_TRIGGERS):
        yield from _passwords(text)


# --- card numbers ---------------------------------------------------------------------


def _card_numbers(text: str) -> Iterator[_Finding]:
    urls: list[tuple[int, int]] | None = None
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        if run[0] in "+＋":
            continue  # an international phone number
        groups = _GROUP_SEPARATOR.split(run)
        if sum(len(group) for group in groups) < 13:
            continue
        if urls is None:
            urls = [url.span() for url in _URL.finditer(text)]
        if any(start <= match.start() < end for start, end in urls):
            continue
        # The longest run of whole groups that makes a card number: "4111 1111 1111 1111
        # 123" (a CVV typed after it) or "No. 2 4111 …" still find the card.
        found = _card_within(groups)
        if found is not None:
            yield _Finding(match.start() + found[0], match.start() + found[1], CARD_NUMBER)


def _card_within(groups: list[str]) -> tuple[int, int] | None:
    """(start, end) in characters of the longest consecutive groups that form a card
    number, or None. Groups are joined by one separator character."""
    offsets = []
    position = 0
    for group in groups:
        offsets.append(position)
        position += len(group) + 1
    for size in range(len(groups), 0, -1):
        for first in range(len(groups) - size + 1):
            chosen = groups[first : first + size]
            digits = "".join(chosen).translate(_FULL_WIDTH_DIGITS)
            if not 13 <= len(digits) <= 19 or not _card_shape(chosen):
                continue
            if _known_issuer(digits) and luhn.is_valid(digits):
                start = offsets[first]
                return start, start + sum(len(group) for group in chosen) + size - 1
    return None


def _card_shape(groups: list[str]) -> bool:
    """Ungrouped, groups of four (the last may be shorter), or Amex-style 4-6-5/4-6-4.
    Phone numbers (3-4-4, 2-4-4 …) and most reference numbers fail here."""
    lengths = [len(group) for group in groups]
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _known_issuer(digits: str) -> bool:
    """Whether the number starts with an issuer prefix used for its length. Order numbers,
    timestamps, JAN barcodes and tracking numbers mostly do not."""
    length = len(digits)
    two, three, four = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":  # Visa (13-digit Visa cards are long gone; JAN codes are 13)
        return length in (16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return length == 16
    if two in (34, 37):  # American Express
        return length == 15
    if 3528 <= four <= 3589:  # JCB
        return 16 <= length <= 19
    if 300 <= three <= 305 or two in (36, 38, 39) or four == 3095:  # Diners Club
        return 14 <= length <= 19
    if four == 6011 or 644 <= three <= 649 or two == 65 or two == 62:  # Discover, UnionPay
        return 16 <= length <= 19
    if 2200 <= four <= 2204:  # Mir
        return 16 <= length <= 19
    if two in (50, 56, 57, 58, 63, 67):  # Maestro
        return 13 <= length <= 19
    return False


# --- passwords ------------------------------------------------------------------------


def _passwords(text: str) -> Iterator[_Finding]:
    for pattern in (_PW_STATED, _PW_CHANGED_EN, _PW_CHANGED_JA, _PASS_COLON):
        for match in pattern.finditer(text):
            span = _password_value(text, match, strict=False)
            if span is not None:
                yield _Finding(*span, PASSWORD)
    for match in _PW_BARE.finditer(text):
        span = _password_value(text, match, strict=True)
        if span is not None:
            yield _Finding(*span, PASSWORD)
    for match in _PIN.finditer(text):
        yield _Finding(match.start("bare"), match.end("bare"), PASSWORD)


def _password_value(text: str, match: re.Match[str], strict: bool) -> tuple[int, int] | None:
    """The span of the stated value, or None when it describes the password instead."""
    quoted = next(
        (name for name in ("dq", "cq", "jq", "jq2", "bq", "sq") if match.groupdict().get(name)),
        None,
    )
    if quoted is not None:
        start, end = match.span(quoted)
        value = text[start:end]
        if not value.strip() or value.lstrip().startswith("["):
            return None
        return (start, end) if not _MASKED.fullmatch(value.strip()) else None
    start, end = match.span("bare")
    if not _JA_AFTER.match(text, end):
        return None  # the ASCII run continues into a Japanese word: 「8文字以上」
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    while start < end and text[start] in _LEADING:
        start += 1
    value = text[start:end]
    if len(value) < 4 or value.startswith("[") or _MASKED.fullmatch(value):
        return None
    if value.lower() in _NOT_A_PASSWORD or "://" in value:
        return None
    if value.isdigit() and _UNIT_WORDS.match(text, end):
        return None  # "12 characters"
    if strict and not _looks_random(value):
        return None
    return start, end


def _looks_random(value: str) -> bool:
    """Letters and digits mixed, as a password is and a word is not."""
    has_letter = any(c.isalpha() for c in value)
    has_digit = any(c.isdigit() for c in value)
    return (
        len(value) >= 6 and has_letter and has_digit and value[0] not in "/~." and "@" not in value
    )
