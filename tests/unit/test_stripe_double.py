"""The Stripe double itself, held to the SDK: every field it answers is declared on the SDK's own
class (an SDK upgrade that renames fields fails here), its signatures verify with the SDK, it
emulates idempotency as Stripe documents, and the SDK's default HTTP clients reach it on 127.0.0.1.
Plus the refusal to start the Stripe gateway with missing or malformed secrets."""

from __future__ import annotations

import asyncio
import json

import pytest
import stripe
from stripe.v2.core import Account as AccountV2, AccountLink

from pb.payments.stripe_config import SECRET_KEY_FILE, StripeConfigError, load_stripe_secrets
from pb.payments.stripe_gateway import classify
from tests.steps_stripe import write_stripe_secrets
from tests.stripe_double import API_KEY, PLATFORM_SECRET, StripeDouble, fast_sdk_retries


def _declared(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def _client(double: StripeDouble, **options) -> stripe.StripeClient:
    fast_sdk_retries()
    return stripe.StripeClient(API_KEY, http_client=double.http_client(), max_network_retries=2, **options)


def _ready_account(double: StripeDouble, client: stripe.StripeClient) -> str:
    account = client.v2.core.accounts.create({"configuration": {"recipient": {"capabilities": {
        "stripe_balance": {"stripe_transfers": {"requested": True}}}}}})
    double.complete_onboarding(account.id)
    return account.id


def _transfer(client: stripe.StripeClient, account: str, key: str, amount: int = 100, **params):
    return client.v1.transfers.create({"amount": amount, "currency": "eur", "destination": account,
                                       "metadata": {"tranche_id": "1"}, **params}, {"idempotency_key": key})


def test_every_field_the_double_answers_is_declared_on_the_sdk_classes():
    double = StripeDouble()
    client = _client(double)
    account_id = _ready_account(double, client)
    link = client.v2.core.account_links.create({"account": account_id, "use_case": {
        "type": "account_onboarding", "account_onboarding": {"refresh_url": "http://x/r", "return_url": "http://x/d"}}})
    transfer = _transfer(client, account_id, "k1", transfer_group="g")
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 40})
    checks = [(double.accounts[account_id], AccountV2), (link.to_dict(), AccountLink),
              (double.transfers[transfer.id], stripe.Transfer), (reversal.to_dict(), stripe.TransferReversal),
              (double.events_of("transfer.")[0], stripe.Event)]
    for payload, cls in checks:
        assert set(payload) <= _declared(cls), (cls.__name__, set(payload) - _declared(cls))
    assert isinstance(transfer, stripe.Transfer) and transfer.reversals.data == []
    listed = client.v1.transfers.list({"transfer_group": "g"})
    assert set(listed.to_dict()) - {"object"} <= _declared(stripe.ListObject)  # "object" is every StripeObject's
    assert listed.data[0].amount_reversed == 40


def test_a_key_replays_its_first_answer_and_refuses_other_params():
    double = StripeDouble()
    client = _client(double)
    account_id = _ready_account(double, client)
    first = _transfer(client, account_id, "same")
    replay = _transfer(client, account_id, "same")
    assert replay.id == first.id and replay.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        _transfer(client, account_id, "same", amount=101)
    double.expire_idempotency_keys()
    assert _transfer(client, account_id, "same").id != first.id  # why pb looks transfers up after 24 h
    assert len(double.transfers) == 2


def test_an_idempotency_key_in_params_is_refused_the_trap_of_sdk_16():
    """16.x sends a key given in params as a form field (and a random header): the double refuses it,
    so a gateway that put it there would fail every test."""
    double = StripeDouble()
    client = _client(double)
    account_id = _ready_account(double, client)
    with pytest.raises(stripe.InvalidRequestError, match="idempotency_key"):
        client.v1.transfers.create({"amount": 1, "currency": "eur", "destination": account_id,
                                    "idempotency_key": "x"})  # type: ignore[typeddict-unknown-key]


