"""All pages under one Router: language and session context, CSRF on every form, HTML error pages.

The JSON API (bearer tokens) is outside this router, so CSRF and the session cookie never touch it.
Every context contributes its ``views.ROUTES``; the staff pages plug in the same way.
"""

from __future__ import annotations

from typing import Sequence

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from pb.core.errors import DomainError
from pb.core.guard_chain import chain_guards
from pb.web import session
from pb.web.context import SignInRequired, Viewer, WebContextMiddleware, provide_viewer
from pb.web.i18n import _

CSRF_FIELD = "_csrf_token"  # the form field Litestar's CSRF middleware reads


class WebCSRFMiddleware:
    """Litestar's CSRF middleware, configured on first use from the app's settings (secret, https)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            settings = scope["litestar_app"].state.settings
            self._inner = CSRFMiddleware(self.app, CSRFConfig(
                secret=session.csrf_secret(settings.secrets_dir), cookie_name=session.CSRF_COOKIE,
                cookie_httponly=True, cookie_samesite="lax", header_name="x-csrftoken",
                cookie_secure=settings.public_url.startswith("https://"),
            ))
        await self._inner(scope, receive, send)


def _error_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    titles = {400: _("Bad request"), 401: _("Sign in first"), 403: _("Not allowed"), 404: _("Page not found"),
              405: _("Not allowed"), 409: _("Not possible now"), 422: _("Please check your input"),
              429: _("Too many requests"), 503: _("Server busy")}
    return Template("error.html", status_code=status, headers=headers, context={
        "viewer": request.scope.get("state", {}).get("pb_viewer"), "status": status,
        "title": titles.get(status, _("Something went wrong")), "detail": detail,
    })


def _domain_error(request: Request, error: DomainError) -> Response:
    messages = {404: _("There is no such page here, or it is not visible to you."),
                403: _("You may not do this."),
                429: _("Too many attempts from your address; wait a minute and try again."),
                503: _("The server is busy; try again in a few seconds.")}
    return _error_page(request, error.status_code, messages.get(error.status_code, _("This is not possible now.")),
                       error.headers)


def _http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == 403 and "CSRF" in str(error.detail):
        detail = _("This form has expired or did not come from this site. Go back, reload the page and try again.")
    elif error.status_code == 404:
        detail = _("There is no such page here, or it is not visible to you.")
    else:
        detail = _("The request could not be handled.")
    return _error_page(request, error.status_code, detail)


def _sign_in(request: Request, error: SignInRequired) -> Response:
    viewer: Viewer = request.scope["state"]["pb_viewer"]
    return Redirect(viewer.sign_in_url, status_code=303)


def build_router(first_guards: Sequence[Guard] = ()) -> Router:
    """The pages' router; every page runs ``first_guards`` (the app-wide checks) before its own."""
    from pb.accounts.views import ROUTES as accounts
    from pb.grants.views import ROUTES as grants
    from pb.proposals.views import ROUTES as proposals
    from pb.results.views import ROUTES as results
    from pb.rounds.views import ROUTES as rounds
    from pb.voting.views import ROUTES as voting
    from pb.web.staff import ROUTES as staff
    from pb.web.views import ROUTES as web

    handlers = [*web, *accounts, *rounds, *proposals, *voting, *results, *grants, *staff]
    chain_guards(handlers, first=first_guards)
    return Router(
        path="/",
        route_handlers=handlers,
        middleware=[DefineMiddleware(WebContextMiddleware), DefineMiddleware(WebCSRFMiddleware)],
        dependencies={"viewer": Provide(provide_viewer, sync_to_thread=False)},
        exception_handlers={DomainError: _domain_error, HTTPException: _http_error, SignInRequired: _sign_in},
        opt={"public": True},
        include_in_schema=False,
    )


