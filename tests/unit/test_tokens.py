"""Access-token verification refuses every token that is not ours and well formed, with a 401 that
names the problem, whatever the text sent as a token."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.core.errors import Unauthorized
from pb.core.keyring import load_keyring
from pb.core.tokens import decode_access_token, issue_access_token

ISSUER = "http://testserver"
MALFORMED = "The access token is malformed."
WRONG_ALGORITHM = "The access token uses an algorithm this server does not accept."
UNKNOWN_KEY = "The access token was signed with an unknown key."
BAD_SIGNATURE = "The access token is invalid: Signature verification failed."


@pytest.fixture(scope="module")
def keyring(tmp_path_factory):
    return load_keyring(tmp_path_factory.mktemp("secrets"))


@pytest.fixture(scope="module")
def token(keyring) -> str:
    return issue_access_token(keyring, user_id=42, login_id="f" * 32, issuer=ISSUER, minutes=10)[0]


def _segment(value) -> str:
    """base64url without padding, as in a JWT, of ``value`` (bytes as they are, anything else as JSON)."""
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refusal(keyring, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        decode_access_token(keyring, token, issuer=ISSUER)
    return refused.value.detail


def test_the_issued_token_is_accepted(keyring, token):
    """The control for the refusals below: the same keyring and issuer accept what they issued."""
    claims = decode_access_token(keyring, token, issuer=ISSUER)
    assert (claims.user_id, claims.login_id) == (42, "f" * 32)


@pytest.mark.parametrize("header_segment", [
    "!!!!",  # not base64url
    _segment(b"\xff\xfe{"),  # not UTF-8
    _segment(b"not json"),
    _segment(["EdDSA", "kid"]),  # JSON, but an array
    _segment("EdDSA"),
    _segment({"alg": "EdDSA", "kid": 7}),  # a kid that is not a string
    _segment({"alg": "EdDSA", "kid": ["a"]}),
    "",
], ids=["not-base64", "not-utf8", "not-json", "array", "string", "kid-number", "kid-list", "empty-header"])
def test_a_header_segment_that_is_not_a_json_object_is_malformed(keyring, token, header_segment):
    payload_and_signature = token.partition(".")[2]
    assert _refusal(keyring, f"{header_segment}.{payload_and_signature}") == MALFORMED


@pytest.mark.parametrize("text", ["", ".", "..", "abc", "é", "Bearer", "\x00"])
def test_text_that_is_no_jwt_at_all_is_malformed(keyring, text):
    assert _refusal(keyring, text) == MALFORMED


def test_a_sound_header_without_the_rest_of_the_token_is_malformed(keyring, token):
    """Our header, no '.': the key is found, and PyJWT's refusal of the structure reads as malformed."""
    header_segment, payload_segment, _ = token.split(".")
    assert _refusal(keyring, header_segment) == MALFORMED
    assert _refusal(keyring, f"{header_segment}.{payload_segment}") == MALFORMED


@pytest.mark.parametrize("junk", ["!", "+", "/", "==="])
def test_a_header_readable_to_us_but_not_strict_base64url_is_malformed(keyring, token, junk):
    """Reading the header to choose the key is lenient; PyJWT's strict check of it still refuses."""
    header_segment, rest = token.split(".", 1)
    assert _refusal(keyring, f"{header_segment}{junk}.{rest}") == MALFORMED


@pytest.mark.parametrize("which", [1, 2])
def test_a_payload_or_signature_segment_that_is_not_base64url_is_malformed(keyring, token, which):
    segments = token.split(".")
    segments[which] = "!!!!"
    assert _refusal(keyring, ".".join(segments)) == MALFORMED


@pytest.mark.parametrize("header, words", [
    ({"alg": "EdDSA"}, UNKNOWN_KEY),
    ({"alg": "EdDSA", "kid": "20990101-00000000"}, UNKNOWN_KEY),
    ({"alg": "none", "kid": None}, WRONG_ALGORITHM),  # kid filled in below
    ({"alg": "HS256", "kid": None}, WRONG_ALGORITHM),
    ({"kid": None}, WRONG_ALGORITHM),
], ids=["no-kid", "unknown-kid", "alg-none", "alg-hs256", "no-alg"])
def test_a_header_naming_no_key_of_ours_or_another_algorithm_is_refused_in_words(keyring, token, header, words):
    if "kid" in header and header["kid"] is None:
        header = {**header, "kid": keyring.current.kid}
    _, payload_segment, signature_segment = token.split(".")
    assert _refusal(keyring, f"{_segment(header)}.{payload_segment}.{signature_segment}") == words


def test_an_hs256_token_signed_with_our_public_key_bytes_is_refused(keyring):
    """The classic algorithm confusion: HMAC keyed with the public key. Refused before any key use."""
    public = keyring.current.public_key.public_bytes_raw()
    forged = jwt.encode({"sub": "1", "sid": "s", "iss": ISSUER, "aud": "pb-api", "iat": int(time.time()),
                         "exp": int(time.time()) + 60, "jti": "j"}, public, algorithm="HS256",
                        headers={"kid": keyring.current.kid})
    assert _refusal(keyring, forged) == WRONG_ALGORITHM


def test_a_changed_payload_or_a_foreign_signature_fails_the_signature_check(keyring, token):
    header_segment, payload_segment, signature_segment = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload_segment + "=="))
    changed = _segment({**claims, "sub": "1"})
    assert _refusal(keyring, f"{header_segment}.{changed}.{signature_segment}") == BAD_SIGNATURE
    other = issue_access_token(keyring, user_id=43, login_id="f" * 32, issuer=ISSUER, minutes=10)[0]
    assert _refusal(keyring, f"{header_segment}.{payload_segment}.{other.split('.')[2]}") == BAD_SIGNATURE


@given(text=st.text(max_size=400))
def test_any_text_as_a_token_is_refused_with_unauthorized(keyring, text):
    """Invariant: whatever text arrives as a token, verification raises ``Unauthorized`` (a 401),
    never another exception (a 500)."""
    with pytest.raises(Unauthorized):
        decode_access_token(keyring, text, issuer=ISSUER)


@given(rest=st.text(alphabet=st.sampled_from("ABCxyz019-_.=!+/é"), max_size=300))
def test_our_header_followed_by_any_text_is_refused_with_unauthorized(keyring, token, rest):
    """Invariant: behind a header that names our key and EdDSA (so PyJWT verifies the rest), any
    other text is refused with ``Unauthorized``, never another exception."""
    with pytest.raises(Unauthorized):
        decode_access_token(keyring, f"{token.partition('.')[0]}.{rest}", issuer=ISSUER)


@given(data=st.data())
def test_a_token_changed_in_one_character_is_refused(keyring, token, data):
    """Invariant: an issued token with any one character replaced by another is refused with
    ``Unauthorized``: the header, claims and signature are all covered, and PyJWT accepts only the
    canonical base64url of each segment."""
    position = data.draw(st.integers(0, len(token) - 1))
    character = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")
                          .filter(lambda c: c != token[position]))
    with pytest.raises(Unauthorized):
        decode_access_token(keyring, token[:position] + character + token[position + 1:], issuer=ISSUER)
