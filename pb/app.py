"""create_app(settings) -> Litestar. Wiring only: engine, routes, auth, errors, OpenAPI, templates."""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import pb
from pb import api_docs, db
from litestar.di import Provide

from pb.accounts.guards import AccessTokenMiddleware, provide_actor
from pb.accounts.service import AuthConfig, configure_password_hashing
from pb.audit.service import configure_checkpoints, sign_heads_hourly
from pb.core.errors import DomainError
from pb.core.guard_chain import chain_guards
from pb.core.headers import security_headers
from pb.core.keyring import RoundKeyStore, load_census_key, load_keyring
from pb.core.logs import configure_logging, send_request_id
from pb.core.problem_docs import document_problems
from pb.core.problems import domain_error, http_error, server_error
from pb.core.ratelimit import RateLimiter, parse_networks
from pb.core.request_checks import path_values_are_sane, strict_json_body
from pb.engines import RequestConnectionMiddleware
from pb.resources import FRONTEND
from pb.settings import Settings, get_settings
from pb.web.router import build_router
from pb.web.templating import configure_templates

BEARER_SCHEME = "BearerToken"
# Checks every route runs before its own guards. Not Litestar's app-level ``guards``: each route
# gets them chained with its own into one guard (pb.core.guard_chain says why).
APP_WIDE_GUARDS = (path_values_are_sane,)


def _route_handlers() -> list:
    from pb.accounts.api import ROUTES as accounts
    from pb.audit.api import ROUTES as audit
    from pb.board.api import ROUTES as board
    from pb.grants.api import ROUTES as grants
    from pb.paper.api import ROUTES as paper
    from pb.payments.api import ROUTES as payments
    from pb.proposals.api import ROUTES as proposals
    from pb.record.api import ROUTES as record
    from pb.results.api import ROUTES as results
    from pb.rounds.api import ROUTES as rounds
    from pb.sandbox.api import ROUTES as sandbox
    from pb.voting.api import ROUTES as voting

    return [*accounts, *audit, *board, *grants, *paper, *payments, *proposals, *record, *results, *rounds, *sandbox,
            *voting]


def _declare_bearer_security(handlers: list) -> list:
    """OpenAPI: every route except the public ones needs 'Authorization: Bearer <access token>'."""
    for handler in handlers:
        if not handler.opt.get("public") and not handler.security:
            handler.security = [{BEARER_SCHEME: []}]
    return handlers


def create_app(settings: Settings | None = None) -> Litestar:
    """The app for ``settings`` (default: the process's, which makes this the factory uvicorn's
    worker processes call: ``pb.app:create_app``)."""
    settings = settings or get_settings()
    configure_logging()
    configure_password_hashing(settings.password_time_cost, settings.password_memory_kib)
    engine = db.engine_for(settings)
    db.bind_engine(engine)
    round_keys = RoundKeyStore(settings.secrets_dir)
    from pb.payments import runtime as payments

    stripe_secrets = payments.check(settings)  # refuses to start, in words, on a missing/malformed key

    configure_checkpoints(settings.secrets_dir)
    background: list[asyncio.Task] = []

    async def on_startup() -> None:
        from pb.voting.service import open_pending_ballot_boxes

        db.bind_engine(engine)
        await db.start(engine)
        await db.prepare_engine(engine)
        background.append(asyncio.create_task(sign_heads_hourly(round_keys)))
        await open_pending_ballot_boxes(round_keys)  # finish an opening a crash interrupted
        payments.start(settings, stripe_secrets)
        payments.start_worker(settings)

    async def on_shutdown() -> None:
        await payments.stop_worker()
        for task in background:
            task.cancel()
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
            "round_keys": round_keys,
            "rate_limiter": RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_account_per_minute,
                                        parse_networks(settings.trusted_proxies)),
        }
    )
    handlers = _declare_bearer_security(_route_handlers())
    document_problems(handlers)
    chain_guards(handlers, first=APP_WIDE_GUARDS)
    return Litestar(
        route_handlers=[
            *handlers,
            build_router(APP_WIDE_GUARDS),  # the web pages: sessions, language, CSRF and HTML errors of their own
            create_static_files_router(path="/static", directories=[FRONTEND / "static"], opt={"public": True},
                                       guards=list(APP_WIDE_GUARDS)),
        ],
        state=state,
        dependencies={"actor": Provide(provide_actor, sync_to_thread=False)},
        # One database connection per request (pb.engines), outermost so every query shares it.
        middleware=[RequestConnectionMiddleware, DefineMiddleware(AccessTokenMiddleware)],
        before_request=strict_json_body,
        before_send=[security_headers(settings.public_url), send_request_id],
        logging_config=None,  # pb.core.logs configures logging; errors are logged by pb.core.problems
        exception_handlers={DomainError: domain_error, HTTPException: http_error, Exception: server_error},
        openapi_config=OpenAPIConfig(
            title="pb — participatory budgeting and micro-grants",
            version=pb.__version__,
            description=api_docs.DESCRIPTION,
            path="/schema",
            render_plugins=api_docs.render_plugins(),
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
