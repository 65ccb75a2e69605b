"""Telegram's ``sendMessage`` over ``urllib``, with ``retry_after`` honoured on 429.

The token is part of the URL Telegram defines (``/bot<token>/sendMessage``), so no message this
module raises or logs ever names the URL: only the API's base address, which holds no secret.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

DEFAULT_API_URL = "https://api.telegram.org"
MAX_TEXT = 4096  # Telegram's limit for a message's text
TIMEOUT_S = 10.0
MAX_ATTEMPTS = 5


class TelegramError(Exception):
    """Telegram refused the message (bad token, unknown chat, malformed text)."""


class TelegramUnauthorized(TelegramError):
    """Telegram refused the bot token (401)."""


class TelegramUnavailable(TelegramError):
    """Telegram did not take the message now (down, 5xx, rate-limited past our time): retry."""


def send(
    api_url: str,
    token: str,
    chat_id: str,
    text: str,
    *,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Send ``text`` (HTML) to ``chat_id``; Telegram's ``result`` on success.

    A 429 answer's ``retry_after`` is waited out when this invocation has time for it
    (``seconds_left``), else :class:`TelegramUnavailable` is raised so Lambda retries the event
    later. Raises :class:`TelegramError` for answers that no retry will change.
    """
    base = api_url.rstrip("/")
    body = json.dumps(
        {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
    ).encode()
    for _ in range(MAX_ATTEMPTS):
        status, answer = _post(f"{base}/bot{token}/sendMessage", body, base)
        if status == 200 and answer.get("ok"):
            return dict(answer.get("result") or {})
        description = str(answer.get("description") or f"HTTP {status}")
        if status == 429:
            wait = float((answer.get("parameters") or {}).get("retry_after") or 1)
            if wait + 1.0 > seconds_left():
                raise TelegramUnavailable(
                    f"Telegram rate-limits this bot for {wait:g} s, longer than this invocation "
                    "has left; failing so Lambda retries the event later"
                )
            sleep(wait)
            continue
        if status >= 500:
            raise TelegramUnavailable(
                f"the Telegram Bot API at {base} answered {status} ({description}); failing so "
                "Lambda retries the event"
            )
        if status == 401:
            raise TelegramUnauthorized(
                "Telegram refused the bot token (401 Unauthorized): store the right one with "
                "`sklambda alerts telegram NAME --chat-id ID --token-from-stdin`"
            )
        raise TelegramError(f"Telegram refused the message ({status}: {description})")
    raise TelegramUnavailable(
        f"Telegram kept rate-limiting after {MAX_ATTEMPTS} attempts; failing so Lambda retries"
    )


def _post(url: str, body: bytes, base: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise TelegramUnavailable(
            f"the Telegram Bot API at {base} did not answer ({reason}); failing so Lambda "
            "retries the event"
        ) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
