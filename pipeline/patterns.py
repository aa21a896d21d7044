"""Every pattern for Chinese phrasing, in one place, each with the examples it was written for.

Parsers and ``rules.py`` import from here; no other module spells a Chinese phrase as a regex.
Each pattern is matched against text after ``normalize.clean`` (NFC, no zero-width characters,
but full-width punctuation kept: ``（`` and ``(`` are both accepted where it matters).
"""
from __future__ import annotations

import re
import unicodedata

# --- numbers -------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

#: One number as the documents write it: ``3``, ``３``, ``三``, ``十二``, ``⑥``.
NUMBER = r"(?:\d{1,2}|[０-９]{1,2}|[一二两三四五六七八九十]{1,3}|[①-⑳])"


def to_int(token: str) -> int | None:
    """``'3'``, ``'３'`` -> 3; ``'二'`` -> 2; ``'十二'`` -> 12; ``'⑥'`` -> 6; anything else -> None."""
    token = token.strip()
    if not token:
        return None
    if token in _CIRCLED:
        return _CIRCLED.index(token) + 1
    folded = unicodedata.normalize("NFKC", token)
    if folded.isdigit():
        return int(folded)
    if all(c in _CN_DIGITS or c == "十" for c in token):
        if "十" not in token:
            return _CN_DIGITS[token] if len(token) == 1 else None
        tens, _, units = token.partition("十")
        if "十" in units:
            return None
        t = _CN_DIGITS.get(tens, None) if tens else 1
        u = _CN_DIGITS.get(units, None) if units else 0
        if t is None or u is None:
            return None
        return t * 10 + u
    return None


# --- declared rules ------------------------------------------------------------------------

#: A declared k-of-n choice: ``3选1``, ``（5选1）``, ``(2选1):``, ``二选一``, ``⑥选①``, ``4 选 1``.
#: ``n`` is the number of alternatives, ``k`` how many must be provided.
DECLARED_CHOICE = re.compile(rf"(?P<n>{NUMBER})\s*选\s*(?P<k>{NUMBER})")

#: Something that looks like a declared choice but whose numbers cannot be read: ``（N选1）``,
#: ``(几选一)``. Reported as a warning; the count is then left unknown, never guessed.
UNREADABLE_CHOICE = re.compile(r"[（(]\s*[^（）()\s，,。]{0,4}\s*选\s*[^（）()\s，,。]{0,4}\s*[）)]")

#: A choice declared without a count: ``任选其一``, ``任选一项``, ``满足其一``, ``其中之一即可``.
UNCOUNTED_CHOICE = re.compile(r"任选其一|任选一项|满足其一|其中之一")

#: Everything listed is required: ``需同时提供：``, ``同时提供:``, ``须同时具备``, ``需同时满足``.
ALL_REQUIRED = re.compile(r"[需须]?同时(?:提供|具备|满足)")

#: A qualification cell that says "nothing required": ``-``, ``/``, ``—``, ``无``, ``不需要``.
NONE_TEXT = re.compile(r"^[\s\-－—–/／]*$|^(?:无|不需要|无需(?:资质)?|暂无)[。.]?$")


def declared_choice(text: str) -> tuple[int, int] | None:
    """The first ``n选k`` in ``text`` as ``(k, n)``; None if there is none or it is unreadable.

    >>> declared_choice("资质要求（3选1）")
    (1, 3)
    >>> declared_choice("(二选一):")
    (1, 2)
    >>> declared_choice("保险机构主体提供(⑥选①):")
    (1, 6)
    """
    m = DECLARED_CHOICE.search(text)
    if not m:
        return None
    n, k = to_int(m.group("n")), to_int(m.group("k"))
    if n is None or k is None:
        return None
    return k, n


# --- enumerations --------------------------------------------------------------------------

#: An arabic enumerator: ``1、``, ``2.``, ``3．``, ``1. `` (not ``1.3.4`` or ``4s店``). It counts as
#: a marker only at the start of the text or after a line break, space or separating punctuation.
ARABIC_ENUM = re.compile(r"(?:(?<=^)|(?<=[\s;；。:：,，!！?？]))(?P<num>\d{1,2}|[０-９]{1,2})\s*[、.．](?![\d０-９])",
                         re.MULTILINE)
