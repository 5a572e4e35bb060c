"""One guard per route: the app-wide checks and the route's own guards run as one chain.

Litestar calls every guard of a route with a fresh copy of the route handler (``copy(handler)``
per guard and request, about seventy attributes each). A cast had three guards (the app-wide path
check, the voter guard, the rate limit), so it paid three copies; one chained guard pays one. The
chain runs the same guards in the same order (app-wide first) and stops at the first refusal, as
Litestar does.

``chain_guards`` is applied by ``pb.app`` to every route it registers, so no route can miss the
app-wide checks (``tests/api/test_guard_chain.py`` walks the built app).
"""

from __future__ import annotations

import inspect
from typing import Iterable, Sequence

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

CHAINED = "chained_guards"  # attribute of a chain: the guards it runs, in order


def guards_of(guard: Guard) -> tuple[Guard, ...]:
    """The guards ``guard`` stands for: the members of a chain, else ``guard`` itself."""
    return getattr(guard, CHAINED, (guard,))


def chain(guards: Sequence[Guard]) -> Guard:
    """One guard running ``guards`` in order (each must be ``async``: Litestar would run a plain
    function in a thread pool, and the chain awaits them itself)."""
    members = tuple(member for guard in guards for member in guards_of(guard))
    for member in members:
        if not inspect.iscoroutinefunction(member):
            raise TypeError(f"guard {getattr(member, '__name__', member)!r} must be async to run in a chain")

    async def chained(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        for member in members:
            await member(connection, handler)

    chained.__name__ = "+".join(getattr(member, "__name__", "guard") for member in members)
    setattr(chained, CHAINED, members)
    return chained


def chain_guards(handlers: Iterable[BaseRouteHandler], first: Sequence[Guard]) -> None:
    """Give every handler one guard: ``first`` (the app-wide checks), then its own guards.

    Handlers are module-level objects, shared by every app built in one process (the tests build
    many): a handler whose guards are already a chain starting with ``first`` is left as it is.
    """
    first = tuple(first)
    for handler in handlers:
        declared = tuple(handler.guards or ())
        if len(declared) == 1 and guards_of(declared[0])[:len(first)] == first:
            continue
        handler.guards = [chain([*first, *declared])]
