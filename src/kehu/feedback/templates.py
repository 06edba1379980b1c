"""The ready survey templates, each in English and Chinese (Simplified), as data.

A template is a :class:`~kehu.feedback.definition.SurveyDefinition`; creating a survey from one
copies it (:func:`kehu.feedback.surveys.create_survey`), naming the competitors of its
competitor-rating questions. The texts are part of the definition, not catalog messages: a
business edits them as it edits its own questions.

Sources of the wordings
-----------------------
- ``nps``: Reichheld, F. F. (2003), "The one number you need to grow", Harvard Business Review
  81(12): "How likely is it that you would recommend [company] to a friend or colleague?", 0-10.
- ``csat``: the desk's after-ticket question, 1 (very dissatisfied) .. 5 (very satisfied); CSAT is
  the share of 4 and 5 answers (kehu.analytics.satisfaction).
- ``ces``: Customer Effort Score 2.0, the agreement statement "[The company] made it easy for me
  to handle my issue", 1 (strongly disagree) .. 7 (strongly agree): Dixon, M., Freeman, K. &
  Toman, N. (2010), "Stop trying to delight your customers", Harvard Business Review 88(7/8)
  (the first, 1-5 effort question); the 7-point agreement wording of CEB's CES 2.0 as given in
  Dixon, Toman & DeLisi (2013), "The Effortless Experience", Portfolio/Penguin.
- ``servqual``: the 22 items of Parasuraman, A., Berry, L. L. & Zeithaml, V. A. (1991),
  "Refinement and reassessment of the SERVQUAL scale", Journal of Retailing 67(4), 420-450, in
  their positively worded form (the 1991 revision replaced the 1988 scale's negatively worded
  items), numbered as there: tangibles 1-4, reliability 5-9, responsiveness 10-13, assurance
  14-17, empathy 18-22; each as one statement with an expectation and a perception answer on
  1-7 (strongly disagree .. strongly agree), and the respondents' importance points over the
  five dimensions (the paper's point-allocation question). "XYZ" of the paper is "the company".
- ``share_of_wallet``: the share of the customer's category spending that goes to us, 0-100 %
  (DOMAIN.md: 钱包份额).
- ``service_qualities``: kehu's five service qualities of the seeds (信度 promise kept, 效度
  speed, 精度 expertise, 态度 attitude, 法度 standards), one expectation/perception pair each,
  in SERVQUAL's dimensions as ../shared/DOMAIN.md maps them (reliability, responsiveness,
  assurance, empathy, tangibles), with importance points over the five.
- ``customer_value``: Kotler's customer delivered value (顾客让渡价值): total customer value
  (product, service, personnel, image) against total customer cost (money, time, energy,
  psychic), and the customer value analysis of attributes' importance and our and competitors'
  performance, price included (Kotler & Keller, "Marketing Management", ch. "Creating customer
  value, satisfaction and loyalty").
- ``ecsi``: the 24 indicators of the ECSI mobile-phone questionnaire on 1-10, ids equal to the
  columns of the mobi data: Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M. & Lauro, C.
  (2005), "PLS path modeling", Computational Statistics & Data Analysis 48, 159-205; wordings
  as documented with the data in the R packages semPLS and seminr (``mobi``); "your mobile phone
  provider" is "the company" here.
"""

from __future__ import annotations

from typing import Any

from kehu.core.i18n import N_
from kehu.feedback.definition import SurveyDefinition

__all__ = ["TEMPLATES", "TEMPLATE_NAMES", "template"]


def _t(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-Hans": zh}


def _q(qid: str, kind: str, en: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"id": qid, "type": kind, "text": _t(en, zh), **extra}


def _options(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"id": oid, "text": _t(en, zh)} for oid, en, zh in pairs]


_WHY = _q(
    "why",
    "free_text",
    "What is the most important reason for your score?",
    "您给出这个分数的最主要原因是什么？",
)
_COMMENT = _q(
    "comment",
    "free_text",
    "Is there anything you would like to tell us?",
    "您还有什么想告诉我们的吗？",
)

NPS = {
    "title": _t("Would you recommend us?", "您会推荐我们吗？"),
    "questions": [
        _q(
            "recommend",
            "nps",
            "How likely is it that you would recommend the company to a friend or colleague?",
            "您向朋友或同事推荐本公司的可能性有多大？",
            required=True,
        ),
        _WHY,
    ],
}