def test_errors_are_classified_definitive_or_unknown():
    double = StripeDouble()
    client = _client(double, )
    account_id = _ready_account(double, client)
    double.set_platform_balance(0)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _transfer(client, account_id, "k")
    assert classify(refused.value).status == "refused" and "balance_insufficient" in classify(refused.value).reason
    double.set_platform_balance(10**6)
    for _ in range(3):
        double.fail_next("500")
    with pytest.raises(stripe.APIError) as server_error:
        _transfer(client, account_id, "k2")
    assert classify(server_error.value).status == "unknown"
    for _ in range(3):
        double.fail_next("lost_response")
    with pytest.raises(stripe.APIConnectionError) as lost:
        _transfer(client, account_id, "k3")
    assert classify(lost.value).status == "unknown" and len(double.transfers) == 1  # made once, never confirmed


def test_signed_webhooks_verify_with_the_sdk_and_fail_when_tampered():
    double = StripeDouble()
    client = _client(double)
    _transfer(client, _ready_account(double, client), "k")
    payload, header = double.signed(double.events_of("transfer.created")[0], PLATFORM_SECRET)
    event = client.construct_event(payload, header, PLATFORM_SECRET)
    assert event.type == "transfer.created" and event.data.object.amount == 100
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(payload.replace(b"100", b"999"), header, PLATFORM_SECRET)
    thin = double.events_of("v2.core.account")[0]
    payload, header = double.signed(thin, PLATFORM_SECRET)
    notification = client.parse_event_notification(payload, header, PLATFORM_SECRET)
    assert notification.related_object.id == thin["related_object"]["id"]


def test_the_sdks_own_http_clients_reach_the_double_served_on_loopback():
    double = StripeDouble()
    server = double.serve(8312)
    try:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": "http://127.0.0.1:8312"}, max_network_retries=2)
        account_id = _ready_account(double, client)
        synced = _transfer(client, account_id, "sync")  # RequestsClient
        fetched = asyncio.run(client.v1.transfers.retrieve_async(synced.id))  # HTTPXClient (async fallback)
        assert fetched.id == synced.id and fetched.destination == account_id
        double.fail_next("lost_response")
        again = _transfer(client, account_id, "lost")
        assert len(double.transfers) == 2 and again.last_response.headers.get("Idempotent-Replayed") == "true"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("key,mode,words", [
    (None, "test", "secret key is missing"),
    ("pk_test_" + "a" * 24, "test", "malformed"),
    ("sk_test_short", "test", "malformed"),
    ("sk_live_" + "a" * 24, "test", "live-mode key but payments.stripe_mode is 'test'"),
])
def test_the_stripe_gateway_refuses_to_start_with_a_missing_or_malformed_key(tmp_path, key, mode, words):
    folder = write_stripe_secrets(tmp_path / "secrets", key or API_KEY)
    if key is None:
        (folder / SECRET_KEY_FILE).unlink()
    with pytest.raises(StripeConfigError, match=words) as refused:
        load_stripe_secrets(folder, mode)
    assert (key or "") not in str(refused.value) or key is None  # never echoes the key


def test_a_malformed_webhook_secret_is_refused_and_secrets_never_show_in_repr(tmp_path):
    folder = write_stripe_secrets(tmp_path / "secrets")
    secrets = load_stripe_secrets(folder, "test")
    assert API_KEY not in repr(secrets) and PLATFORM_SECRET not in repr(secrets)
    (folder / "stripe-webhook-connect").write_text("not-a-secret")
    with pytest.raises(StripeConfigError, match="connect webhook signing secret .* malformed"):
        load_stripe_secrets(folder, "test")


def test_create_app_refuses_the_stripe_gateway_without_its_key(tmp_path):
    from pb.app import create_app
    from pb.settings import load_settings

    settings = load_settings({}, database_url=f"sqlite:///{tmp_path}/x.sqlite", secrets_dir=tmp_path / "s",
                             stripe_enabled=True)
    with pytest.raises(StripeConfigError, match="Stripe secret key is missing"):
        create_app(settings)
    assert json.dumps(str(settings)).count("sk_") == 0
