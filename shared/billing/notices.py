"""Billing mail: a payment failed (fix the payment method before the grace period ends), and
the paid plan ended after the final failure. In the owner's language (Korean, English,
Japanese, Chinese; English otherwise), plain text and HTML, linking the billing page that
opens the provider's portal."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from string import Template

from shared.domain.billing.changes import Notice
from shared.ports.notifier import Message

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "payment_failed": (
            "Your Tale payment did not go through",
            "We could not collect your payment of $amount. Your plan and its credits stay "
            "until $until while the payment is retried. Please update your payment method: "
            "$link",
        ),
        "downgraded": (
            "Your Tale plan is now the free plan",
            "Your payments could not be collected, so your subscription has ended and your "
            "account is on the free plan. Credits you already have stay yours. You can choose "
            "a plan again at any time: $link",
        ),
    },
    "ko": {
        "payment_failed": (
            "Tale 결제가 완료되지 않았습니다",
            "$amount 결제를 처리하지 못했습니다. 결제를 다시 시도하는 동안 $until까지 현재 "
            "요금제와 크레딧이 유지됩니다. 결제 수단을 업데이트해 주세요: $link",
        ),
        "downgraded": (
            "Tale 요금제가 무료 요금제로 변경되었습니다",
            "결제가 이루어지지 않아 구독이 종료되었고 계정이 무료 요금제로 변경되었습니다. "
            "이미 받은 크레딧은 그대로 사용할 수 있습니다. 언제든 다시 요금제를 선택할 수 "
            "있습니다: $link",
        ),
    },
    "ja": {
        "payment_failed": (
            "Tale のお支払いが完了しませんでした",
            "$amount のお支払いを処理できませんでした。再試行の間、$until まで現在のプランと"
            "クレジットはそのままです。お支払い方法を更新してください: $link",
        ),
        "downgraded": (
            "Tale のプランが無料プランになりました",
            "お支払いを回収できなかったため、サブスクリプションは終了し、アカウントは無料プラン"
            "になりました。お持ちのクレジットはそのまま使えます。いつでもプランを選び直せます: "
            "$link",
        ),
    },
    "zh": {
        "payment_failed": (
            "您的 Tale 付款未成功",
            "我们未能收取 $amount 的款项。在重试付款期间，您的套餐和点数将保留至 $until。"
            "请更新您的付款方式：$link",
        ),
        "downgraded": (
            "您的 Tale 套餐已变为免费套餐",
            "由于无法收取款项，您的订阅已结束，账户已转为免费套餐。您已有的点数仍可使用。"
            "您可以随时重新选择套餐：$link",
        ),
    },
}


def _amount(notice: Notice) -> str:
    value = notice.amount / 100
    code = notice.currency.upper()
    if code in ("KRW", "JPY"):
        value = float(notice.amount)  # zero-decimal currencies
    return f"{value:,.2f} {code}" if value % 1 else f"{value:,.0f} {code}"


def message(key: str, to: str, language: str, notice: Notice, link: str) -> Message:
    lang = language if language in _TEXTS else "en"
    subject, body = _TEXTS[lang][notice.kind]
    until = datetime.fromtimestamp(notice.until or 0, UTC).strftime("%Y-%m-%d")
    values = {"amount": _amount(notice), "until": until, "link": link}
    text = Template(body).safe_substitute(values)
    html_body = escape(Template(body).safe_substitute({**values, "link": "LINK"})).replace(
        "LINK", f'<a href="{escape(link)}">{escape(link)}</a>'
    )
    html = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{escape(subject)}</title><body><p>{html_body}</p></body></html>"
    )
    return Message(key=key, to=to, subject=subject, text=text + "\n", html=html, language=lang)