CSAT = {
    "title": _t("How did we do?", "我们做得怎么样？"),
    "questions": [
        _q(
            "satisfaction",
            "csat",
            "How satisfied are you with how we handled your request?",
            "您对我们处理您的请求的方式满意吗？",
            required=True,
        ),
        _COMMENT,
    ],
}

CES = {
    "title": _t("How easy was it?", "办理是否轻松？"),
    "questions": [
        _q(
            "effort",
            "ces",
            "To what extent do you agree with the following statement: "
            "The company made it easy for me to handle my issue.",
            "您在多大程度上同意以下说法：本公司让我轻松地解决了我的问题。",
            required=True,
        ),
        _COMMENT,
    ],
}

_SERVQUAL_DIMENSIONS = [
    {"id": "tangibles", "name": _t("Tangibles", "有形性")},
    {"id": "reliability", "name": _t("Reliability", "可靠性")},
    {"id": "responsiveness", "name": _t("Responsiveness", "响应性")},
    {"id": "assurance", "name": _t("Assurance", "保证性")},
    {"id": "empathy", "name": _t("Empathy", "移情性")},
]

# (dimension, English, Chinese): Parasuraman, Berry & Zeithaml (1991), items 1-22
_SERVQUAL_ITEMS = [
    ("tangibles", "The company has modern-looking equipment.", "本公司拥有现代化的设备。"),
    (
        "tangibles",
        "The company's physical facilities are visually appealing.",
        "本公司的设施外观吸引人。",
    ),
    ("tangibles", "The company's employees are neat-appearing.", "本公司的员工衣着整洁。"),
    (
        "tangibles",
        "Materials associated with the service (such as pamphlets or statements) are visually "
        "appealing at the company.",
        "本公司与服务相关的资料（如宣传册或账单）外观吸引人。",
    ),
    (
        "reliability",
        "When the company promises to do something by a certain time, it does so.",
        "本公司承诺在某个时间做某事时，会按时做到。",
    ),
    (
        "reliability",
        "When you have a problem, the company shows a sincere interest in solving it.",
        "当您遇到问题时，本公司真诚地关心并设法解决。",
    ),
    (
        "reliability",
        "The company performs the service right the first time.",
        "本公司第一次就把服务做好。",
    ),
    (
        "reliability",
        "The company provides its services at the time it promises to do so.",
        "本公司在承诺的时间提供服务。",
    ),
    ("reliability", "The company insists on error-free records.", "本公司坚持记录准确无误。"),
    (
        "responsiveness",
        "Employees of the company tell you exactly when services will be performed.",
        "本公司的员工会确切告诉您服务何时进行。",
    ),
    (
        "responsiveness",
        "Employees of the company give you prompt service.",
        "本公司的员工为您提供及时的服务。",
    ),
    (
        "responsiveness",
        "Employees of the company are always willing to help you.",
        "本公司的员工总是乐意帮助您。",
    ),
    (
        "responsiveness",
        "Employees of the company are never too busy to respond to your requests.",
        "本公司的员工从不会因为太忙而不回应您的要求。",
    ),
    (
        "assurance",
        "The behaviour of employees of the company instils confidence in you.",
        "本公司员工的举止让您有信心。",
    ),
    (
        "assurance",
        "You feel safe in your transactions with the company.",
        "您在与本公司的交易中感到放心。",
    ),
    (
        "assurance",
        "Employees of the company are consistently courteous with you.",
        "本公司的员工始终对您彬彬有礼。",
    ),
    (
        "assurance",
        "Employees of the company have the knowledge to answer your questions.",
        "本公司的员工具备回答您问题的知识。",
    ),
    ("empathy", "The company gives you individual attention.", "本公司给予您个别的关注。"),
    (
        "empathy",
        "The company has operating hours convenient to all its customers.",
        "本公司的营业时间对所有客户都方便。",
    ),
    (
        "empathy",
        "The company has employees who give you personal attention.",
        "本公司有员工给予您个人化的关照。",
    ),
    ("empathy", "The company has your best interests at heart.", "本公司把您的利益放在心上。"),
    (
        "empathy",
        "The employees of the company understand your specific needs.",
        "本公司的员工了解您的具体需求。",
    ),
]

_IMPORTANCE_TEXT = (
    "Please split 100 points among the following according to how important each is to you.",
    "请根据以下各项对您的重要程度，将100分分配给它们。",
)

