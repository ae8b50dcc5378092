"""The lint's vocabulary: categories, the guards that may clear a match, and the shape of a rule.

The rule tables themselves are ``lint_rules_en`` and ``lint_rules_zh``: one row per concept, with
the guards that may clear a match (a sentence that rules a threat out, warns of a scam or states a
right is no threat). English patterns match whole words, case-insensitively, and a space in them
matches any run of whitespace; Chinese patterns match as substrings. A rule names the concept, not a
corpus line: add a synonym to the row it belongs to, and a corpus line for it (see docs/lint.md).
"""

from __future__ import annotations

from typing import Final, NamedTuple

THREAT: Final = "threat_violence"
AUTHORITY: Final = "false_authority"
SHAMING: Final = "disclosure_shaming"
ABUSE: Final = "abuse_insult"
FINANCING: Final = "coercive_financing_fees"
PRETEXT: Final = "deceptive_pretext"
MISSING: Final = "missing_disclosure"

ALL_CATEGORIES: Final[tuple[str, ...]] = (THREAT, AUTHORITY, SHAMING, ABUSE, FINANCING, PRETEXT, MISSING)

# Guards: what may clear a match (lint_scope decides each one from the text around the match).
NEG: Final = "negation"  # "we will not contact your employer", "不会上门"
WARN: Final = "warning"  # the sentence warns of scams or impersonators
QUOTE: Final = "quotation"  # inside quotation marks, reported as someone else's words
MENTION: Final = "mention"  # "threats of arrest", "statements about jail": naming the act, not doing it
RIGHTS: Final = "rights"  # a rights statement or a complaint line: "you may complain to", "有权"
HEDGE: Final = "hedge"  # may / might / could / 可能: a possibility, not a threat of legal action
IF: Final = "hypothetical"  # inside an if-clause: "if you are worried about bailiffs"
ADVICE: Final = "advice"  # the reader is told to go to the police: "please report it", "请报警"
NAMING: Final = "naming"  # an insult ruled out: "we will never call you a deadbeat"
CONTRACT: Final = "contract"  # a charge tied to the agreement or the law
CONSENT: Final = "consent"  # a visit or a third party the borrower asked for: "by appointment", "预约"

# The usual guard sets of the tables.
STATEMENT: Final = frozenset({NEG, WARN, QUOTE, MENTION, IF})
LEGAL: Final = STATEMENT | {RIGHTS, HEDGE}
BODY: Final = LEGAL | {ADVICE}
PRESENCE: Final = STATEMENT | {CONSENT}
INSULT: Final = frozenset({QUOTE, MENTION, NAMING})
FEE: Final = frozenset({NEG, WARN, QUOTE, CONTRACT, IF})
LURE: Final = frozenset({NEG, WARN, QUOTE, MENTION})
INHERENT: Final = frozenset({WARN, QUOTE})


class Rule(NamedTuple):
    rule: str
    category: str
    language: str
    pattern: str
    guards: frozenset[str]
    message: str
    suggestion: str
