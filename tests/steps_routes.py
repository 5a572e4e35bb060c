"""Walking the app's route table, so route-wide security rules cover contexts added later."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from litestar import Litestar
from litestar.routes import HTTPRoute

ORG_PREFIX = "/api/orgs/{org_id:int}"
# Methods the authentication middleware never sees (CORS pre-flight, HEAD of static files).
UNAUTHENTICATED_METHODS = {"OPTIONS", "HEAD"}
# Self-service routes under an organisation that any signed-in person may call without a role:
# joining is how one becomes a member (it changes only the caller's own membership).
SELF_SERVICE_ROUTES = {("POST", ORG_PREFIX + "/join")}
READ_METHODS = {"GET"}


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # Litestar path format, e.g. /api/orgs/{org_id:int}/members
    public: bool

    @property
    def under_organisation(self) -> bool:
        return self.path.startswith(ORG_PREFIX)

    @property
    def is_write(self) -> bool:
        return self.method not in READ_METHODS

    def url(self, organisation_id: int, other_id: int = 1) -> str:
        """The path with ``org_id`` filled in and every other parameter set to ``other_id``."""
        return re.sub(
            r"\{(\w+)(?::\w+)?\}",
            lambda match: str(organisation_id if match[1] == "org_id" else other_id),
            self.path,
        )


def api_operations(app: Litestar) -> Iterator[Operation]:
    """Every method of every route the middleware authenticates (the OpenAPI pages excluded)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - UNAUTHENTICATED_METHODS):
                yield Operation(method, route.path, bool(handler.opt.get("public")))


def organisation_writes(app: Litestar) -> list[Operation]:
    """Non-GET, non-public routes under /api/orgs/{org_id} that need a role."""
    return [
        op for op in api_operations(app)
        if op.under_organisation and op.is_write and not op.public
        and (op.method, op.path) not in SELF_SERVICE_ROUTES
    ]