SERVQUAL = {
    "title": _t("Service quality (SERVQUAL)", "服务质量（SERVQUAL）"),
    "intro": _t(
        "For each statement, tell us first what you expect of an excellent company of this "
        "kind, then how this company performs (1 = strongly disagree, 7 = strongly agree).",
        "对于每一项说法，请先告诉我们您对此类优秀公司的期望，再评价本公司的实际表现"
        "（1 = 非常不同意，7 = 非常同意）。",
    ),
    "dimensions": _SERVQUAL_DIMENSIONS,
    "questions": [
        _q(f"servqual_q{number}", "servqual_pair", en, zh, dimension=dimension, required=True)
        for number, (dimension, en, zh) in enumerate(_SERVQUAL_ITEMS, start=1)
    ]
    + [
        _q(
            "servqual_importance",
            "importance_points",
            *_IMPORTANCE_TEXT,
            required=True,
            options=_options(
                (
                    "tangibles",
                    "The appearance of the physical facilities, equipment, personnel and "
                    "communication materials",
                    "实体设施、设备、人员和宣传资料的外观",
                ),
                (
                    "reliability",
                    "The ability to perform the promised service dependably and accurately",
                    "可靠、准确地履行服务承诺的能力",
                ),
                (
                    "responsiveness",
                    "The willingness to help customers and provide prompt service",
                    "帮助客户并提供及时服务的意愿",
                ),
                (
                    "assurance",
                    "The knowledge and courtesy of employees and their ability to convey trust "
                    "and confidence",
                    "员工的知识、礼貌以及让人信任和放心的能力",
                ),
                (
                    "empathy",
                    "The caring, individualised attention the company provides its customers",
                    "公司给予客户的关心和个性化关注",
                ),
            ),
        )
    ],
}

SHARE_OF_WALLET = {
    "title": _t("Your spending with us", "您在我们这里的消费"),
    "questions": [
        _q(
            "share_of_wallet",
            "rating",
            "Of everything you spend on this category of products and services, what share "
            "(in per cent) goes to us?",
            "在您用于此类产品和服务的全部支出中，有多大比例（百分比）花在了我们这里？",
            required=True,
            min=0,
            max=100,
        )
    ],
}

SERVICE_QUALITIES = {
    "title": _t("Our service qualities", "我们的服务品质"),
    "intro": _t(
        "For each statement, tell us what you expect and how we did "
        "(1 = strongly disagree, 7 = strongly agree).",
        "对于每一项说法，请告诉我们您的期望以及我们的实际表现（1 = 非常不同意，7 = 非常同意）。",
    ),
    "dimensions": _SERVQUAL_DIMENSIONS,
    "questions": [
        _q(
            "promise_kept",
            "servqual_pair",
            "The company keeps its promises to you.",
            "本公司信守对您的承诺（信度）。",
            dimension="reliability",
            required=True,
        ),
        _q(
            "speed",
            "servqual_pair",
            "The company responds to you quickly and efficiently.",
            "本公司对您的响应迅速、高效（效度）。",
            dimension="responsiveness",
            required=True,
        ),
        _q(
            "expertise",
            "servqual_pair",
            "The company's staff have the professional expertise to solve your problem.",
            "本公司员工具备解决您问题的专业能力（精度）。",
            dimension="assurance",
            required=True,
        ),
        _q(
            "attitude",
            "servqual_pair",
            "The company's staff pay attention to you as a person.",
            "本公司员工关注您个人的感受（态度）。",
            dimension="empathy",
            required=True,
        ),
        _q(
            "standards",
            "servqual_pair",
            "The company meets your own standard of good service, down to the visible details.",
            "本公司在可见的细节上达到您心目中好服务的标准（法度）。",
            dimension="tangibles",
            required=True,
        ),
        _q(
            "qualities_importance",
            "importance_points",
            *_IMPORTANCE_TEXT,
            required=True,
            options=_options(
                ("promise_kept", "Promises kept", "信守承诺"),
                ("speed", "Speed of response", "响应速度"),
                ("expertise", "Expertise", "专业能力"),
                ("attitude", "Attention to you", "服务态度"),
                ("standards", "Standards and details", "标准与细节"),
            ),
        ),
    ],
}

_VALUE_ATTRIBUTES = (
    ("product", "The products", "产品"),
    ("service", "The service", "服务"),
    ("personnel", "The staff", "人员"),
    ("image", "The company's image", "形象"),
)