#: A Chinese-numeral enumerator at a line start: ``一:``, ``二：``, ``三、``.
CHINESE_ENUM = re.compile(r"^\s*(?P<num>[一二三四五六七八九十]{1,2})\s*[、:：.．]", re.MULTILINE)
#: A circled enumerator: ``①``, ``②《…》`` (unambiguous, so anywhere, not only at a line start;
#: ``⑥选①`` is a count, not an item, and is excluded).
CIRCLED_ENUM = re.compile(r"(?<!选)(?P<num>[①-⑳])(?!\s*选)")
#: A parenthesised arabic enumerator at a line start: ``(1)``, ``（2）``.
PAREN_ENUM = re.compile(r"^\s*[（(](?P<num>\d{1,2})[)）]", re.MULTILINE)

ENUMERATOR_FAMILIES = (ARABIC_ENUM, PAREN_ENUM, CHINESE_ENUM, CIRCLED_ENUM)

#: A line that begins a new enumerated item (used to stop joining wrapped lines).
STARTS_WITH_ENUM = re.compile(r"^\s*(?:\d{1,2}\s*[、.．](?!\d)|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,2}\s*[、:：]|[①-⑳])")

# --- alternatives, bundles, variants -------------------------------------------------------

#: ``或`` joins alternatives only when it stands next to a document title:
#: ``《组织机构代码证》或《统一社会信用代码证》``, ``审批设立证明 或 《事业单位法人证书》``,
#: ``《金融许可证》或银保监会…批复文件``. Phrases where 或 is part of the wording never split:
#: ``两家或以上``, ``或者``.
OR_WORD = "或"
OR_NOT_SPLIT = re.compile(r"或(?:以上|以下|者)")

#: Words that join documents that are all required: ``与``, ``及``, ``以及``, ``和``, ``、``, ``并``.
AND_JOINERS = re.compile(r"以及|与|及|和|、|并")

#: A per-variant group at the start of a sentence: ``（供电类）提供…。（燃气类）提供…``,
#: ``(船企)提供…。(港口)提供…``, ``(自营性网约车)提供…``. Two or more make a 1-of-n choice.
VARIANT_LABEL = re.compile(r"(?:(?<=^)|(?<=[。；;]))\s*[（(](?P<label>[^（）()《》]{1,12})[)）]")

#: A header line that opens one alternative scenario column:
#: ``已具备《增值电信业务经营许可证》的场景``, ``《增值电信业务经营许可证》不予受理的场景：``.
SCENARIO_GROUP_HEADER = re.compile(r"的场景\s*[:：]?\s*$")

#: A leading restriction on who may apply: ``仅支持公立医疗机构互联网医院``, ``仅支持 ETC 发行业务，``,
#: ``仅限…``. Kept as a condition of the whole requirement.
LEADING_RESTRICTION = re.compile(r"^\s*(?P<cond>(?:仅支持|仅限|仅适用于)[^，,；;：:（(]*)[，,：:]?")

#: A short label before a colon: ``公立学校：``, ``汽车厂商：``, ``经营个人征信业务：``.
ITEM_LABEL = re.compile(r"^\s*(?P<label>[^《》：:，,。；;（(“\"]{1,16})[：:]")

#: Extra conditions attached to a document: ``且业务范围必须包含“基金”``, ``，且其中须有“驾驶员培训”项目``.
AND_CONDITION = re.compile(r"[，,]?\s*(?P<cond>且[^。；;]*)")

#: A verb before the documents that carries no meaning of its own: ``提供``, ``需提供``.
PROVIDE_VERB = re.compile(r"^\s*(?:需|须)?(?:同时)?提供\s*[:：]?")

#: A document title: ``《基金销售业务资格证书》``.
DOCUMENT_TITLE = re.compile(r"《\s*(?P<title>[^《》]+?)\s*》")

# --- integration sentence ------------------------------------------------------------------

#: ``具备【教育-在线视频课程】类目，可使用 [标准直播+直播标签](…) 进行接入。``
#: ``具备 金融-公募基金 类目，可使用 标准直播+直播标签  进行接入。``
#: ``具备电商平台类目,可直接通过 小程序·云直播插件 进行接入小程序直播。``
#: ``若同时具备【社交-直播】类目，可直接使用 … 进行接入。`` (``also`` set: an alternative, not the section's own)
INTEGRATION = re.compile(
    r"(?P<also>若同时)?具备\s*(?P<cats>.+?)\s*类目\s*[，,]\s*可(?:直接)?(?:使用|通过)\s*(?P<method>.+?)\s*进行接入")
