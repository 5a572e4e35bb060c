"""create_app(settings) -> Litestar. Wiring only: engine, routes, auth, errors, OpenAPI, templates."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

from litestar import Litestar, Request, Response
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import pb
from pb import db
from litestar.di import Provide

from pb.accounts.guards import AccessTokenMiddleware, provide_actor
from pb.accounts.service import AuthConfig, configure_password_hashing
from pb.core.errors import DomainError
from pb.core.keyring import load_census_key, load_keyring
from pb.core.ratelimit import RateLimiter
from pb.settings import Settings, get_settings
from pb.web.templating import configure_templates

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
PROBLEM_JSON = "application/problem+json"
BEARER_SCHEME = "BearerToken"


def _problem(status: int, title: str, detail: str, **extra: object) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v not in (None, {}, [])})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def _domain_error(_: Request, error: DomainError) -> Response:
    return _problem(error.status_code, error.title, error.detail, code=error.code, **error.extra)


# Framework errors whose default detail is only the status phrase ("Not Found") get a sentence.
_READABLE_DETAIL = {
    404: "There is no page or API route at {path}. The API is described at /schema/swagger.",
    405: "The route {path} does not accept the {method} method.",
}


def _http_error(request: Request, error: HTTPException) -> Response:
    extra = error.extra if isinstance(error.extra, (dict, list)) else None
    detail = error.detail
    if error.status_code in _READABLE_DETAIL and len(detail.split()) < 3:
        detail = _READABLE_DETAIL[error.status_code].format(path=request.url.path, method=request.method)
    return _problem(error.status_code, type(error).__name__, detail, errors=extra)


def _route_handlers() -> list:
    from pb.accounts.api import ROUTES as accounts
    from pb.audit.api import ROUTES as audit
    from pb.grants.api import ROUTES as grants
    from pb.payments.api import ROUTES as payments
    from pb.proposals.api import ROUTES as proposals
    from pb.results.api import ROUTES as results
    from pb.rounds.api import ROUTES as rounds
    from pb.voting.api import ROUTES as voting
    from pb.web.router import build_router

    return [*accounts, *audit, *grants, *payments, *proposals, *results, *rounds, *voting, build_router()]


def _declare_bearer_security(handlers: list) -> list:
    """OpenAPI: every route except the public ones needs 'Authorization: Bearer <access token>'."""
    for handler in handlers:
        if not handler.opt.get("public") and not handler.security:
            handler.security = [{BEARER_SCHEME: []}]
    return handlers


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_password_hashing(settings.password_time_cost, settings.password_memory_kib)
    engine = db.make_engine(settings.database_url)
    db.bind_engine(engine)

    async def on_startup() -> None:
        db.bind_engine(engine)
        await db.start(engine)
        await db.prepare_engine(engine)

    async def on_shutdown() -> None:
        await db.stop(engine)

    state = State(
        {
            "settings": settings,
            "auth": AuthConfig(
                keyring=load_keyring(settings.secrets_dir),
                issuer=settings.public_url,
                access_minutes=settings.access_token_minutes,
                refresh_days=settings.refresh_token_days,
            ),
            "census_key": load_census_key(settings.secrets_dir),
            "rate_limiter": RateLimiter(settings.rate_limit_per_minute),
        }
    )
    return Litestar(
        route_handlers=[
            *_declare_bearer_security(_route_handlers()),
            create_static_files_router(path="/static", directories=[FRONTEND / "static"], opt={"public": True}),
        ],
        state=state,
        dependencies={"actor": Provide(provide_actor, sync_to_thread=False)},
        middleware=[DefineMiddleware(AccessTokenMiddleware)],
        exception_handlers={DomainError: _domain_error, HTTPException: _http_error},
        openapi_config=OpenAPIConfig(
            title="pb — participatory budgeting and micro-grants",
            version=pb.__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), ScalarRenderPlugin(path="/scalar")],
            components=Components(security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http", scheme="bearer", bearer_format="JWT",
                    description="Access token from POST /api/auth/login (valid for at most 10 minutes).",
                ),
            }),
        ),
        template_config=TemplateConfig(directory=FRONTEND / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=configure_templates),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=False,
    )