CUSTOMER_VALUE = {
    "title": _t("The value you get from us", "您从我们这里获得的价值"),
    "dimensions": [
        {"id": "customer_value", "name": _t("Total customer value", "顾客总价值")},
        {"id": "customer_cost", "name": _t("Total customer cost", "顾客总成本")},
    ],
    "questions": [
        _q(
            "value_importance",
            "importance_points",
            *_IMPORTANCE_TEXT,
            dimension="customer_value",
            required=True,
            options=_options(*_VALUE_ATTRIBUTES, ("price", "The price", "价格")),
        ),
        _q(
            "value_performance",
            "competitor_rating",
            "How do we and the other suppliers you know perform on each of these "
            "(1 = very poor, 10 = excellent; for the price: 10 = very good value for money)?",
            "我们以及您了解的其他供应商在以下各方面表现如何（1 = 非常差，10 = 非常好；"
            "价格一项：10 = 非常物有所值）？",
            dimension="customer_value",
            required=True,
            options=_options(*_VALUE_ATTRIBUTES, ("price", "The price", "价格")),
            min=1,
            max=10,
        ),
        _q(
            "cost_money",
            "rating",
            "How much money did buying from us cost you, all in (1 = very little, 10 = very much)?",
            "从我们这里购买，总共花费了您多少金钱（1 = 很少，10 = 很多）？",
            dimension="customer_cost",
            min=1,
            max=10,
        ),
        _q(
            "cost_time",
            "rating",
            "How much time did it cost you (1 = very little, 10 = very much)?",
            "这花费了您多少时间（1 = 很少，10 = 很多）？",
            dimension="customer_cost",
            min=1,
            max=10,
        ),
        _q(
            "cost_energy",
            "rating",
            "How much effort and energy did it cost you (1 = very little, 10 = very much)?",
            "这耗费了您多少精力（1 = 很少，10 = 很多）？",
            dimension="customer_cost",
            min=1,
            max=10,
        ),
        _q(
            "cost_worry",
            "rating",
            "How much worry or uncertainty did it cost you (1 = very little, 10 = very much)?",
            "这给您带来了多少担忧或不确定感（1 = 很少，10 = 很多）？",
            dimension="customer_cost",
            min=1,
            max=10,
        ),
    ],
}

# (id, dimension, English, Chinese): Tenenhaus et al. (2005), the mobi questionnaire
_ECSI_ITEMS = [
    ("IMAG1", "image", "It can be trusted in what it says and does.", "它言行可信。"),
    ("IMAG2", "image", "It is stable and firmly established.", "它稳定且根基牢固。"),
    ("IMAG3", "image", "It makes a social contribution to society.", "它为社会作出贡献。"),
    ("IMAG4", "image", "It is concerned with its customers.", "它关心客户。"),
    ("IMAG5", "image", "It is innovative and forward looking.", "它富有创新精神并着眼未来。"),
    (
        "CUEX1",
        "expectation",
        "Your expectations of the overall quality of the company at the moment you became its "
        "customer.",
        "在您成为本公司客户时，您对其整体质量的期望。",
    ),
    (
        "CUEX2",
        "expectation",
        "Your expectations of the company providing products and services that meet your "
        "personal needs.",
        "您对本公司提供满足您个人需求的产品和服务的期望。",
    ),
    (
        "CUEX3",
        "expectation",
        "How often did you expect that things could go wrong at the company?",
        "您预期本公司出差错的频率如何？",
    ),
    ("PERQ1", "quality", "The overall perceived quality.", "整体感知质量。"),
    ("PERQ2", "quality", "The technical quality of the network.", "网络的技术质量。"),
    (
        "PERQ3",
        "quality",
        "The customer service and personal advice offered.",
        "所提供的客户服务和个人建议。",
    ),
    ("PERQ4", "quality", "The quality of the services you use.", "您所使用服务的质量。"),
    ("PERQ5", "quality", "The range of services and products offered.", "所提供服务和产品的范围。"),
    (
        "PERQ6",
        "quality",
        "The reliability and accuracy of the products and services provided.",
        "所提供产品和服务的可靠性与准确性。",
    ),
    (
        "PERQ7",
        "quality",
        "The clarity and transparency of the information provided.",
        "所提供信息的清晰度和透明度。",
    ),
    (
        "PERV1",
        "value",
        "Given the quality of the products and services offered, how would you rate the fees "
        "and prices that you pay for them?",
        "考虑到所提供产品和服务的质量，您如何评价您为此支付的费用和价格？",
    ),
    (
        "PERV2",
        "value",
        "Given the fees and prices that you pay, how would you rate the quality of the products "
        "and services offered?",
        "考虑到您支付的费用和价格，您如何评价所提供产品和服务的质量？",
    ),
    ("CUSA1", "satisfaction", "Your overall satisfaction.", "您的总体满意度。"),
    ("CUSA2", "satisfaction", "The fulfilment of your expectations.", "您的期望得到满足的程度。"),
    (
        "CUSA3",
        "satisfaction",
        "How well do you think the company compares with your ideal company of this kind?",
        "与您心目中理想的此类公司相比，您认为本公司如何？",
    ),
    (
        "CUSCO",
        "complaints",
        "If you complained last year: how well was your most recent complaint handled? If not: "
        "imagine you complain about poor quality of service or product; to what extent do you "
        "think the company would care about your complaint?",
        "如果您去年投诉过：您最近一次投诉处理得如何？如果没有：假设您因服务或产品质量差而投诉，"
        "您认为本公司会在多大程度上重视您的投诉？",
    ),
    (
        "CUSL1",
        "loyalty",
        "If you had to choose a new provider, how likely is it that you would choose the "
        "company again?",
        "如果您需要选择新的供应商，您再次选择本公司的可能性有多大？",
    ),
    (
        "CUSL2",
        "loyalty",
        "Suppose other providers lower their fees and prices but the company stays at today's "
        "level: at which difference would you choose another provider (1 = already at a small "
        "difference, 10 = never)?",
        "假设其他供应商降低了费用和价格，而本公司保持现有水平：差距达到多少时您会选择其他供应商"
        "（1 = 差距很小时就会，10 = 永远不会）？",
    ),
    (
        "CUSL3",
        "loyalty",
        "If a friend or colleague asked you for advice, how likely is it that you would "
        "recommend the company?",
        "如果朋友或同事向您征求意见，您推荐本公司的可能性有多大？",
    ),
]

