"""English content rules: whole words, case-insensitive, a space matches any run of whitespace."""

from __future__ import annotations

from typing import Final

from compliance.domain.lint_rules import (
    ABUSE,
    ADVICE,
    AUTHORITY,
    BODY,
    CONSENT,
    FEE,
    FINANCING,
    HEDGE,
    IF,
    INHERENT,
    INSULT,
    LEGAL,
    LURE,
    NEG,
    PRESENCE,
    PRETEXT,
    RIGHTS,
    SHAMING,
    STATEMENT,
    THREAT,
    Rule,
)

_PLACE: Final = (
    r"(?:house|home|door|doorstep|residence|property|premises|flat|apartment|address|driveway|building|street"
    r"|office|work|workplace|job|school|company|entrance|gate|lobby|car park|parking lot)"
)
_KIN: Final = (
    r"(?:employers?(?:'s)?|boss(?:es)?|managers?|supervisors?|team leader|HR|human resources|payroll"
    r"|workplace"
    r"|colleagues?|co-?workers?|family|family members?|relatives?|parents?|mum|mom|mother|dad|father|sister"
    r"|brother|son|daughter|cousins?|aunt|uncle|grand(?:parents?|mother|father)|in-laws|spouse|wife|husband"
    r"|partner|girlfriend|boyfriend|fianc[ée]e?|room-?mates?|flatmates?|housemates?|neighbou?rs?|friends?"
    r"|(?:emergency )?contacts?|references|landlord|kids|children|church|pastor|community"
    r"|residents'? association|line managers?|household|workmates?|teachers?|business partners?|clients"
    r"|tenants|village \w+|elders"
    r"|next of kin)"
)
_DIRECT: Final = (
    r"(?:tell|telling|told|inform\w*|notif\w+|contact|contacting|contacted|call|calling|called|ring|ringing"
    r"|rang"
    r"|phone|phoning|phoned|e-?mail\w*|text|texting|texted|write to|writing to|written to|wrote to|visit"
    r"|visiting"
    r"|visited|speak (?:to|with)|speaking (?:to|with)|spoken? (?:to|with)|spoke (?:to|with)|talk(?:ed"
    r"|ing)? (?:to|with)"
    r"|reach(?:ed|ing)?(?: out to)?|have a word with|had a word with|said to|(?:been|get|got"
    r"|getting) in touch with"
    r"|le(?:ft|ave) (?:a )?messages? (?:with|for)|discuss\w*(?: \w+){0,3} with|shar(?:e|ed"
    r"|ing)(?: \w+){0,4} with"
    r"|alert\w*|warn\w*|updat\w*|let|letting|approach\w*|involv\w*|cc'?d|cc'?ing|bcc'?d|copied|copying"
    r"|loop(?:ed|ing)? in|messag\w*|dm'?d)"
)
# Who turns up: the collector's people, however they are called.
_STAFF: Final = (
    r"(?:representatives?|reps?|agents?|officers?|collectors?|staff|team|colleagues?|members? of (?:our "
    r"|the )?"
    r"(?:staff|team)|investigators?|field \w+|someone|somebody|anyone|people|person|guys?|men|deput(?:y|ies))"
)
# A run of filler words that is not a denial ("your wages cannot be taken" is not a threat).
_GAP: Final = r"(?: (?!(?:not|never|cannot|no|nobody|none)\b)\w+)"
# Pay and what it is paid into.
_PAY: Final = (
    r"(?:pay|paycheck|paycheque|payslip|wages?|salary|earnings|income|benefits|pension|tax refund"
    r"|bank account"
    r"|savings)"
)
_TO: Final = (
    r"(?:mail\w*|send|sent|sending|write|wrote|written|cop(?:y|ied)|pass\w*|forward\w*|disclos\w*|explain\w*"
    r"|report\w*|show\w*|give|given|hand\w*|deliver\w*|post\w*|circulat\w*)"
)

