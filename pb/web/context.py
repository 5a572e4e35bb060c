"""Per-request context of every page: the reader's language and who is signed in.

``WebContextMiddleware`` runs in front of every page: it picks the language (cookie, else
Accept-Language) into the i18n ContextVar and loads the signed-in user from the session cookie.
Views receive it as the ``viewer`` dependency; pages that need a signed-in user call
``viewer.require()``, which sends a visitor to the sign-in page and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from pb.accounts import repo as accounts_repo
from pb.accounts.domain import Actor
from pb.web import i18n, session

VIEWER_KEY = "pb_viewer"


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in user; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the page (user_id None: a visitor)."""

    user_id: int | None
    display_name: str
    language: str
    path: str

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def require(self) -> int:
        if self.user_id is None:
            raise SignInRequired(self.path)
        return self.user_id

    async def actor(self, organisation_id: int) -> Actor | None:
        """This user's membership in an organisation (None for visitors and non-members)."""
        if self.user_id is None:
            return None
        return await accounts_repo.actor(self.user_id, organisation_id)

    @property
    def sign_in_url(self) -> str:
        return "/login?next=" + quote(self.path, safe="/")


class WebContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request = Request(scope)
        language = i18n.negotiate(request.cookies.get(i18n.LANGUAGE_COOKIE), request.headers.get("accept-language"))
        i18n.set_language(language)
        user_id = await session.user_of(request.cookies.get(session.SESSION_COOKIE))
        user = await accounts_repo.user_by_id(user_id) if user_id is not None else None
        if user is not None and not user.is_active:
            user = None
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        scope.setdefault("state", {})[VIEWER_KEY] = Viewer(
            user.id if user else None, user.display_name if user else "", language, path)
        await self.app(scope, receive, send)


def provide_viewer(request: Request) -> Viewer:
    return request.scope["state"][VIEWER_KEY]