ECSI = {
    "title": _t("Customer satisfaction (ECSI)", "客户满意度（ECSI）"),
    "intro": _t(
        "Please rate each statement from 1 (very poor, very unlikely) to 10 (excellent, very "
        "likely).",
        "请对每一项打分：1（非常差、非常不可能）到10（非常好、非常可能）。",
    ),
    "dimensions": [
        {"id": "image", "name": _t("Image", "形象")},
        {"id": "expectation", "name": _t("Customer expectations", "客户期望")},
        {"id": "quality", "name": _t("Perceived quality", "感知质量")},
        {"id": "value", "name": _t("Perceived value", "感知价值")},
        {"id": "satisfaction", "name": _t("Satisfaction", "满意度")},
        {"id": "complaints", "name": _t("Complaints", "投诉")},
        {"id": "loyalty", "name": _t("Loyalty", "忠诚度")},
    ],
    "questions": [
        _q(qid, "rating", en, zh, dimension=dimension, required=True, min=1, max=10)
        for qid, dimension, en, zh in _ECSI_ITEMS
    ],
}

#: The templates by key, as definitions' JSON.
TEMPLATES: dict[str, dict[str, Any]] = {
    "nps": NPS,
    "csat": CSAT,
    "ces": CES,
    "servqual": SERVQUAL,
    "share_of_wallet": SHARE_OF_WALLET,
    "service_qualities": SERVICE_QUALITIES,
    "customer_value": CUSTOMER_VALUE,
    "ecsi": ECSI,
}

#: What each template is, for lists (catalog messages).
TEMPLATE_NAMES: dict[str, str] = {
    "nps": N_("Net Promoter Score (NPS)"),
    "csat": N_("Customer satisfaction (CSAT)"),
    "ces": N_("Customer Effort Score (CES 2.0)"),
    "servqual": N_("SERVQUAL: the 22 items in five dimensions"),
    "share_of_wallet": N_("Share of wallet"),
    "service_qualities": N_("The five service qualities"),
    "customer_value": N_("Customer value against competitors"),
    "ecsi": N_("European Customer Satisfaction Index (ECSI)"),
}


def template(key: str) -> SurveyDefinition:
    """The template ``key`` as a definition (``KeyError`` for an unknown key)."""
    return SurveyDefinition.model_validate(TEMPLATES[key])