# fmt: off
EN_RULES: Final[tuple[Rule, ...]] = (
    # --- threats: violence, arrest and criminal referral, legal action, seizure, the doorstep ---
    Rule("threat_violence.en.arrest", THREAT, "en",
         r"arrest(?:ed|ing)?|jail(?:ed)?|jail time|prison|imprison\w*|locked up|lock you up|handcuff\w*"
         r"|behind bars|(?:taken|take you) into custody|detained",
         STATEMENT, "Threatens arrest or imprisonment over a civil debt.",
         "Remove it: nobody is arrested for a consumer debt. Say what happens next, e.g. "
         "'If we cannot agree a plan, we will write to you again.'"),
    Rule("threat_violence.en.criminal", THREAT, "en",
         r"(?:with|to) the (?:police|district attorney|prosecutors?|DA)(?: \w+){0,3} (?:on|about|regarding"
         r"|in) (?:your|cases like yours)"
         r"|criminal (?:charges?|case|record|complaint|proceedings|prosecution|referral|investigation"
         r"|offen[cs]e"
         r"|action|court|matter)|prosecut\w*|press(?:ing)? charges|file charges|charged with"
         r"|(?:fraud|theft|larceny|check|cheque) (?:investigations?|charges?|case|unit)"
         r"|investigation (?:of|for|into) (?:fraud|theft)|bad (?:checks?|cheques?)|theft of services"
         r"|action fraud"
         r"|(?:flagged|reported|logged|recorded|treated|classed|classified|marked|investigated) as (?:a )?"
         r"(?:possible |suspected |potential |attempted |deliberate )?(?:fraud|theft|a crime|criminal \w+)"
         r"|(?:is|are|was|constitutes?|amounts? to|counts as) (?:a |an )?(?:crime|criminal offen[cs]e|felony"
         r"|misdemeanou?r)|theft by deception|by deception"
         r"|charges (?:could|will|may|can|would) be (?:filed|brought|pressed|laid)"
         r"|(?:referr\w*|forward\w*|pass\w*|report\w*|hand\w*|sent|send\w*|transferr\w*"
         r"|escalat\w*|go|goes|going|went|gone|submit\w*|turn\w* over|flag\w*)" + _GAP + r"{0,5} to"
         r"(?: your| the| a)?(?: local| state| county| district)? (?:police|prosecutors?|district attorney"
         r"|state attorney|DA)",
         STATEMENT | {ADVICE}, "Threatens criminal action or a criminal referral over a civil debt.",
         "Remove it; a missed payment is not a crime. Offer a plan or a call instead."),
    Rule("threat_violence.en.harm", THREAT, "en",
         r"hurt|harm|kill|beat you(?: up)?|break your \w+|watch your back|look over your shoulder"
         r"|you(?:'ll| will) regret|(?:something|anything) (?:bad |terrible |unfortunate |nasty )?(?:will "
         r"|could |might |to )?happen"
         r"|I'd hate for (?:that|anything|something) to happen|face the consequences|the hard way"
         r"|(?:keep|keeping) (?:a close )?(?:eye|watch) on you|(?:I|we) know where (?:you|your)"
         r"|where your (?:kids|children|family)|you(?:'ve| have) got (?:kids|a family)"
         r"|life (?:becomes|will become|gets|will get) (?:very )?(?:difficult|hard|unpleasant)"
         r"|make your life (?:hell|miserable|difficult|a misery)|you(?:'ll| will) be sorry|get you fired"
         r"|deport\w*"
         r"|ruin your \w+|(?:don't|do not|won't|will not) take kindly|you(?:'ve| have) been warned"
         r"|consider (?:this|yourself) warned|(?:come|comes|coming|pop|call) round|we(?:'ll"
         r"| will) be watching"
         r"|not going to end well"
         r"|(?:we|i)(?:'ve| have)? (?:know|knows|confirmed|found|located|tracked|traced|identified|verified"
         r"|established|seen|watched|noted|clocked)(?: down| out)?" + _GAP
         + r"{0,2} (?:where you (?:work|live"
         r"|are|park"
         r"|shop|go|stay)|(?:your )?(?:current )?(?:place of (?:work|employment)|workplace|shift\w*"
         r"|(?:work )?"
         r"schedule|(?:daily )?routine|movements|whereabouts|new job|kids'? school|children'?s school))"
         r"|for your (?:own|family's|kids'|children's) (?:sake|good|safety)|(?:you|you'll) (?:can't|cannot"
         r"|won't be"
         r" able to) hide|we(?:'ll| will) (?:find|track down|track) you|accidents happen"
         r"|it would be a (?:shame|pity) if|(?:make|making) (?:this|things|it) (?:easy|easier|hard"
         r"|harder) on yourself"
         r"|(?:licen[cs]e|passport|visa|green card|security clearance)" + _GAP + r"{0,3} (?:suspended|revoked"
         r"|cancell?ed|taken away)|report you to (?:immigration|ICE|the home office)",
         STATEMENT - {IF}, "Threatens or hints at harm to the recipient or their family.",
         "Remove it and keep to the facts: the balance, how to pay, and how to reach us."),
    Rule("threat_violence.en.legal_action", THREAT, "en",
         r"(?:take|taking|start|begin|commence|pursue|initiate|proceed with) legal (?:action|proceedings"
         r"|steps)"
         r"|legal (?:action|proceedings) (?:will|shall|is going to|are going to) (?:be|commence|start)"
         r"|legal (?:action|proceedings) (?:has|have) (?:begun|started|been (?:taken|started|issued))"
         r"|sue you|suing you|take you to court|lawsuit|litigation|court (?:action|papers|claim)"
         r"|(?:file|filed|filing|bring|issue|issued) (?:a |an )?(?:suit|claim|case) against you"
         r"|(?:filing|proceed\w*|actions?|steps|measures|suit|claim|case|proceedings|judge?ment|default"
         r"|complaint)" + _GAP + r"{0,3} against you"
         r"|(?:issued|filed|brought|commenced|taken|entered|started|registered|obtained|lodged"
         r"|recorded) against you"
         r"|(?:filed|lodged|registered|issued|opened|pending) (?:under|in|against) your name"
         r"|intent to (?:sue|litigate|file|enforce|pursue|commence)|pre-?litigation|(?:attorney|legal) review"
         r"|(?:set|scheduled|listed|fixed|booked)(?: for)? (?:a|the|your)(?: \w+)? hearing|small claims"
         r"|process server|CCJ|county court judge?ment|matter (?:no|number|#)"
         r"|(?:take|taking|took|bring|bringing|brought) (?:this|it|the matter|you|the account|your account)"
         r" (?:to|before) (?:a |the )?(?:court|judge)"
         r"|claim (?:will be|is being|has been) (?:issued|prepared|filed)|default judgment"
         r"|(?:approved|authori[sz]ed|recommend\w*|begun|started|commenced) (?:filing|legal action|a lawsuit"
         r"|proceedings|litigation)"
         r"|(?:case|claim|docket) (?:no|number|#)|hereby ordered|in the matter of|plaintiff|defendant"
         r"|legal service|served with|enforcement (?:action|review|proceedings)|before enforcement|for suit"
         r"|file suit"
         r"|case (?:summary|file) (?:has been|is being|was) prepared|hearing officer",
         LEGAL, "Threatens or announces legal action; only state action that is lawful and intended.",
         "Unless a lawsuit is really intended and approved, remove it; otherwise state it plainly "
         "('Our client may decide to ask a court ...') with the recipient's rights and free advice."),
    Rule("threat_violence.en.seize", THREAT, "en",
         r"garnish\w*|wage (?:attachment|levy)|attach(?:ment of)?(?: to)? your (?:wages|earnings|salary|bank"
         r"|accounts?|assets)|lien"
         r"|(?:vehicle|car|house|home|property|goods|belongings) (?:to be|will be|being) (?:taken|seized"
         r"|removed|towed|sold)"
         r"|(?:levy|levied) (?:on )?(?:your|the) (?:bank|account|wages)|accounts? (?:being|will be"
         r"|has been) levied"
         r"|bank levy|seiz\w*|repossess\w*|foreclos\w*|evict\w*|force entry|remove goods|recovery driver"
         r"|tow truck"
         r"|take possession|possession of your (?:home|house|property|car|vehicle)"
         r"|los(?:e|ing) (?:your|their) (?:home|homes|house|houses)|subject to (?:recovery|repossession"
         r"|seizure)"
         r"|(?:take|taking|took|remove|tow|sell) your (?:house|home|car|vehicle|automobile|truck|van"
         r"|motorbike|motorcycle"
         r"|boat|property|belongings|possessions|goods|furniture|valuables|tax refund|tv|television"
         r"|jewell?ery)"
         r"|(?:take|tow|collect|recover|remove) (?:it|them) from your (?:driveway|home|house|workplace|garage"
         r"|street|property)"
         r"|anything else of value|located your (?:car|vehicle|automobile)"
         r"|(?:freeze|frozen|freezing) (?:all )?your (?:bank )?(?:accounts?|cards?|assets|wages|money)"
         r"|bank accounts? (?:will be|being) (?:frozen|emptied)"
         r"|(?:paycheck|paycheque|wages|salary|earnings|benefits) (?:taken|garnished|docked|seized|withheld"
         r"|frozen)"
         r"|(?:take|dock|intercept) your (?:paycheck|paycheque|wages|salary|benefits)"
         r"|" + _PAY + _GAP + r"{0,4} (?:docked|deducted|garnished|seized|withheld|frozen|attached|levied"
         r"|intercepted|taken(?! into))"
         r"|(?:dock|deduct|garnish|withh[oe]ld|intercept|take|taking|took|taken)\w*" + _GAP + r"{0,3} (?:from"
         r"|out of|off)"
         r" (?:your|his|her|their) (?:pay|paycheck|paycheque|wages|salary|earnings|income|benefits|pension)"
         r"|(?:claim|charge|lien|judge?ment|caveat|encumbrance)" + _GAP
         + r"{0,4} (?:against|on) (?:the (?:title"
         r"|deeds)"
         r" (?:to|of|for) )?your (?:home|house|property|flat|land|title|deeds|car|vehicle)"
         r"|charging orders?|orders? for sale|take control of (?:your )?goods|controlled goods"
         r"|clamp\w* your (?:car|vehicle)|wheel clamp\w*",
         STATEMENT | {HEDGE},
         "Threatens seizure, garnishment, a lien or freezing accounts without a court's order.",
         "Remove it: only a court judgment allows garnishment or a lien. Offer a plan instead."),
    Rule("threat_violence.en.doorstep", THREAT, "en",
         r"(?:wait|waiting|sit|sitting|stand|standing|park|parked|camp|camped|remain|stay|staying|be|call"
         r"|calling"
         r"|knock|knocking) (?:outside|at|in front of|by|near|round|on) (?:your|the) " + _PLACE +
         r"|(?:send|sending|sent|dispatch\w*|come|coming|came|show up|showing up|turn up|turning up|going"
         r"|attend"
         r"|attending|visit|visiting|stop by|drop by|head|heading|drive|driving)"
         r"(?: (?:(?:a|an|one of our|our|the|some|two|a few|one|another) )?(?:\w+ )?" + _STAFF + r")?"
         r"(?: out| round| over| down| along| back| in person)?"
         r" (?:to|at|round to|over to) (?:your|the) " + _PLACE +
         r"|(?:visit|visiting|attend|attending) (?:your|the) " + _PLACE +
         r"|on your doorstep|knock on your door|in front of your house|outside your " + _PLACE +
         r"|officers? (?:attending|will attend|to attend)|in your area today"
         r"|(?:field|doorstep|recovery) (?:agents?|team|officers?) (?:is|are|will be) (?:in your area|nearby"
         r"|on (?:their|the) way|outside)"
         r"|(?:team|agents?|someone|people|somebody) (?:in|near|outside|around) your (?:area|neighbou?rhood"
         r"|street|building)"
         r"|come out and (?:talk|speak|meet)|(?:don't|do not|won't|will not) (?:make|book) appointments"
         r"|" + _STAFF + _GAP
         + r"{0,3} (?:in|near|outside|around|at|on) your (?:area|neighbou?rhood|street"
         r"|building|road|town|estate|block|village|local area|postcode|zip code)"
         r"|wait(?:s|ing|ed)? (?:outside|around|nearby|downstairs|out front)(?! of)"
         r"|until (?:someone|somebody|you) (?:comes?|answers?|opens?) (?:to )?the door"
         r"|(?:pay|paying|make|making) you a (?:visit|house call|home visit)|home visits?|house calls?"
         r"|doorstep (?:visit|call|collection)s?|door-?to-?door|in person at your (?:home|door|work|office"
         r"|address)"
         r"|come (?:and|to) see you|see you in person"
         r"|unannounced",
         PRESENCE, "Threatens an unannounced visit or waiting at the door or workplace.",
         "Remove it. A visit must be arranged with the borrower in advance: "
         "'Would you like to arrange a visit?'"),

    # --- false authority: courts, police, government, lawyers, invented enforcement offices ---
    Rule("false_authority.en.court", AUTHORITY, "en",
         r"courts?|courthouse|judge|judg(?:e)?ments?|summons|summoned|subpoena|warrant|bailiffs?|writ"
         r"|magistrate"
         r"|tribunal|CCJ|(?:scheduled|set|listed|fixed|booked)(?: for)? (?:a|the|your)(?: \w+)? hearing"
         r"|matter (?:no|number|#)|process server|hearing (?:date|notice|has been"
         r"|is scheduled)"
         r"|enforcement agents?|certificated officers?|sheriff'?s? (?:office|department)|(?:case"
         r"|docket) (?:no|number|#)"
         r"|in the matter of|plaintiff|defendant|hereby ordered|you are (?:hereby )?(?:ordered|summoned"
         r"|commanded)"
         r"|(?:county|court) clerk|clerk of (?:the )?court|hearing officer",
         LEGAL, "Implies court involvement, court documents or court officers.",
         "Do not suggest a court is involved unless proceedings have really been issued; if they have, "
         "name the claim and the court and point to free advice."),
    Rule("false_authority.en.police", AUTHORITY, "en",
         r"police|police officers?|sheriff|deput(?:y|ies)|marshals?|constables?|troopers?|FBI|law enforcement"
         r"|detectives?|the authorities|district attorney|state attorney|prosecutors?(?:'?s? office)?"
         r"|action fraud|fraud squad|crown prosecution service"
         r"|department of justice"
         r"|(?:this is|I am|I'm) (?:officer|detective|sergeant|deputy|agent) \w+",
         BODY, "Invokes the police, prosecutors or law enforcement.",
         "Remove it; a collector must not involve or imply the police. "
         "Refer only to the creditor and yourself."),
    Rule("false_authority.en.government", AUTHORITY, "en",
         r"government (?:agency|department|official|office|notice)|IRS|HMRC|NHS|DVLA|DWP"
         r"|Social Security Administration"
         r"|Medicare|Medicaid|federal agency|state agency|test (?:&|and) trace"
         r"|(?:county|state|city|federal|council|benefits|welfare|social security|tax|government|pension"
         r"|unemployment)(?: \w+)? (?:office|department|agency|bureau|unit)"
         r"|official notices?|legal notice|required by (?:federal |state )?law to (?:pay|make (?:a )?payment)"
         r"|you are (?:hereby )?(?:directed|required by law)",
         BODY, "Implies a government body or official notice.",
         "Say who you are: '{{ agency_name }}, a debt collector, writing for {{ lender_name }}.'"),
    Rule("false_authority.en.lawyer", AUTHORITY, "en",
         r"our (?:lawyers?|attorneys?|solicitors?|legal (?:team|department|counsel))|legal (?:department"
         r"|division)"
         r"|(?:lawyer|attorney|solicitor)'s letter|solicitors (?:will be|have been) instructed|law firm"
         r"|(?:referred|passed|handed|instructed|transferred) (?:to|over to) (?:our |a |the )?(?:lawyers?"
         r"|attorneys?|solicitors?)"
         r"|attorneys? (?:are|is|have|has been|have been) (?:reviewing|instructed|approved)",
         LEGAL, "Implies a lawyer is involved; only say so when it is true.",
         "Remove it unless a lawyer has really reviewed the account and is named."),
    Rule("false_authority.en.invented_office", AUTHORITY, "en",
         r"(?:(?:debt|collections?|recovery) (?:compliance|enforcement)|enforcement|litigation"
         r"|legal processing|investigations?"
         r"|arbitration) (?:division|bureau|department|unit|office|agency|authority|board|commission"
         r"|cent(?:re|er)|squad)"
         r"|(?:bureau|office|department|agency|division|authority|board|commission) of(?: \w+){0,2}"
         r" (?:debts?|collections?|recovery|enforcement|credit)|enforcement officers?"
         # an official-sounding body made up for the occasion: "Federal Consumer Debt Registry"
         r"|(?:national|federal|state|uk|u\.s\.|united states|british|english|government|central|regional"
         r"|county|civil|consumer|public|official|crown|hm|royal|american|international)(?: \w+){0,2}"
         r" (?:debts?|credit|defaulters?|arrears|recovery|collections?|enforcement|judicial|litigation"
         r"|delinquen\w*|repossessions?)(?: \w+)? (?:registry|register|authority|bureau|agency|commission"
         r"|board"
         r"|council|directorate|tribunal|unit|division|department|office|cent(?:re|er)|database)"
         r"|(?:debts?|defaulters?|arrears|delinquen\w*|collections?|recovery"
         r"|enforcement)(?: \w+)? (?:registry"
         r"|register|authority|commission|directorate|tribunal|ombudsman)",
         INHERENT | {NEG, RIGHTS}, "Presents the sender as an enforcement or legal office it is not.",
         "Use your real name: '{{ agency_name }}, a debt collection agency.'"),

    # --- disclosure to others: employer, family, neighbours, public posting ---
    Rule("disclosure_shaming.en.third_party", SHAMING, "en",
         _DIRECT + r"(?: \w+){0,2} (?:your|their|the people you|all your|the|each of your|each of the)"
         r"(?: \w+)? " + _KIN
         + r"|" + _TO + r"(?: \w+){0,8} to (?:each of |all of |every one of |one of )?"
         r"(?:your|their|the|his|her)(?: \w+)? " + _KIN
         + r"|(?:keep|keeping|kept) (?:him|her|them) (?:updated|informed|posted|in the loop)"
         + r"|(?:your|their) (?:\w+ )?" + _KIN
         + r"(?: \w+){0,3} (?:will|is going to|are going to|has been|have been|was|were)"
         r" (?:be )?(?:hearing from us|hear from us|contacted|told|informed|notified|called|getting a call)"
         r"|(?:prefer|rather)" + _GAP + r"{0,4} (?:between (?:ourselves|us|you and us|you and me)|privately"
         r"|quietly"
         r"|without (?:involving|getting) (?:anyone|anybody|others|other people|\w+ else))",
         STATEMENT | {RIGHTS, CONSENT}, "Threatens to tell or involve third parties about the debt.",
         "Remove it: speak only to the borrower (or someone they have authorised)."),
    Rule("disclosure_shaming.en.public", SHAMING, "en",
         r"social media|facebook|instagram|twitter|tiktok|publicly|in public|name and shame|shame you"
         r"|expose you"
         r"|publish\w* (?:your|a notice|details)|post\w* (?:a notice|your \w+|about you)|notice ?board"
         r"|community board"
         r"|(?:put|place|placing|posting|pin) (?:up )?a notice|defaulters? list|wall of shame|tag you"
         r"|everyone (?:will know|finds? out|will find out|can see|will see)|so your friends can see"
         r"|(?:displayed|display|posted|pinned|put up|shown|circulated|published|read out"
         r"|announced)(?: \w+){0,2}"
         r" (?:at|on|in|to|around) (?:the |your )?(?:reception|lobby|entrance|community|building|block"
         r"|neighbou?rhood"
         r"|street|church|school|village|website|internet|group chat|whatsapp)"
         r"|nextdoor|linkedin|whatsapp group|group chat|community group|residents'? (?:group|board)"
         r"|message board",
         STATEMENT, "Threatens public exposure of the debt.",
         "Remove it: the debt is private and must not be published."),

    # --- insults and degrading language ---
    Rule("abuse_insult.en.insult", ABUSE, "en",
         r"deadbeats?|losers?|scum\w*|morons?|imbeciles?|idiots?|freeloaders?|leech\w*|parasites?"
         r"|low-?li[fv]es?"
         r"|bums?|dirtbags?|worthless|scroungers?|spongers?|clowns?|halfwits?|nitwits?|dimwits?"
         r"|layabouts?|wasters?|skivers?|chancers?|cheapskates?|good-for-nothings?|ne'er-do-wells?|moochers?"
         r"|scumbags?|bottom-?feeders?|sleazebags?|slobs?|degenerates?|dead ?weight|charity case|no-?hopers?"
         r"|numpty|numpties|muppets?|plonkers?|prats?|pillocks?|tossers?|wankers?|dolts?|dunces?|simpletons?"
         r"|bozos?|jerks?|creeps?|weasels?|vermin|hypocrites?|piece of work|riff-?raff|(?:white"
         r"|trailer) trash"
         r"|waste of (?:oxygen|skin|air)|welch(?:er|ers)|welsh(?:er|ers)|tightwads?"
         r"|how do you sleep at night|have you no (?:shame|pride|decency|self-respect)|(?:aren't"
         r"|are) you ashamed"
         r"|you should be ashamed"
         r"|waste of space"
         r"|sob story|spare me|grow a spine|man up|shame on you|grow up(?= and\b|[.!,])|have you no shame"
         r"|no sense of (?:responsibility|shame|decency)|(?:any|a) decent person would|grown (?:adult|man"
         r"|woman)"
         r"|(?:embarrassing|shameful|pathetic|disgraceful|ridiculous) that|sad excuse|pathetic excuse"
         r"|acting like a (?:child|baby|kid)|like a (?:coward|child|baby|thief|criminal|beggar)"
         r"|what kind of (?:parent|person|mother|father|man|woman)|how (?:stupid|dumb|dense|lazy"
         r"|thick) (?:can|are) you"
         r"|are you (?:really |just |actually )?(?:this|that|so) (?:stupid|dumb|dense|thick|slow|lazy|dim)"
         r"|you(?:'re| are)?(?: \w+){0,3} (?:liar|cheat|cheater|thief|crook|fraud|stupid|dumb|dense|thick"
         r"|lazy|pathetic"
         r"|disgrace|disgraceful|shameless|coward|pig|animal|trash|garbage|useless|joke|embarrassment|selfish"
         r"|greedy"
         r"|dishonest|irresponsible|immature|childish|hopeless|clueless|spineless|shambles|failure|mess)"
         r"|(?:liars?|cheats?|thie(?:f|ves)|crooks?|lazy|stupid|coward|useless)(?: people| folks)? like you"
         r"|(?:people|someone|those) like you (?:never|always|are|will never|don't|can't)|like always"
         r"|(?:sound|sounds|act|acting|behave|behaving) like a (?:\w+ )?(?:child|kid|teenager|baby|brat|liar"
         r"|thief|criminal|coward)"
         r"|spoil(?:ed|t) (?:brat|child|teenager|kid)|get a (?:real )?job(?=[.!])"
         r"|(?:typical|what an?|such an?) (?:\w+ )?(?:liar|cheat|thief|crook|coward)"
         r"|(?:are|is) (?:a |an )?(?:disgrace|pathetic|shameless)",
         INSULT, "Insults or degrades the recipient.",
         "Remove it and address the recipient respectfully: 'Dear {{ name }}, ...'"),
    Rule("abuse_insult.en.profanity", ABUSE, "en",
         r"fuck\w*|shit\w*|bitch\w*|bastards?|damn\w*|ass(?:hole)?s?|arse(?:hole)?s?|crap|bullshit|piss\w*",
         INSULT, "Profane language.", "Remove the profanity."),

    # --- pushing new borrowing and invented fees ---
    Rule("coercive_financing_fees.en.borrowing", FINANCING, "en",
         r"(?:borrow|borrowing|loan|lend) (?:\w+ ){0,3}(?:from|off) (?:your |a |an |some )?(?:friends?|family"
         r"|family members?"
         r"|relatives?|parents?|mum|mom|dad|employer|colleagues?)"
         r"|(?:borrow|borrowing|loan|lend) (?:\w+ ){0,3}(?:from|off) (?:another|other|any|a different"
         r"|an online|one of those"
         r"|some)(?: \w+)? (?:apps?|lenders?|banks?|platforms?|companies|company|sites?|websites?|providers?)"
         r"|(?:ask|asking) (?:\w+ ){0,4}(?:for a loan|to lend you|to borrow)|lend you the money"
         r"|(?:take|taking) (?:out )?(?:a |an |another |a new |new )?(?:payday |consolidation |personal "
         r"|quick |new"
         r" |short-term |title |online )?loan|get (?:a |another )?(?:payday |new |quick )?loan|payday (?:loan"
         r"|advance|lender)"
         r"|cash advance|(?:put|charge) (?:it|this|the \w+) on (?:a|your|another) credit card"
         r"|use (?:a |your |another )?credit card to (?:clear|pay off|cover|settle)|new loan to pay"
         r"|partner lender"
         r"|borrow against|hardship withdrawal|(?:cash out|withdraw from) your (?:401k|pension|retirement)"
         r"|(?:401k|pension|retirement) (?:loan|withdrawal)|remortgag\w*|releas\w* equity|equity release"
         r"|second mortgage|title loan|pawn\w*|open (?:a |another )?(?:new )?credit card|balance transfer"
         r"|apply (?:for|with) (?:a |another )?(?:new )?(?:same-day |quick |payday )?(?:loan|credit card"
         r"|line of credit)"
         r"|same-day loan|loan with (?:our|a) partner|recommended (?:lenders?|list)|lenders on our"
         r"|(?:open|opening|opened|get|getting|apply for|applying for|sign up for|signing up for|take out"
         r"|taking out) (?:a |an |another |up )?(?:new )?(?:[\w%-]+ )?(?:credit card|store card"
         r"|line of credit"
         r"|overdraft|loan)"
         r"|(?:apply|applying) (?:with|at|to) (?:any|a|another|your|other) (?:other )?(?:bank|lender)s?"
         r"|transferr?\w* (?:the |this |your )?(?:amount|balance|debt)(?: \w+){0,2} (?:over|onto)"
         r"|401\(?k\)?|ask around|hit up (?:\w+ ){0,2}(?:friends|family|relatives|people)"
         r"|buy now,? pay later|BNPL|klarna|afterpay|clearpay|loan apps?|lending apps?|max(?:ing)? out"
         r"|dip into your (?:401\(?k|pension|retirement|ira)",
         LURE | {RIGHTS}, "Pushes the recipient to borrow elsewhere to repay.",
         "Remove it and offer what you can do instead: 'We can agree a plan you can afford.'"),
    Rule("coercive_financing_fees.en.fees", FINANCING, "en",
         r"(?:collection|collections|recovery|debt recovery|account recovery|admin|administration"
         r"|administrative"
         r"|processing|handling|letter|late contact|missed contact|tracing|trace|field visit|visit|doorstep"
         r"|attendance"
         r"|enforcement|service|convenience|penalty|reminder|text|sms|release|court|extra|additional)"
         r" (?:handling )?(?:fees?|charges?|surcharges?)|surcharges?"
         r"|(?:fees?|charges?) (?:will be|has been|have been|is|are|was|were) (?:added|applied|charged"
         r"|imposed|levied)"
         r"|(?:fees?|charges?) (?:applies|apply)|(?:applied|added|charged) (?:a |an )?(?:\w+ ){0,2}(?:fees?"
         r"|charges?)"
         r"|(?:a|an|our|the|this|that|additional|extra|plus|includes|of) (?:[£$€¥]\s?\d[\d,.]*|\d[\d,.]*)"
         r" (?:[\w-]+ ){0,3}(?:fees?|charges?|surcharges?)",
         FEE, "Announces a fee; only amounts the agreement or law permits may be collected.",
         "Remove the fee unless the agreement allows it; if it does, name the clause."),

    # --- deceptive pretexts: disguising the purpose of the contact ---
    Rule("deceptive_pretext.en.lure", PRETEXT, "en",
         r"(?:package|parcel)(?: \w+){0,5} (?:held|waiting|delivery|notice|could not|failed|rebook)"
         r"|tried to deliver"
         r"|missed (?:a |your )?(?:delivery|parcel|package)|you(?:'ve| have) (?:won|been selected)"
         r"|prizes?|winner|lottery|sweepstakes|(?:claim|collect) your (?:reward|gift|prize)|loyalty reward"
         r"|free gift"
         r"|survey|background check|job offer|verify your employment"
         r"|(?:update|question|problem|issue) (?:about|with|regarding) your (?:recent )?(?:order|purchase"
         r"|shipment|delivery)"
         r"|shipping address|shipment|tracking number|test (?:&|and) trace|track and trace|health (?:alert"
         r"|notice)"
         r"|(?:gas|water) leak|(?:regarding|about|concerning|in connection with) (?:a|an) (?:personal|private"
         r"|confidential"
         r"|urgent|important)(?: business)? (?:matter|issue)|important personal matter|urgent family matter"
         r"|we met last \w+|got something for you|Royal Mail|FedEx|DHL|USPS|suspicious activity"
         r"|account (?:has been |is |was )?(?:locked|suspended|disabled|compromised)|tax (?:rebate"
         r"|refund) (?:is )?(?:ready|waiting|available)"
         r"|(?:release|claim) your (?:rebate|refund)|(?:calling|call|message|writing) from (?:your|the) (?:GP"
         r"|doctor'?s?|hospital"
         r"|clinic|pharmacy|surgery|GP surgery)"
         # introducing oneself as someone else: "this is Sam from the benefits verification office"
         r"|(?:calling|writing|texting|messaging|contacting you|this is|i'm|i am|we're|we are"
         r"|it's)(?: \w+){0,3}"
         r" (?:from|with|at) (?:the |your |our )?(?:local )?(?:\w+ )?(?:depot|courier|delivery|post office"
         r"|sorting office|benefits|welfare|verification|survey|census|research|insurance|clinic|hospital"
         r"|pharmacy|school|council|utility|water board|energy|phone company|lottery|prize|rewards"
         r"|(?<!financial\s)health|medical|HR|payroll|recruit\w*|jobcentre|job cent(?:er|re))"
         r"|(?:got|have) a (?:delivery|parcel|package) for",
         LURE, "Uses a misleading pretext to get a response.",
         "Say plainly who you are and why you are writing."),
    Rule("deceptive_pretext.en.disguise", PRETEXT, "en",
         r"not (?:a|an) (?:debt collector|attempt to collect)|not (?:a )?collection (?:notice|call|letter"
         r"|message)"
         r"|not about (?:a|your) debt|nothing to do with (?:a|your) debt",
         INHERENT, "Disguises the purpose of the message.",
         "State the purpose: 'This is a communication from a debt collector.'"),
)
# fmt: on
