"""Stand-ins on 127.0.0.1 for the two services the notifier talks to: Telegram and SSM.

The notifier package is proven against them before it is written (as every package is proven),
and the tests use them too. Both are real HTTP servers in a background thread:

- :class:`TelegramStandIn` answers ``POST /bot<token>/sendMessage`` as the Bot API does — with
  Telegram's own checks (text 1–4,096 characters, HTML that parses with the tags Telegram
  allows) — records each message, and can be told to rate-limit (429 with ``retry_after``);
- :class:`ParameterStandIn` answers SSM's ``GetParameter`` for a few SecureStrings, and refuses
  a request that is not SigV4-signed for SSM.
"""

from __future__ import annotations

import html.parser
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MAX_TEXT = 4096
# The tags Telegram's HTML parse mode accepts (Bot API, "Formatting options").
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}
)


@dataclass(frozen=True)
class SentMessage:
    token: str
    chat_id: str
    text: str
    parse_mode: str | None


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 whose requests go to ``self.answer``."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status, body = outer.answer(self.path, dict(self.headers), self.rfile.read(length))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the path holds the bot token

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _TelegramHtml(html.parser.HTMLParser):
    """Checks text the way Telegram parses ``parse_mode=HTML`` (unknown or unclosed tags fail)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problem = self.problem or f'unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = self.problem or f"can't find end tag corresponding to start tag {tag}"
            return
        self.open.pop()


def html_problem(text: str) -> str:
    """Why Telegram would refuse ``text`` in HTML mode, or ``""``."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.problem:
        return parser.problem
    if parser.open:
        return f"can't find end tag corresponding to start tag {parser.open[-1]}"
    return ""


class TelegramStandIn(_Server):
    """The Telegram Bot API's ``sendMessage``, on loopback.

    Parameters
    ----------
    token:
        The one bot token accepted (others get 401, as from Telegram); None accepts any.
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.messages: list[SentMessage] = []
        self.requests = 0
        self._rate_limits: list[int] = []

    def rate_limit(self, times: int, retry_after: int) -> None:
        """Answer the next ``times`` requests with 429 and ``retry_after`` seconds."""
        with self.lock:
            self._rate_limits.extend([retry_after] * times)

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
            retry = self._rate_limits.pop(0) if self._rate_limits else None
        prefix, _, method = path.rpartition("/")
        token = prefix.removeprefix("/bot")
        if not prefix.startswith("/bot") or method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if self.token is not None and token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if retry is not None:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry}",
                "parameters": {"retry_after": retry},
            }
        try:
            params = json.loads(body)
        except ValueError:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: bad JSON"}
        text, chat = params.get("text"), params.get("chat_id")
        problem = ""
        if not chat:
            problem = "chat_id is empty"
        elif not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            problem = "message text is empty" if not text else "message is too long"
        elif params.get("parse_mode") == "HTML":
            problem = html_problem(text) and f"can't parse entities: {html_problem(text)}"
        if problem:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
        with self.lock:
            self.messages.append(SentMessage(token, str(chat), text, params.get("parse_mode")))
            number = len(self.messages)
        return 200, {"ok": True, "result": {"message_id": number, "text": text}}


class ParameterStandIn(_Server):
    """SSM Parameter Store's ``GetParameter`` for the SecureStrings given, on loopback."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__()
        self.values = dict(values)
        self.calls = 0

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        lower = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            self.calls += 1
        auth = lower.get("authorization", "")
        if not (auth.startswith("AWS4-HMAC-SHA256 Credential=") and "/ssm/aws4_request" in auth):
            return 400, {"__type": "MissingAuthenticationTokenException", "message": "unsigned"}
        if lower.get("x-amz-target") != "AmazonSSM.GetParameter":
            return 400, {"__type": "InvalidAction", "message": lower.get("x-amz-target", "")}
        name = json.loads(body or b"{}").get("Name")
        if name not in self.values:
            return 400, {"__type": "ParameterNotFound", "message": f"{name} not found"}
        return 200, {
            "Parameter": {"Name": name, "Type": "SecureString", "Value": self.values[name]}
        }
