"""`pb payments`: the Stripe gateway refuses to start in words; reconciliation through the CLI
prints each finding and exits 1 when one is left unfixed."""

from __future__ import annotations

from click.testing import CliRunner

from pb.cli import main
from tests.steps_stripe import write_stripe_secrets
from tests.stripe_double import API_KEY, StripeDouble

STRIPE_ON = {"PB_PAYMENTS_STRIPE_ENABLED": "1"}


def run(tmp_path, *args: str, **env: str):
    env = {"PB_DATABASE_URL": f"sqlite:///{tmp_path / 'pb.sqlite'}", "PB_SECRETS_DIR": str(tmp_path / "secrets"),
           **env}
    return CliRunner().invoke(main, list(args), env=env)


def test_check_and_serve_refuse_a_missing_or_malformed_key_in_words(tmp_path):
    missing = run(tmp_path, "payments", "check", **STRIPE_ON)
    assert missing.exit_code == 1 and "Stripe secret key is missing" in missing.output
    serve = run(tmp_path, "serve", "--port", "8330", **STRIPE_ON)
    assert serve.exit_code == 1 and "Stripe secret key is missing" in serve.output
    write_stripe_secrets(tmp_path / "secrets", "sk_test_" + "x" * 5)
    malformed = run(tmp_path, "payments", "check", **STRIPE_ON)
    assert malformed.exit_code == 1 and "malformed" in malformed.output and "sk_test_xxxxx" not in malformed.output
    write_stripe_secrets(tmp_path / "secrets")
    ready = run(tmp_path, "payments", "check", **STRIPE_ON)
    assert ready.exit_code == 0 and "test mode" in ready.output and API_KEY not in ready.output
    assert "not enabled" in run(tmp_path, "payments", "check").output


def test_reconcile_through_the_cli_reports_an_unknown_transfer_and_exits_1(tmp_path):
    assert run(tmp_path, "migrate").exit_code == 0
    write_stripe_secrets(tmp_path / "secrets")
    double = StripeDouble()
    server = double.serve(8331)
    try:
        env = {**STRIPE_ON, "PB_PAYMENTS_STRIPE_API_BASE": "http://127.0.0.1:8331",
               "PB_PAYMENTS_DEPLOYMENT_ID": "pb-cli"}
        clean = run(tmp_path, "payments", "reconcile", **env)
        assert clean.exit_code == 0, clean.output
        double.plant_transfer("acct_x", 500, {"pb_deployment": "pb-cli", "organisation_id": "7", "tranche_id": "3"})
        found = run(tmp_path, "payments", "reconcile", **env)
        assert found.exit_code == 1, found.output
        assert "organisation 7: 0 tranches, 1 transfers, 1 findings" in found.output
        assert "unknown_at_stripe: transfer:" in found.output
    finally:
        server.shutdown()
        server.server_close()