#: Several categories named in one sentence: ``【A】或【B】``, ``A 或 B``. A bare ``、`` does not
#: split: ``【金融-证券、期货投资咨询】`` is one name.
CATEGORY_LIST_SPLIT = re.compile(r"】\s*(?:或|、|和|及)\s*【|\s+或\s+")
#: Levels inside a category as a sentence names it: ``教育-培训机构-职业培训``.
LEVEL_SEPARATOR = re.compile(r"\s*[-－]\s*")
#: Levels inside a section heading: ``电商平台 - 电商平台``, ``培训机构 - 职业培训/课外辅导``.
HEADING_LEVEL_SEPARATOR = re.compile(r"\s+[-－–]\s+")
#: A rename the document states itself: ``企业征信 (注:原二级名称为【征信业务】)``.
RENAMED_FROM = re.compile(r"[（(]\s*注\s*[:：]\s*原[一二三]级名称为\s*【(?P<old>[^】]+)】\s*[)）]")

# --- page furniture ------------------------------------------------------------------------

#: ``最近更新时间：2024-08-29 17:45:51`` (the page's own date).
UPDATED_AT = re.compile(r"最近更新时间\s*[:：]\s*(?P<date>\d{4}-\d{2}-\d{2})(?:\s+(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?")

#: Labels of the key/value table of a live-streaming section (first column).
LABEL_SCENARIO = "小程序直播场景"
LABEL_SCOPE = "类目适用范围"
LABEL_REQUIREMENT = "资质要求"
LABEL_HEADER = ("要求", "说明")
LABEL_NOTE = re.compile(r"^\s*(?:注意|说明)\s*[:：]?\s*$")

#: Column headers of a category table: ``一级类目 二级类目 三级类目 使用微信人脸核身能力所需资质``,
#: ``小程序一级类目``, ``一级分类 二级分类 三级分类 法务建议的资质文件 备注``.
LEVEL_HEADER = re.compile(r"^(?:小程序)?(?P<level>[一二三])级(?:类目|分类)$")
QUALIFICATION_HEADER = re.compile(r"资质")
NOTE_HEADER = re.compile(r"^(?:备注|说明)$")
#: A level cell of a category whitelist (a table without a qualification column) may list
#: several categories: ``互联网医院，公立医院``, ``基金、信托、保险、银行、证券/期货``.
WHITELIST_LIST_SEPARATOR = re.compile(r"\s*[，,、；;]\s*")

#: Words that tell which capability a page is about.
FACE_WORDS = re.compile(r"人脸核[身验]|人脸识别|人脸验证")
#: ``直播``, and WeChat's live components ``<live-player>``/``<live-pusher>``
LIVE_WORDS = re.compile(r"直播|live-player|live-pusher")

# --- scenario and licence pages ------------------------------------------------------------

#: ``场景1：政府主体账号`` (方案选择 page).
SCENARIO_HEADING = re.compile(r"^\s*(?P<label>场景\s*(?P<num>\d{1,2})\s*[:：]\s*\S.*?)\s*$")
#: Header rows of the scenario tables: ``小程序内容场景 要求 接入方案``, ``小程序直播场景 要求``.
SCENARIO_TABLE_HEADER = re.compile(r"^\s*小程序(?:内容|直播)场景\s+要求(?:\s+接入方案)?\s*$")
#: A cell that refers to another scenario: ``见场景2：电商带货类直播要求`` / ``…直播方案``.
SCENARIO_REFERENCE = re.compile(r"见场景\s*\d{1,2}\s*[:：][^见]*?(?:要求|方案)")
#: A requirement cell of a scenario table: names a category (``社交-直播类目``, ``教育类目：…``) or the
#: account's subject (``微信小程序的认证主体为政府主体``).
SCENARIO_REQUIREMENT_HINT = re.compile(r"类目|主体")

#: ``涉及经营网络表演业务，请咨询当地人民政府文化行政部门申请办理《网络文化经营许可证》。``
LICENCE_SENTENCE = re.compile(
    r"涉及(?P<business>[^，,。；;]+?)\s*[，,]\s*请咨询\s*(?P<authority>.+?)\s*申请办理\s*《(?P<licence>[^》]+)》")

#: A line that is only a link (PDF exports list each page's link targets as bare URLs).
URL_LINE = re.compile(r"^\s*(?:https?://|www\.)\S*\s*$")

#: Punctuation that ends a sentence or an item; a wrapped PDF line never ends with one.
TERMINAL = "。；;！!？?"
