"""Pages for accounts: create an account, sign in and sign out (browser sessions, CSRF-protected)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from pb.accounts import service
from pb.accounts.schemas import LogIn, SignUp
from pb.core.errors import Conflict, Invalid, Unauthorized
from pb.core.ratelimit import RateLimiter, rate_limited
from pb.web import session
from pb.web.context import Viewer
from pb.web.forms import Form, check_struct
from pb.web.i18n import _
from pb.web.views import safe_next

def _labels() -> dict[str, str]:
    return {"email": _("Email address"), "password": _("Password"), "display_name": _("Your name")}


def _page(template: str, viewer: Viewer, values: dict[str, Any], errors: dict[str, str], next_path: str,
          status: int = 200) -> Template:
    values = {k: v for k, v in values.items() if k != "password"}  # a password is never sent back
    return Template(template, status_code=status, context={
        "viewer": viewer, "values": values, "errors": errors, "labels": _labels(), "next": next_path})


async def _signed_in(request: Request, user_id: int, next_path: str) -> Redirect:
    token = await session.start(user_id)
    response = Redirect(safe_next(next_path, "/me"), status_code=303)
    session.set_session_cookie(response, request, token)
    return response


@get("/signup")
async def sign_up_page(viewer: NamedDependency[Viewer], next: FromQuery[str] = "/me") -> Template:
    return _page("signup.html", viewer, {}, {}, safe_next(next, "/me"))


@post("/signup", guards=[rate_limited("sign-up")])
async def sign_up(request: Request, viewer: NamedDependency[Viewer], data: Form) -> Template | Redirect:
    next_path = safe_next(data.get("next"), "/me")
    values = {key: str(data.get(key, "")).strip() for key in ("email", "display_name")}
    values["password"] = str(data.get("password", ""))
    form, errors = check_struct(SignUp, {k: v for k, v in values.items() if v})
    if form is not None and not errors:
        try:  # the password rule is the service's (the API's sign-up applies the same one)
            user_id = await service.sign_up(form.email, form.password, form.display_name)
        except Conflict:
            errors["email"] = _("An account with this email address already exists. Sign in instead.")
        except Invalid:
            errors["password"] = _("Choose a stronger password: at least 10 characters, not your email address "
                                   "or name, and hard to guess (a few unrelated words work well).")
        else:
            return await _signed_in(request, user_id, next_path)
    return _page("signup.html", viewer, values, errors, next_path, status=422)


@get("/login")
async def log_in_page(viewer: NamedDependency[Viewer], next: FromQuery[str] = "/me") -> Template:
    return _page("login.html", viewer, {}, {}, safe_next(next, "/me"))


@post("/login")
async def log_in(request: Request, viewer: NamedDependency[Viewer], data: Form) -> Template | Redirect:
    """The same limits as the API's login: failed sign-ins count per address and per account."""
    next_path = safe_next(data.get("next"), "/me")
    values = {"email": str(data.get("email", "")).strip(), "password": str(data.get("password", ""))}
    form, errors = check_struct(LogIn, {k: v for k, v in values.items() if v})
    if form is not None:
        limiter: RateLimiter = request.app.state.rate_limiter
        attempt = await limiter.begin_login(limiter.address_of(request), form.email) if limiter.enabled else None
        try:
            user_id = await service.authenticate(form.email, form.password)
        except Unauthorized:
            errors["password"] = _("The email address or password is not correct.")
        else:
            await limiter.login_succeeded(attempt)
            return await _signed_in(request, user_id, next_path)
    return _page("login.html", viewer, values, errors, next_path, status=422)


@post("/logout")
async def log_out(request: Request) -> Redirect:
    """End the session on the server, and forget this browser's receipts (a shared computer)."""
    await session.end(request.cookies.get(session.SESSION_COOKIE))
    response = Redirect("/", status_code=303)
    session.clear_session_cookie(response)
    response.delete_cookie(session.RECEIPTS_COOKIE, path="/")
    return response


ROUTES = [sign_up_page, sign_up, log_in_page, log_in, log_out]
