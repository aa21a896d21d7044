"""Every pattern for Chinese phrasing, in one place, each with the examples it was written for.

Parsers and ``rules.py`` import from here; no other module spells a Chinese phrase as a regex.
Each pattern is matched against text after ``normalize.clean`` (NFC, no zero-width characters,
but full-width punctuation kept: ``（`` and ``(`` are both accepted where it matters).
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

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


_DECLARATION_WORDS = rf"{NUMBER}\s*选\s*{NUMBER}|任选其一|任选一项|满足其一|其中之一|[需须]?同时(?:提供|具备|满足)"

#: A declaration standing alone, or opening the text: ``（2选1）：``, ``(任选其一):``,
#: ``资质要求(任选其一):《营业执照》``, ``需同时提供：``, ``同时提供:``, ``（N选1）``. What follows it is
#: the list. Every format strips a leading declaration with this one pattern.
LEADING_DECLARATION = re.compile(
    rf"^\s*(?:资质要求\s*)?(?:[（(][^（）()《》]{{0,6}}?(?:{_DECLARATION_WORDS})[^（）()《》]{{0,6}}?[)）]"
    rf"|{UNREADABLE_CHOICE.pattern}|(?:{_DECLARATION_WORDS}))\s*[:：]?\s*")


class Declaration(NamedTuple):
    """What a text declares about its list: ``choice`` (k, n) of ``N选K``; ``all_required`` for
    ``需同时提供``; ``uncounted`` for a choice without a readable count (``任选其一``, ``（N选1）``);
    ``text`` the declaration as written."""

    choice: tuple[int, int] | None
    all_required: bool
    uncounted: bool
    text: str | None

    @property
    def any(self) -> bool:
        return bool(self.choice or self.all_required or self.uncounted)


def declaration(text: str) -> Declaration:
    """The declaration in ``text`` (its first of each family).

    >>> declaration("资质要求（3选1）").choice
    (1, 3)
    >>> declaration("需同时提供：").all_required
    True
    >>> declaration("(任选其一):").text
    '任选其一'
    """
    choice = declared_choice(text)
    all_m = ALL_REQUIRED.search(text)
    unc_m = UNCOUNTED_CHOICE.search(text) or (None if choice else UNREADABLE_CHOICE.search(text))
    if choice:
        written = DECLARED_CHOICE.search(text).group(0)
    else:
        written = (all_m or unc_m).group(0) if (all_m or unc_m) else None
    return Declaration(choice, bool(all_m), bool(unc_m), written)


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

#: ``或`` / ``或者`` / ``，或`` join alternatives, at the top level of an entry, when both sides
#: name a document (a 《》 title, or a name ending in a document noun, ``DOCUMENT_NOUN``):
#: ``《组织机构代码证》或《统一社会信用代码证》``, ``审批设立证明 或 《事业单位法人证书》``,
#: ``合作协议或授权文件``, ``官方授权或协议，或公开可查询的文件``,
#: ``银监会备案证明材料或者省（自治区、直辖市）金融办批准文件``.
#: Where neither side names a document, 或 is part of the wording and never splits:
#: ``卫生和计划生育委员会或医管局批文``, ``政府或监管机构``, ``两家或以上``.
OR_JOINER = re.compile(r"[，,]?\s*或者?")
OR_NOT_SPLIT = re.compile(r"或(?:以上|以下)")

#: A modifier that ends on ``的`` before the name of a document: ``电商平台对入驻经营者的审核要求``,
#: ``电商平台对用户交易纠纷处理的机制`` (group ``modifier``). In ``X的A或B`` where B is a bare name
#: (``规范文件``, ``方案``: no 的, no 《》) X is shared: B reads ``电商平台对入驻经营者的规范文件``.
SHARED_MODIFIER = re.compile(r"^(?P<modifier>[^《》]*的)(?P<name>[^的《》]+)$")
#: A name with a modifier of its own or a title, so not bare: ``执业登记机关的审核合格文件``, ``《A》``.
OWN_MODIFIER = re.compile(r"的|《")

#: Words that join documents that are all required, on the same condition as ``或``:
#: ``《A》与《B》``, ``《医疗机构执业许可证》与执业登记机关的审核合格文件``,
#: ``合作协议以及…《网络预约出租汽车经营许可证》``, ``《民办学校办学许可证》及营业执照``,
#: ``电商平台服务协议、交易规则``, ``…合作协议、及培训机构的《…》``, ``《卫计委批文》+《…》``.
#: ``区、县级教育部门颁发的``, ``卫生和计划生育委员会``, ``公司及人员情况表`` do not split (the
#: left side names no document); nor do ``两个及以上``, ``及其派出机构`` (but ``、及其他平台…的证明材料`` does).
AND_JOINERS = re.compile(r"[、，,]\s*(?:以及|及|和)|以及|与|及|和|、|[+＋]")
AND_NOT_SPLIT = re.compile(r"及(?:以上|以下)|及其(?!他)")

#: The next joiner of either kind (or a sentence end): where what a joiner brings in stops.
NEXT_JOINER = re.compile(r"[。；;]|或|与|及|和|、")
#: A line that ends on a joiner continues on the next: ``《A》或`` / ``《B》``.
ENDS_ON_JOINER = re.compile(r"(?:或者?|以及|与|及|和|、|[+＋])\s*$")

#: The last word of a name that is a document, so that a name without 《》 can stand as one side
#: of 或 / 与: ``审批设立证明``, ``合作协议``, ``授权文件``, ``营业执照``, ``书面许可``, ``备案凭证``,
#: ``医院列表``, ``承诺书``, ``交易规则``, ``审核要求``, ``处理的机制``, ``方案``, ``二维码标识``.
DOCUMENT_NOUN = re.compile(
    r"(?:证|证书|证明|执照|许可|批文|批复|文件|材料|协议|合同|授权|函|书|凭证|备案|截图|名录|名单|"
    r"列表|表|表格|规则|要求|机制|方案|声明|编码|标识|报告|记录)$")

#: Documents written side by side with no joiner are all required:
#: ``《公共场所卫生许可证》《健康合格证》《特种行业许可证》``.
ADJACENT_TITLES = re.compile(r"》\s*(?=《)")

#: A parenthetical that offers alternatives to the name before it:
#: ``营业执照（或事业单位法人证书、民办非企业单位登记证书）`` -> 营业执照 / 事业单位法人证书 /
#: 民办非企业单位登记证书 (the ``、`` inside it lists further alternatives).
OR_PARENTHETICAL = re.compile(r"^\s*或者?\s*")
#: Separators between the alternatives listed inside such a parenthetical.
ALTERNATIVE_LIST_SEPARATOR = re.compile(r"\s*(?:、|或者?|，\s*或者?|,\s*或者?)\s*")

#: A parenthetical that is a note or gives examples, not a restriction: ``（注：…示例模板）``,
#: ``（说明：四选一，如果选第一个，需要同时提供两个资质）``, ``（如公司章程、…）``.
NOTE_PARENTHETICAL = re.compile(r"^\s*(?:注|说明|备注)\s*[:：]|^\s*(?:如|例如|比如)(?![果非])")
#: A note that declares a choice and says one alternative is a bundle of several documents:
#: ``（说明：四选一，如果选第一个，需要同时提供两个资质）`` after ``《保险公司法人许可证和经营保险业务
#: 许可证》或《保险兼业代理许可证》或…``: four alternatives, the first two licences together. ``n`` is
#: the declared count, ``which`` the alternative, ``count`` how many documents it holds (``两者``: 2).
BUNDLED_ALTERNATIVE_NOTE = re.compile(
    rf"^\s*(?:注|说明|备注)\s*[:：]\s*(?P<n>{NUMBER})\s*选\s*(?P<k>{NUMBER})\s*[，,]\s*(?:如果|如|若)?\s*"
    rf"选(?:择)?第\s*(?P<which>{NUMBER})\s*[个项种]\s*[，,]?\s*(?:则)?\s*[需须]要?同时提供\s*"
    rf"(?:(?P<count>{NUMBER})\s*[个份项种]|(?P<both>两者|二者))")
#: Inside a title that such a note says is a bundle, where it joins its documents:
#: ``保险公司法人许可证和经营保险业务许可证``. Never read otherwise (《…和…》 titles exist).
TITLE_BUNDLE_JOINER = re.compile(r"和|与|及|、")

#: A parenthetical that says whom the whole entry is for: ``《A》及《B》（适用于政府主体）``
#: (for the entry, not only the document next to it).
APPLIES_TO = re.compile(r"^\s*(?:仅)?适用于")
#: A restriction that covers every alternative (``均``), so the whole requirement:
#: ``（均需经公证机构公证及我国驻该国大使馆或领事馆认证）``, ``(范围均需含“互联网诊疗”…``.
COVERS_ALL = re.compile(r"均\s*[需须应要]")

# where a variant opens (text start, after 。；; or a line break), and the verb a subject takes
_SENTENCE_START = r"(?:(?<=^)|(?<=[。；;\n]))\s*"
_PROVIDE = r"(?:需要|需|须)?(?:同时)?(?:提供|提交)"
_SUBJECT = rf"(?P<label>[^，,：:《》“”\"。；;\n]{{2,24}}?)\s*[，,]\s*{_PROVIDE}"

#: A per-variant group at the start of a sentence: ``（供电类）提供…。（燃气类）提供…``,
#: ``(船企)提供…。(港口)提供…``, ``(自营性网约车)提供…``. Two or more make a 1-of-n choice.
VARIANT_LABEL = re.compile(rf"{_SENTENCE_START}[（(](?P<label>[^（）()《》]{{1,12}})[)）]")
#: The same with the label before a colon: ``批发：…；零售：…``, ``非广东省：…\n广东省：…``,
#: ``新闻服务商：…；政府或监管机构：…``, ``经营个人征信业务：…\n经营企业征信业务：…``.
VARIANT_COLON_LABEL = re.compile(rf"{_SENTENCE_START}(?P<label>[^《》：:，,。；;（(“\"\n]{{1,16}})[：:](?!\s*$)")
#: The same with a subject before ``，提供``: ``政府/事业单位，提供《…》…\n非政府/事业单位，提供《…》``;
#: at the start of one entry: ``事业单位主体，需提供《事业单位法人证书》``,
#: ``官方指定的发行单位（一发单位），需提供“…”``.
VARIANT_SUBJECT_LABEL = re.compile(_SENTENCE_START + _SUBJECT)
SUBJECT_LABEL = re.compile(r"^\s*" + _SUBJECT)
#: A subject that provides a nested list: ``保险机构主体提供(⑥选①):`` -> label ``保险机构主体``.
SUBJECT_PROVIDES = re.compile(rf"^\s*(?P<label>[^，,：:《》（()）]{{2,16}}?)\s*{_PROVIDE}\s*$")

#: A header line that opens one alternative scenario column:
#: ``已具备《增值电信业务经营许可证》的场景``, ``《增值电信业务经营许可证》不予受理的场景：``.
SCENARIO_GROUP_HEADER = re.compile(r"的场景\s*[:：]?\s*$")
#: A line that opens a nested list of its own: ``《增值电信业务经营许可证》申请时，所需资质文件如下：``.
#: It is the label of that list, not an entry: the title it names is what the list is for (the
#: applicant of the ``不予受理的场景`` does not hold that licence), not a document of the list.
LIST_LEAD_IN = re.compile(r"如下\s*[:：]\s*$")
#: The catch-all that closes such a list: ``电信主管部门要求提交的其他材料`` (lists of required
#: materials end with "other materials"; what follows belongs to the outer list again).
CATCH_ALL_ENTRY = re.compile(r"其他(?:材料|文件|资料)\s*[；;。]?\s*$")

#: A leading restriction on who may apply: ``仅支持公立医疗机构互联网医院``, ``仅支持 ETC 发行业务，``,
#: ``仅限…``. Kept as a condition of the whole requirement.
LEADING_RESTRICTION = re.compile(r"^\s*(?P<cond>(?:仅支持|仅限|仅适用于)[^，,；;：:（(]*)[，,：:]?")

#: A short label before a colon: ``公立学校：``, ``汽车厂商：``, ``经营个人征信业务：``.
ITEM_LABEL = re.compile(r"^\s*(?P<label>[^《》：:，,。；;（(“\"]{1,16})[：:]")

#: A restriction clause attached to a document, from ``且`` (or ``，并``) to the end of the entry:
#: ``且业务范围必须包含“基金”``, ``，且其中须有“驾驶员培训”项目``, ``且营业执照中包含汽车租赁业务``,
#: ``且经营范围包含：提供出国探亲访友等信息咨询服务``, ``，并文件内容明确为“网络借贷信息中介机构”``,
#: ``，并加盖公司公章或合同专用章``.
CONDITION_CLAUSE = re.compile(r"(?:[，,]\s*)?(?P<cond>(?<![并而])且|(?<=[，,])\s*并(?!且))")

#: A verb before the documents that carries no meaning of its own: ``提供``, ``需提供``.
PROVIDE_VERB = re.compile(rf"^\s*{_PROVIDE}\s*[:：]?")

#: A document title: ``《基金销售业务资格证书》``.
DOCUMENT_TITLE = re.compile(r"《\s*(?P<title>[^《》]+?)\s*》")
#: A title closed by a round bracket, no ``》`` before the next ``《`` or the end:
#: ``《网络文化经营许可证）（适用于秀场类非直播视频…）或《广播电视节目播出机构许可证》``.
MALFORMED_TITLE = re.compile(r"《\s*(?P<title>[^《》（）()]+?)\s*[)）](?=[^》]*(?:《|$))")

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

# Column headers (``pipeline/parsers/headers.py`` reads a header row with these).
#: A category level: ``一级类目 二级类目 三级类目``, ``小程序一级类目``, ``一级分类``, ``主类目 子类目``
#: (the live-streaming whitelists), ``类目``, ``行业``; ``一级类目/主体类型`` is read part by part.
#: ``主`` is level 1 and ``子`` level 2; a bare ``类目``/``行业`` is level 1.
LEVEL_HEADER = re.compile(r"^(?:小程序)?(?:服务)?(?:(?P<level>[一二三123])级|(?P<main>主)|(?P<sub>子))?"
                          r"(?:类目|分类|行业)(?:名称)?$")
#: The qualification column: ``使用微信人脸核身能力所需资质``, ``法务建议的资质文件``, ``资质要求``, ``所需资质``.
QUALIFICATION_HEADER = re.compile(r"资质")
NOTE_HEADER = re.compile(r"^(?:备注|说明)$")
#: A scenario column: ``小程序内容场景``, ``小程序直播场景``, ``直播场景``, ``小程序直播内容场景``; in a
#: category table it says what a category covers, in a scenario table it is the row's content.
SCENARIO_HEADER = re.compile(r"场景$")
#: The requirement column of a scenario table (``小程序内容场景 | 要求 | 接入方案``): bare ``要求``.
CONDITION_HEADER = re.compile(r"^(?:类目)?要求$")
#: The access-method column of a scenario table: ``接入方案``, ``方案``.
SOLUTION_HEADER = re.compile(r"^(?:接入)?方案$")
#: What a category covers, beside its levels in a category table (``一级类目/主体类型 | 二级类目 |
#: 资质要求 | 类目适用范围 | 小程序直播内容场景``) as in a section's key/value table: ``类目适用范围``.
SCOPE_HEADER = re.compile(r"^(?:类目)?适用范围$")
#: A level cell of an eligibility list (a table without a qualification column) may list several
#: categories: ``互联网医院，公立医院``. A 、 may part names too (``基金、信托、保险``) or stand inside
#: one (``证券、期货投资咨询``): it is not split here (``pipeline/reconcile/joined.py`` decides).
ELIGIBILITY_LIST_SEPARATOR = re.compile(r"\s*[，,；;]\s*")

#: Words that tell which capability a page is about.
FACE_WORDS = re.compile(r"人脸核[身验]|人脸识别|人脸验证")
#: ``直播``, and WeChat's live components ``<live-player>``/``<live-pusher>``
LIVE_WORDS = re.compile(r"直播|live-player|live-pusher")

# --- scenario and licence pages ------------------------------------------------------------

#: The access methods Tencent's pages name: ``标准直播+直播标签``, ``小程序·云直播插件`` (also
#: ``小程序云直播插件``), ``微信原生组件标签``. A page's own sentences may add others.
ACCESS_METHOD = re.compile(r"标准直播\s*\+\s*直播标签|小程序\s*·?\s*云直播插件|微信原生组件标签")

#: What Tencent's pages call access through WeChat's own component tags (raw/002 line 31:
#: ``可使用微信原生组件标签 <live-pusher><live-player> 进行接入``): the method of a WeChat page
#: that lists the categories one of those components is open to.
NATIVE_COMPONENT_METHOD = "微信原生组件标签"

# --- what a category table's lead-in says of every row -------------------------------------

#: Words that point at the table below: ``以下``, ``如下``, ``下列`` (``具备以下类目`` names no category).
TABLE_POINTER = re.compile(r"以下|如下|下列")
#: A paragraph that points at the table below it: ``以下类目``, ``如下类目``, ``下列类目``.
TABLE_REFERENCE = re.compile(rf"(?:{TABLE_POINTER.pattern})类目")
#: A lead-in that names the access method of every row of the table below it
#: (tencent-cloud-live-solution-selection 2020-03-23, lines 13 and 57):
#: ``方案一：若您的小程序已具备以下类目，可直接使用 标准直播 + 移动直播 SDK 接入小程序直播，…`` -> ``标准直播 + 移动直播 SDK``;
#: ``方案二：若您的小程序具备以下类目并且直播场景符合类目覆盖范围，可申请小程序·云直播进行接入。`` -> ``小程序·云直播``.
LEAD_IN_METHOD = re.compile(r"(?:以下|如下)类目.*?可(?:直接)?(?:使用|通过|申请)\s*(?P<method>[^，,。；;]+?)\s*(?:进行)?接入")
#: A lead-in saying the table lists the categories a WeChat component is open to, the component
#: being the one its heading names (``#### live-player``, WeChat's component pages 2018):
#: ``暂只针对国内主体如下类目的小程序开放，需要先通过类目审核，再在小程序管理后台，“设置”-“接口设置”中自助开通该组件权限。``
COMPONENT_LEAD_IN = re.compile(r"(?:以下|如下)类目.*?开放.*?该组件")
#: A heading that is a WeChat component's name: ``live-player``, ``live-pusher``, ``<live-player>``.
COMPONENT_HEADING = re.compile(r"^<?(?P<tag>[a-z]+(?:-[a-z]+)+)>?$")
#: A restriction on the account's subject that a lead-in sets for every row of its table, kept as
#: written: ``暂只针对国内主体如下类目的小程序开放`` -> ``只针对国内主体``; ``（只有非个人主体才有以下类目）`` ->
#: ``只有非个人主体`` (the issue's wording; not found in the stored captures).
LEAD_IN_SUBJECT = re.compile(r"(?P<cond>(?:只针对|只有|仅限|仅)\s*[^\s，,。；;（）()“”]{1,8}?主体)")

#: A sentence that names the categories an access method needs, outside any table (the plugin
#: page, tencent-cloud-live-plugin 2020-04-10 line 23 and 2021-08-30 line 41):
#: ``小程序·云直播插件由于需要先满足【电商平台】或【教育】类目场景，…``,
#: ``由于小程序·云直播插件需要先满足 **电商平台** 或 **教育** 类目场景`` (after ``strip_markup``:
#: ``电商平台 或 教育``). Names must be told apart (``【】`` or a spaced ``或``): raw/004 line 1004
#: writes ``需要先满足电商平台或教育类目场景``, which is one name or two.
METHOD_NEEDS_CATEGORIES = re.compile(
    rf"(?P<method>{ACCESS_METHOD.pattern})\s*(?:由于)?\s*需(?:要)?先?(?:满足|具备)\s*(?P<cats>[^，,。；;]+?)\s*类目")

#: Another category the mini-program must also hold, wherever it is written (a note, a callout,
#: a 类目适用范围 cell): ``如提供股票交易服务，需补充：金融业-证券/期货类目`` (raw/001 line 747),
#: ``如提供时政信息服务，需补充“时政信息类目”`` (raw/001 line 66), ``需补充【时政信息】类目`` (raw/002 line 39),
#: ``需补充医疗相关类目`` (raw/001 line 13: no category named, see ``VAGUE_CATEGORY``).
ALSO_REQUIRES = re.compile(r"需补充\s*[:：]?\s*(?P<cats>[^，,。；;：:]+?)\s*类目")
#: Quote marks around a category name in running text: ``“时政信息``, ``【时政信息】``.
CATEGORY_QUOTES = "【】“”\"'「」 "
#: A name that points at a kind of category rather than naming one: ``医疗相关``.
VAGUE_CATEGORY = re.compile(r"(?:相关|有关|之类|等)$")

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

#: A Markdown link, ``[text](url)`` or ``[text](url "title")``; the title may hold parentheses
#: (``"_('小程序')"``). Group 1 is the text, group 2 the target.
MARKDOWN_LINK = re.compile(r'\[([^\]]*)\]\(\s*([^)\s]*)(?:\s+"[^"]*")?\s*\)')

#: A line that is only a link (PDF exports list each page's link targets as bare URLs).
URL_LINE = re.compile(r"^\s*(?:https?://|www\.)\S*\s*$")

#: Punctuation that ends a sentence or an item; a wrapped PDF line never ends with one.
TERMINAL = "。；;！!？?"
