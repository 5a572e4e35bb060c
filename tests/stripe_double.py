"""A stateful stand-in for Stripe's servers at the HTTP boundary: the REAL ``stripe`` SDK talks to it.

Two ways in, one ``handle``:
- in-process, as the SDK's ``http_client`` (``StripeDouble.http_client()``): the SDK's encoding,
  headers, idempotency keys, retries and error mapping all run for real, with no socket;
- served on 127.0.0.1 (``StripeDouble.serve(port)``) for subprocesses (the payment worker killed
  with SIGKILL) and for the SDK's own HTTP clients.

It keeps only what pb uses: Accounts v2 (recipient configuration) and account links, transfers
(create, retrieve, list by transfer_group), transfer reversals, snapshot and thin events. It
emulates Stripe's idempotency (a key replays its first stored answer; other params under the same
key are an ``idempotency_error``), answers business errors as Stripe does (``balance_insufficient``,
``insufficient_capabilities_for_transfer``), and can inject failures: a response lost after the
transfer was made, a 500 before anything happened, a 409 key-in-use. Webhooks are signed with the
SDK's own ``WebhookSignature.generate_signature_header``. Response shapes are checked against the
SDK's classes by tests/payments/test_stripe_double.py.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from urllib.request import Request, urlopen

import stripe

API_KEY = "sk_test_" + "pbdouble" * 4
PLATFORM_SECRET = "whsec_platformdouble0123456789"
CONNECT_SECRET = "whsec_connectdouble0123456789"

_TRANSFER_PARAMS = set(stripe.params.TransferCreateParams.__annotations__) - set(stripe.RequestOptions.__annotations__)
_REVERSAL_PARAMS = (set(stripe.params.TransferCreateReversalParams.__annotations__)
                    - set(stripe.RequestOptions.__annotations__))


class LostResponse(Exception):
    """The double did the work but the answer never reaches the client (a timeout after commit)."""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[k]=v``, ``expand[0]=x``) back into nested dicts."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        if "[" in key:
            outer, inner = key.split("[", 1)
            out.setdefault(outer, {})[inner.rstrip("]")] = value
        else:
            out[key] = value
    return out


def _error(status: int, kind: str, message: str, code: str | None = None, param: str | None = None):
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return status, {"error": error}


@dataclass
class Hold:
    """Stop a matching request in its tracks (served mode): ``before`` anything happens or ``after``
    the change is committed; ``arrived`` is set when it is held, ``release`` lets it go."""

    method: str
    path: str
    when: str  # before | after
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class StripeDouble:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.accounts: dict[str, dict] = {}
        self.account_balance: dict[str, int] = {}  # what each connected account still holds
        self.transfers: dict[str, dict] = {}
        self.available = 10**12  # platform balance in minor units
        self.events: list[dict] = []
        self.idempotency: dict[str, tuple[str, int, dict]] = {}
        self.failures: list[tuple[str, str, str]] = []  # (mode, method, path prefix)
        self.holds: list[Hold] = []
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers) as received
        self.now = time.time
        # Served for a demo: onboarding links point here, events are POSTed to pb's webhook endpoints.
        self.public_base: str | None = None
        self.webhook_base: str | None = None

    # --- test controls --------------------------------------------------------------------------

    def fail_next(self, mode: str, method: str = "POST", path: str = "/v1/transfers") -> None:
        """``lost_response`` | ``500`` | ``409`` for the next matching request."""
        self.failures.append((mode, method, path))

    def hold(self, method: str, path: str, when: str) -> Hold:
        hold = Hold(method, path, when)
        self.holds.append(hold)
        return hold

    def expire_idempotency_keys(self) -> None:
        """Stripe prunes keys after 24 hours: a reused key then makes a NEW request."""
        self.idempotency.clear()

    def set_platform_balance(self, amount: int) -> None:
        self.available = amount

    def complete_onboarding(self, account_id: str) -> None:
        """The group finished Stripe-hosted onboarding: the transfers capability becomes active."""
        with self.lock:
            capability = self.accounts[account_id]["configuration"]["recipient"]["capabilities"]
            capability["stripe_balance"]["stripe_transfers"] = {"status": "active", "status_details": []}
            self.accounts[account_id]["requirements"] = {"entries": [], "summary": None}
            self._thin_event("v2.core.account[configuration.recipient].capability_status_updated", account_id)

    def pay_out(self, account_id: str) -> None:
        """The connected account's balance went to its bank: a reversal can no longer take it back."""
        self.account_balance[account_id] = 0

    def transfer_for(self, tranche_id: int) -> list[dict]:
        return [t for t in self.transfers.values() if t["metadata"].get("tranche_id") == str(tranche_id)]

    def plant_transfer(self, destination: str, amount: int, metadata: dict, transfer_group: str | None = None,
                       currency: str = "eur") -> dict:
        """A transfer made outside pb (e.g. by hand in the Dashboard)."""
        with self.lock:
            return self._make_transfer({"amount": str(amount), "currency": currency, "destination": destination,
                                        "metadata": metadata, "transfer_group": transfer_group})

    def plant_reversal(self, transfer_id: str, amount: int) -> dict:
        with self.lock:
            return self._make_reversal(self.transfers[transfer_id], amount, {})

    def signed(self, event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        """The event as Stripe would deliver it: raw JSON and its ``Stripe-Signature`` header."""
        payload = json.dumps(event).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode(), secret, timestamp=int(timestamp if timestamp is not None else self.now()))
        return payload, header

    def events_of(self, type_prefix: str) -> list[dict]:
        return [e for e in self.events if e["type"].startswith(type_prefix)]

    # --- the HTTP boundary ----------------------------------------------------------------------

    def http_client(self) -> "DoubleHTTPClient":
        return DoubleHTTPClient(self)

    def handle(self, method: str, url: str, headers: dict[str, str], body: str | bytes | None) -> tuple[int, dict, str]:
        """One request: answer (status, headers, body); raises LostResponse for a lost answer."""
        method = method.upper()
        parts = urlsplit(url)
        path, query = parts.path, dict(parse_qsl(parts.query))
        body = body.decode() if isinstance(body, bytes) else (body or "")
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.requests.append((method, path, headers))
        hold = self._take(self.holds, method, path)
        if hold and hold.when == "before":
            hold.arrived.set()
            hold.release.wait(60)
            raise LostResponse()
        failure = self._take_failure(method, path)
        if failure == "500":
            return self._answer(*_error(500, "api_error", "Something went wrong on Stripe's end."))
        if failure == "409":
            return self._answer(*_error(409, "idempotency_error", "There is currently another in-progress request "
                                        "using this Idempotency-Key.", code="idempotency_key_in_use"))
        params = json.loads(body) if path.startswith("/v2") and body else (_form(body) if body else {})
        if method == "GET":
            params = {**query, **params}
        key = headers.get("idempotency-key")
        with self.lock:
            status, payload, replayed = self._idempotent(method, path, params, key)
        if hold:  # when == "after": the change is made, the answer never leaves
            hold.arrived.set()
            hold.release.wait(60)
            raise LostResponse()
        if failure == "lost_response":
            raise LostResponse()
        return self._answer(status, payload, replayed)

    def _take(self, holds: list[Hold], method: str, path: str) -> Hold | None:
        for hold in holds:
            if hold.method == method and path.startswith(hold.path):
                holds.remove(hold)
                return hold
        return None

    def _take_failure(self, method: str, path: str) -> str | None:
        for failure in self.failures:
            if failure[1] == method and path.startswith(failure[2]):
                self.failures.remove(failure)
                return failure[0]
        return None

    def _answer(self, status: int, payload: dict, replayed: bool = False) -> tuple[int, dict, str]:
        headers = {"Request-Id": f"req_{next(self.ids):06d}", "Content-Type": "application/json"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return status, headers, json.dumps(payload)

    def _idempotent(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict, bool]:
        if method != "POST" or not key:
            return (*self._route(method, path, params), False)
        fingerprint = hashlib.sha256(json.dumps([method, path, params], sort_keys=True).encode()).hexdigest()
        if key in self.idempotency:
            seen, status, payload = self.idempotency[key]
            if seen != fingerprint:
                return (*_error(400, "idempotency_error", "Keys for idempotent requests can only be used with the "
                                "same parameters they were first used with."), False)
            return status, payload, True
        status, payload = self._route(method, path, params)
        if status < 500:
            self.idempotency[key] = (fingerprint, status, payload)
        return status, payload, False

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        segments = path.strip("/").split("/")
        if segments[:3] == ["v2", "core", "accounts"]:
            if method == "POST" and len(segments) == 3:
                return self._create_account(params)
            if method == "GET" and len(segments) == 4 and segments[3] in self.accounts:
                return 200, self.accounts[segments[3]]
            return _error(404, "invalid_request_error", "No such account.", code="resource_missing")
        if segments[:3] == ["v2", "core", "account_links"] and method == "POST":
            return self._create_account_link(params)
        if segments[:2] == ["v1", "transfers"]:
            if len(segments) == 2:
                return self._create_transfer(params) if method == "POST" else self._list_transfers(params)
            transfer = self.transfers.get(segments[2])
            if transfer is None:
                return _error(404, "invalid_request_error", f"No such transfer: '{segments[2]}'",
                              code="resource_missing", param="id")
            if len(segments) == 3 and method == "GET":
                return 200, transfer
            if len(segments) == 4 and segments[3] == "reversals" and method == "POST":
                return self._create_reversal(transfer, params)
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    # --- resources ------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):08d}dbl"

    def _create_account(self, params: dict) -> tuple[int, dict]:
        account_id = self._id("acct")
        requested = params.get("configuration", {}).get("recipient", {}).get("capabilities", {})
        if not requested.get("stripe_balance", {}).get("stripe_transfers", {}).get("requested"):
            return _error(400, "invalid_request_error", "Request the recipient stripe_transfers capability.")
        self.accounts[account_id] = {
            "id": account_id, "object": "v2.core.account", "applied_configurations": ["recipient"],
            "closed": False, "contact_email": params.get("contact_email"), "contact_phone": None,
            "created": _iso(self.now()), "dashboard": params.get("dashboard", "express"),
            "display_name": params.get("display_name"), "identity": params.get("identity"), "livemode": False,
            "metadata": params.get("metadata", {}), "defaults": params.get("defaults"),
            "configuration": {"recipient": {"capabilities": {"stripe_balance": {"stripe_transfers": {
                "status": "restricted",
                "status_details": [{"code": "requirements_past_due", "resolution": "provide_info"}],
            }}}}},
            "requirements": {"entries": [{"awaiting_action_from": "user", "description": "identity",
                                          "errors": [], "impact": {"restricts_capabilities": []},
                                          "minimum_deadline": {"status": "past_due"},
                                          "reference": None, "requested_reasons": []}], "summary": None},
        }
        self.account_balance[account_id] = 0
        return 200, self.accounts[account_id]

    def _create_account_link(self, params: dict) -> tuple[int, dict]:
        if params.get("account") not in self.accounts:
            return _error(404, "invalid_request_error", "No such account.", code="resource_missing")
        created = self.now()
        url = f"https://connect.stripe.test/setup/{self._id('link')}"
        if self.public_base:  # the demo's "hosted onboarding": one click completes it
            back = (params.get("use_case") or {}).get("account_onboarding", {}).get("return_url", "")
            url = f"{self.public_base}/setup/{params['account']}?return_url={quote(back, safe='')}"
        return 200, {"object": "v2.core.account_link", "account": params["account"], "created": _iso(created),
                     "expires_at": _iso(created + 300), "livemode": False, "use_case": params.get("use_case"),
                     "url": url}

    def _ready(self, account_id: str) -> bool:
        account = self.accounts.get(account_id)
        capability = account and account["configuration"]["recipient"]["capabilities"]["stripe_balance"]
        return bool(capability) and capability["stripe_transfers"]["status"] == "active"

    def _create_transfer(self, params: dict) -> tuple[int, dict]:
        unknown = set(params) - _TRANSFER_PARAMS
        if unknown:
            return _error(400, "invalid_request_error", f"Received unknown parameter: {sorted(unknown)[0]}",
                          param=sorted(unknown)[0])
        amount = int(params.get("amount", 0))
        if not self._ready(params.get("destination", "")):
            return _error(400, "invalid_request_error", "Your destination account needs to have at least one of "
                          "the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
                          code="insufficient_capabilities_for_transfer")
        if amount > self.available:
            return _error(400, "invalid_request_error", "You have insufficient available funds in your Stripe "
                          "account. Try adding funds directly to your available balance by creating Top-ups.",
                          code="balance_insufficient")
        return 200, self._make_transfer(params)

    def _make_transfer(self, params: dict) -> dict:
        transfer_id = self._id("tr")
        amount = int(params["amount"])
        self.available -= amount
        self.account_balance[params["destination"]] = self.account_balance.get(params["destination"], 0) + amount
        transfer = {
            "id": transfer_id, "object": "transfer", "amount": amount, "amount_reversed": 0,
            "balance_transaction": self._id("txn"), "created": int(self.now()), "currency": params["currency"],
            "description": params.get("description"), "destination": params["destination"],
            "destination_payment": self._id("py"), "livemode": False, "metadata": params.get("metadata", {}),
            "reversals": {"object": "list", "data": [], "has_more": False,
                          "url": f"/v1/transfers/{transfer_id}/reversals"},
            "reversed": False, "source_transaction": None, "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
        self.transfers[transfer_id] = transfer
        self._snapshot_event("transfer.created", transfer)
        return transfer

    def _list_transfers(self, params: dict) -> tuple[int, dict]:
        found = sorted(self.transfers.values(), key=lambda t: t["id"], reverse=True)
        if params.get("transfer_group"):
            found = [t for t in found if t["transfer_group"] == params["transfer_group"]]
        if params.get("starting_after"):
            ids = [t["id"] for t in found]
            found = found[ids.index(params["starting_after"]) + 1:] if params["starting_after"] in ids else []
        limit = int(params.get("limit", 10))
        return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/transfers"}

    def _create_reversal(self, transfer: dict, params: dict) -> tuple[int, dict]:
        unknown = set(params) - _REVERSAL_PARAMS
        if unknown:
            return _error(400, "invalid_request_error", f"Received unknown parameter: {sorted(unknown)[0]}")
        amount = int(params.get("amount", transfer["amount"] - transfer["amount_reversed"]))
        if amount > transfer["amount"] - transfer["amount_reversed"]:
            return _error(400, "invalid_request_error", "Amount must be no more than the transfer's unreversed "
                          "amount.", param="amount")
        if amount > self.account_balance.get(transfer["destination"], 0):
            return _error(400, "invalid_request_error", "Insufficient funds in the destination account to reverse "
                          "this transfer: the money has been paid out.", code="balance_insufficient")
        return 200, self._make_reversal(transfer, amount, params.get("metadata", {}))

    def _make_reversal(self, transfer: dict, amount: int, metadata: dict) -> dict:
        reversal = {"id": self._id("trr"), "object": "transfer_reversal", "amount": amount,
                    "balance_transaction": self._id("txn"), "created": int(self.now()),
                    "currency": transfer["currency"], "destination_payment_refund": self._id("pyr"),
                    "metadata": metadata, "source_refund": None, "transfer": transfer["id"]}
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].append(reversal)
        self.account_balance[transfer["destination"]] -= amount
        self.available += amount
        self._snapshot_event("transfer.reversed", transfer)
        return reversal

    # --- events -----------------------------------------------------------------------------------

    def _deliver_later(self, event: dict, endpoint: str) -> None:
        """Served for a demo: POST the signed event to pb, as Stripe would (after the answer)."""
        if not self.webhook_base:
            return
        secret = PLATFORM_SECRET if endpoint == "platform" else CONNECT_SECRET

        def deliver() -> None:
            payload, header = self.signed(event, secret)
            request = Request(f"{self.webhook_base}/{endpoint}", data=payload, method="POST",
                              headers={"Stripe-Signature": header, "Content-Type": "application/json"})
            try:
                urlopen(request, timeout=10).close()
            except OSError as error:  # Stripe would retry; the demo's reconciliation catches up
                print(f"webhook {event['id']} not delivered: {error}")

        threading.Timer(0.3, deliver).start()

    def _snapshot_event(self, type_: str, obj: dict, account: str | None = None) -> None:
        self.events.append({
            "id": self._id("evt"), "object": "event", "account": account, "api_version": stripe.api_version,
            "context": None, "created": int(self.now()), "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": type_,
        })
        self._deliver_later(self.events[-1], "platform")

    def _thin_event(self, type_: str, account_id: str) -> None:
        self.events.append({
            "id": self._id("evt"), "object": "v2.core.event", "type": type_, "created": _iso(self.now()),
            "livemode": False, "context": None,
            "related_object": {"id": account_id, "type": "v2.core.account", "url": f"/v2/core/accounts/{account_id}"},
        })
        self._deliver_later(self.events[-1], "connect")

    # --- served on 127.0.0.1 ---------------------------------------------------------------------

    def serve(self, port: int) -> ThreadingHTTPServer:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _setup(self) -> bool:
                """GET /setup/<account>?return_url=…: the demo's one-click hosted onboarding."""
                parts = urlsplit(self.path)
                if self.command != "GET" or not parts.path.startswith("/setup/"):
                    return False
                account_id = parts.path.rsplit("/", 1)[-1]
                if account_id in double.accounts:
                    double.complete_onboarding(account_id)
                self.send_response(303)
                self.send_header("Location", dict(parse_qsl(parts.query)).get("return_url") or "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def _any(self) -> None:
                if self._setup():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = double.handle(self.command, self.path, dict(self.headers), body)
                except LostResponse:
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = payload.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class DoubleHTTPClient(stripe.HTTPClient):
    """The SDK's HTTP client interface, answered by the double in-process (no sockets)."""

    name = "pb-stripe-double"

    def __init__(self, double: StripeDouble) -> None:
        super().__init__()
        self.double = double

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        try:
            status, headers, body = self.double.handle(method, url, dict(headers or {}), post_data)
        except LostResponse:
            raise stripe.APIConnectionError("The connection to Stripe timed out.", should_retry=True) from None
        return body, status, headers

    async def request_async(self, method, url, headers, post_data=None):
        body, status, headers = self.request(method, url, headers, post_data)
        return body.encode(), status, headers

    def close(self) -> None:
        pass

    async def close_async(self) -> None:
        pass

    def sleep_async(self, secs: float):
        return asyncio.sleep(0)


def fast_sdk_retries() -> None:
    """The SDK's retry backoff (0.5 s doubling) shrunk for tests; the retries themselves still run."""
    stripe.HTTPClient.INITIAL_DELAY = 0.001
    stripe.HTTPClient.MAX_DELAY = 0.002



def main() -> None:
    """Serve the double for the demo: ``python -m tests.stripe_double --port 8300 --secrets var/secrets``."""
    parser = argparse.ArgumentParser(description="The Stripe double, served on 127.0.0.1 (for the demo).")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--secrets", type=Path, default=Path("var/secrets"),
                        help="pb's secrets folder: the double's test key and webhook secrets are written there "
                             "if no Stripe secrets are present yet")
    parser.add_argument("--webhooks", default="http://127.0.0.1:8000/api/payments/stripe/webhooks",
                        help="where pb receives webhooks (…/platform and …/connect)")
    args = parser.parse_args()
    args.secrets.mkdir(parents=True, exist_ok=True)
    for name, value in [("stripe-secret-key", API_KEY), ("stripe-webhook-platform", PLATFORM_SECRET),
                        ("stripe-webhook-connect", CONNECT_SECRET)]:
        if not (args.secrets / name).exists():
            (args.secrets / name).write_text(value + "\n")
            (args.secrets / name).chmod(0o600)
    double = StripeDouble()
    double.public_base = f"http://127.0.0.1:{args.port}"
    double.webhook_base = args.webhooks.rstrip("/")
    server = double.serve(args.port)
    print(f"Stripe double at http://127.0.0.1:{args.port} (webhooks to {double.webhook_base}); Ctrl-C stops it")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
