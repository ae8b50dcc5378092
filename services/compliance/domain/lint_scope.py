"""Where a match stands in its text: the sentence and clause around it, negation scope, quotation and
the cues that turn a threatening word into a reassurance, a warning or a statement of rights.

Each guard answers one question about one match; a rule lists the guards that may clear it. English
cues read English rules' matches, Chinese cues Chinese ones, so mixed templates work both ways.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Final

from compliance.domain import lint_rules as r


def _en(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SENTENCE_END: Final = re.compile(r"[.!?](?=[\s\"”’)]|$)|[。！？!?\n]")
_CLAUSE_END: Final = re.compile(r"[,;:，；：]|[.!?](?=[\s\"”’)]|$)|[。！？\n]")
_QUOTED: Final = re.compile(r"“[^”\n]{1,200}”|\"[^\"\n]{1,200}\"|「[^」\n]{1,200}」|『[^』\n]{1,200}』")

# Negators, and what ends their scope: a new clause, a contrast, or a fresh subject with a modal.
_NEG_EN: Final = _en(
    r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot|no-?one|refuse[sd]? to|prohibit\w*"
    r"|forbid\w*|bars?|barred|paus\w*|halt\w*|suspend\w*|protect\w* (?:you )?from|prevent\w*|waiv\w*"
    r"|(?:ha(?:ve|s|d)|'ve) (?:now |already |since )?(?:stopped|ceased|ended|withdrawn|cancell?ed|dropped"
    r"|closed|lifted|put (?:\w+ ){0,3}on hold))\b"
    r"|n['’]t\b"
)
_NEG_ZH: Final = re.compile(
    r"不会|不得|不能|不可以?|不要(?!脸)|不允许|不存在|不需要?|不用|不必|不收取?|不产生|不加收|不额外|不涉及|不是|并非|绝不|决不"
    r"|从不|从未|从来不|永不|并未|并不|未曾|没有|无需|无须|无任何|禁止|严禁|切勿|请勿|免收|免除|不向|不对|不透露|不上门|不公开"
    r"|不再|未向|未对|不属于|不代表|不意味着|杜绝|暂停|停止|免除|减免"
)
# A one-character negator right before a Chinese match negates the match's own verb: "不收取…费".
_NEG_ZH_ATTACHED: Final = ("不", "没", "未", "无", "免", "勿")
# A negator that governs paying or answering makes a condition ("if you don't pay"), not a denial.
_CONDITION_EN: Final = _en(
    r"\s*(?:\w+\s+){0,2}?(?:pay|paid|payment|respond|responded|reply|replied|answer|answered|receive|received"
    r"|talk|deal|cooperate|settle|clear|ignore|call us|contact us|get back|get in touch|want|wish|like|cover"
    r"|afford"
    r"|manage|make it)\b"
)
_CONDITION_ZH: Final = re.compile(r"(?:按时|及时|主动)?(?:还|处理|理|接|配合|回复|付|缴|下来|联系我们)")
_RESET_EN: Final = _en(
    r"[.;:!?\n]|\b(?:but|however|unless|otherwise|until|instead|except|yet|although|though|whereas|so|because"
    r"|if|when|then)\b|\b(?:we|you|they|i|he|she|someone|somebody)(?:['’](?:ll|re|d)\b|\s+(?:will|shall|would"
    r"|could|may|might|must|are going|is going|am going)\b(?!\s+(?:not|never)\b|n['’]t))"
)
_RESET_ZH: Final = re.compile(r"[，,。；;！!？?：:\n]|但是?|否则|不然|如果|若|就|则|可是|然而")
_NEG_WINDOW: Final = {"en": 100, "zh": 20}

_WARN: Final = {
    "en": _en(
        r"\b(?:scam\w*|fraudsters?|fraudulent|impersonat\w*|pretend\w* to be|pos(?:e|es|ing) as|claim(?:s|ed"
        r"|ing)?"
        r" to be|phishing|beware|be (?:alert|careful|wary|suspicious)|protect yourself|fake"
        r"|did not come from us"
        r"|not from us|(?:was|is) not us|wasn't us|not sent by us|genuine|spoof\w*|criminals|crooks"
        r"|look like ours"
        r"|bogus|hoax)\b"
    ),
    "zh": re.compile(
        r"诈骗|骗局|冒充|假冒|冒名|冒用|盗用|被盗|谨防|警惕|防骗|反诈|不法分子|自称|声称|上当|防范|甄别|钓鱼|与我司无关|并非我司"
    ),
}
_RIGHTS: Final = {
    "en": _en(
        r"\b(?:you (?:may|can|could|might) (?:also )?(?:have |wish to |want to )?(?:the )?(?:right|complain"
        r"|report"
        r"|dispute|request|seek)|you have (?:the )?rights?|your rights|right to|complain\w*|ombudsman"
        r"|report (?:it|this|them) to|(?:the )?law (?:prohibits|forbids|requires|allows|says)|legal aid"
        r"|free (?:and impartial |impartial )?(?:debt )?advice|CFPB|FTC|consumer financial protection bureau"
        r"|financial conduct authority|entitled|protections? under|you (?:may|can) ask"
        r"|(?:licen[cs]ed|regulated|authori[sz]ed(?: and regulated)?) by)\b"
    ),
    "zh": re.compile(r"有权|权利|权益|投诉|举报|反映|维权|12378|依法享有|合法途径|可向|可以向"),
}
_HEDGE: Final = {
    "en": _en(
        r"\b(?:may|might|could|would|can be|possibly|(?:it is|it's|is it|are) possible|potentially"
        r"|consider\w*"
        r"|only (?:a|the|after))\b"
    ),
    "zh": re.compile(r"可能|或许|也许|有可能|或将"),
}
_IF: Final = {
    "en": _en(r"\b(?:if|in case|should you)\b"),
    "zh": re.compile(r"如果|假如|万一|倘若|若|如"),
}
_PAY: Final = {
    "en": _en(
        r"\b(?:pay|paid|payment|respond|reply|answer|ignor\w*|hear|contact us|call us|get in touch|settle"
        r"|deal|(?<!you )(?<!you've )(?<!you have )(?<!you'd )receiv\w*|cover\w*|clear\w*|resolv\w*|sort\w*"
        r"|necessary|needed|required)"
    ),
    "zh": re.compile(r"还|处理|接|配合|回复|理会|付|缴"),
}
# A subject with a modal after the if-cue starts the main clause: "if you won't talk, I'll call ...".
_MAIN: Final = {
    "en": _en(
        r"\b(?:we|i|they|he|she|our \w+)(?:['’](?:ll|m)\b|\s+(?:will|shall|are going|am going|is going)\b)"
    ),
    "zh": re.compile(r"就|将|便|会"),
}
_ADVICE: Final = {
    "en": _en(
        r"\b(?:please(?! note| be aware| be advised| be informed)|you (?:can|may|should|could"
        r"|might)(?: also)?"
        r"|feel free to|we (?:recommend|advise|suggest|encourage))\b"
    ),
    "zh": re.compile(r"(?<![申邀])请(?!注意|知悉|悉知|于)|您可以?|你可以?|可向|可以向|如遇|建议|拨打"),
}
_MENTION: Final = {
    "en": _en(
        r"\b(?:threat(?:s|en|ens|ened|ening)?|(?:statements?|claims?|talk|words?|phrases?|language|accus\w+"
        r"|mentions?"
        r"|stories|anything) (?:about|of|that|like|such as))\b(?:\s+\S+){0,3}\s*$"
    ),
    "zh": re.compile(r"(?:威胁|恐吓|辱骂|说要|所谓|称要|扬言)[^，。！？\n]{0,6}$"),
}
# A reported question is not a statement: "you asked whether we will tell your employer".
_QUESTION: Final = {
    "en": _en(
        r"\b(?:(?:you|customers|people|many \w+|some \w+) (?:asked|ask|wonder(?:ed)?|worry|worried)(?: us)?"
        r" (?:what|whether|if|how|about|that)|asked (?:us )?(?:what|whether|if))\b"
    ),
    "zh": re.compile(r"(?:询问|问)(?:我们)?(?:是否|会不会|能不能|什么)|是否会|会不会"),
}
_REPORT: Final = {
    "en": _en(
        r"\b(?:say|says|said|saying|claim\w*|told|heard|words?|phrases?|terms?|message|letter|such as|like"
        r"|asked"
        r"|question)\b"
    ),
    "zh": re.compile(r"说|称|所谓|问题|咨询|提到|以|为由|字样|说法|听说|类似|比如|例如|诸如|话术"),
}
_NAMING_BEFORE: Final = {
    "en": _en(
        r"(?:\bnot\b|\bnever\b|n['’]t)\s+(?:\w+\s+){0,2}(?:call|calling|label\w*|name|consider|think of|treat"
        r"|refer to)\s+(?:you|anyone|people|customers|borrowers)\b(?:\s+\w+){0,2}\s*$"
    ),
    "zh": re.compile(
        r"(?:不会|不应|不该|绝不|从不|不)会?(?:称|叫|骂|说|视为|当作)(?:您|你)(?:为|是)?$|(?:不是|并非|不算)$"
    ),
}
_NAMING_INSIDE: Final = _en(r"\b(?:not|never)\b|n['’]t")
_CONSENT: Final = {
    "en": _en(
        r"\b(?:by appointment|(?:make|book|arrange) an appointment|at a time (?:that )?suits you"
        r"|with your (?:agreement|consent|permission)"
        r"|if you (?:would like|prefer|ask|want)|arrange (?:a|the) visit|arranged visit|you asked us to"
        r"|consent form|third-party authority)\b"
    ),
    "zh": re.compile(
        r"预约|事先|征得|经您同意|您同意|您方便的时间|约定的?时间|提前(?:告知|联系|沟通)|应您要求|您要求"
    ),
}
# A short denial right after the sentence answers it: "You asked whether we will call your boss. We will not."
_DENIAL_AFTER: Final = {
    "en": _en(
        r"\s*(?:(?:we|i|they|that|it|this)\s+(?:won't|can't|don't|didn't|wouldn't|isn't|wasn't"
        r"|(?:will|would|do|did|does|shall|can|is|was)(?:\s+not|\s+never))(?![\w'])"
        r"|(?:we|i) (?:have|has) no (?:plans?|intention)|(?:no|never|not at all|absolutely not)\s*[.!,:])"
    ),
    "zh": re.compile(r"\s*(?:我们|我司|本公司)?[^。！？\n]{0,8}?[:：]?\s*(?:不会|绝不会|没有|不是)[。！，]"),
}
_CONTRACT: Final = {
    "en": _en(
        r"\b(?:agreement|contract|terms and conditions|as (?:permitted|allowed|set out)|permitted by"
        r"|allowed by)\b"
    ),
    "zh": re.compile(r"合同|协议|约定"),
}

# An ultimatum asserts what follows even when a modal or an if-clause softens the words: "I'll have no
# choice but to ring your manager and ask whether your wages can be deducted".
_ULTIMATUM: Final = {
    "en": _en(
        r"\b(?:no (?:other )?(?:choice|option|alternative) (?:but|than)|left with no (?:choice|option)"
        r"|(?:force|forces|forcing|forced) (?:us|me) to|leave (?:us|me) no|last chance|final warning)\b"
    ),
    "zh": re.compile(r"别无选择|只能|只好|不得不|最后(?:一次)?(?:机会|通牒|警告)"),
}
# An if-clause whose subject is the collector, under a necessity, announces what it will do: "if we have
# to send someone to your address, ...".
_COLLECTOR_IF: Final = {
    "en": _en(
        r"\s+(?:we|i)(?:['’]re| are| am)?\s+(?:have|has|need|needs|forced|required|obliged|must|end up"
        r"|ever have)"
        r"\b"
    ),
    "zh": re.compile(r"(?:我们|我司|本公司)(?:不得不|需要|必须|只能|被迫)"),
}
# The reader's own words reported back: "you told us", 您上次说 (what the reader said is not an act).
_READER_SAID: Final = {
    "en": _en(
        r"\byou(?:['’]ve| have)? (?:told|tell|said|say|mentioned|let us know|explained|informed|wrote|asked"
        r"|reported)\b"
    ),
    "zh": re.compile(
        r"(?:您|你)(?:上次|之前|此前|刚才|昨天|在来电中|在电话中|来电)?(?:说|提到|提及|反映|告诉|表示|问|询问|咨询)"
    ),
}
# A fee the text itself puts outside the agreement is not cleared by naming the agreement.
_CONTRACT_DENIED: Final = {
    "en": _en(
        r"\b(?:(?:not|n't|never) (?:\w+ ){0,3}(?:in|part of|covered by|allowed by|permitted by|under"
        r"|set out in"
        r"|mentioned in|listed in|included in|written in) (?:your |the |our )?(?:\w+ )?(?:agreement|contract"
        r"|terms)"
        r"|(?:outside|beyond|on top of|in addition to) (?:your |the |our )?(?:\w+ )?(?:agreement|contract"
        r"|terms)"
        r"|(?:agreement|contract|terms)(?: \w+){0,3} (?:doesn't|does not|didn't|did not|won't|will not)"
        r" (?:mention|include|allow|cover|say|list|show))"
    ),
    "zh": re.compile(
        r"(?:合同|协议)(?:里|中|上|内)?(?:虽然|虽|并|都|也)?(?:没|未|无|并未|没有|不)(?:有)?(?:写|约定|规定|载明|提到|列明|包括|包含|注明)"
        r"|(?:不在|超出|超过|除了?)(?:借款)?(?:合同|协议)|(?:合同|协议)(?:之|以)外|非合同"
    ),
}
# Guards an ultimatum overrides.
_SOFTENERS: Final = frozenset({r.HEDGE, r.IF})


class Scope:
    """One template's text with its sentence, clause and quotation boundaries, computed once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        self._clause_ends = [m.end() for m in _CLAUSE_END.finditer(text)]
        self._quotes = [m.span() for m in _QUOTED.finditer(text)]

    def cleared(self, guards: frozenset[str], language: str, start: int, end: int) -> bool:
        """Whether any of ``guards`` clears the match ``text[start:end]`` of a rule in ``language``."""
        if guards & _SOFTENERS and _ULTIMATUM[language].search(self.text, *self.sentence(start)):
            guards = guards - _SOFTENERS
        return any(_GUARDS[g](self, language, start, end) for g in guards)

    def sentence(self, start: int) -> tuple[int, int]:
        return _around(self._sentence_ends, start, len(self.text))

    def clause(self, start: int) -> tuple[int, int]:
        return _around(self._clause_ends, start, len(self.text))

    def negated(self, language: str, start: int, _end: int) -> bool:
        lower = max(self.sentence(start)[0], start - _NEG_WINDOW[language])
        before = self.text[lower:start]
        english = language == "en"
        if not english and before.endswith(_NEG_ZH_ATTACHED):
            return True
        if _DENIAL_AFTER[language].match(self.text, self.sentence(start)[1]):
            return True
        negators = list((_NEG_EN if english else _NEG_ZH).finditer(before))
        for neg in reversed(negators):
            after = before[neg.end() :]
            if _IF[language].search(self.text, self.clause(lower + neg.start())[0], lower + neg.start()):
                continue  # "if you can't pay, ...": the negation is the condition
            if (_CONDITION_EN if english else _CONDITION_ZH).match(after):
                continue
            if not (_RESET_EN if english else _RESET_ZH).search(after):
                return True
        return False

    def warning(self, language: str, start: int, _end: int) -> bool:
        return _WARN[language].search(self.text, *self.sentence(start)) is not None

    def rights(self, language: str, start: int, _end: int) -> bool:
        return _RIGHTS[language].search(self.text, *self.sentence(start)) is not None

    def hedge(self, language: str, start: int, _end: int) -> bool:
        return _HEDGE[language].search(self.text, *self.clause(start)) is not None

    def consent(self, language: str, start: int, _end: int) -> bool:
        return _CONSENT[language].search(self.text, *self.sentence(start)) is not None

    def contract(self, language: str, start: int, _end: int) -> bool:
        sentence = self.sentence(start)
        if _CONTRACT_DENIED[language].search(self.text, *sentence):
            return False
        return _CONTRACT[language].search(self.text, *sentence) is not None

    def hypothetical(self, language: str, start: int, end: int) -> bool:
        """Inside an if-clause, or followed in its sentence by one that is not about paying."""
        lead = self.text[self.clause(start)[0] : start]
        cues = list(_IF[language].finditer(lead))
        if cues:
            cue = cues[-1]
            if _COLLECTOR_IF[language].match(lead, cue.end()):
                return False  # "if we have to send someone ...": the collector's own announced step
            return not (_PAY[language].search(lead, cue.end()) or _MAIN[language].search(lead, cue.end()))
        tail = self.text[end : self.sentence(start)[1]]
        after = _IF[language].search(tail)
        return after is not None and not _PAY[language].search(tail, after.end())

    def advice(self, language: str, start: int, _end: int) -> bool:
        return _ADVICE[language].search(self.text, self.clause(start)[0], start) is not None

    def mention(self, language: str, start: int, _end: int) -> bool:
        s_start, s_end = self.sentence(start)
        if _QUESTION[language].search(self.text, s_start, s_end):
            return True
        c_start = self.clause(start)[0]
        said = [m.end() for m in _READER_SAID[language].finditer(self.text, c_start, start)]
        if said and not _MAIN[language].search(self.text, said[-1], start):
            return True  # "you told us that ...", 您上次说…: the reader's words reported back
        return _MENTION[language].search(self.text[max(s_start, start - 40) : start]) is not None

    def quotation(self, language: str, start: int, end: int) -> bool:
        for q_start, q_end in self._quotes:
            if q_start < start and end < q_end:
                s_start, s_end = self.sentence(start)
                lead = self.text[min(s_start, max(0, q_start - 40)) : q_start]
                report = _REPORT[language]
                return report.search(lead) is not None or report.search(self.text, s_start, s_end) is not None
        return False

    def naming(self, language: str, start: int, end: int) -> bool:
        if language == "en" and _NAMING_INSIDE.search(self.text, start, end):
            return True
        lower = max(self.sentence(start)[0], start - 40)
        return _NAMING_BEFORE[language].search(self.text[lower:start]) is not None


def _around(ends: list[int], position: int, length: int) -> tuple[int, int]:
    """The span between the boundary before ``position`` and the one after it."""
    index = bisect_right(ends, position)
    return (ends[index - 1] if index else 0, ends[index] if index < len(ends) else length)


_GUARDS: Final[dict[str, Callable[[Scope, str, int, int], bool]]] = {
    r.NEG: Scope.negated,
    r.WARN: Scope.warning,
    r.QUOTE: Scope.quotation,
    r.MENTION: Scope.mention,
    r.RIGHTS: Scope.rights,
    r.HEDGE: Scope.hedge,
    r.IF: Scope.hypothetical,
    r.ADVICE: Scope.advice,
    r.NAMING: Scope.naming,
    r.CONTRACT: Scope.contract,
    r.CONSENT: Scope.consent,
}
