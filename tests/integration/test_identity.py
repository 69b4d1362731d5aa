"""Identity (issue 12): auth_mode = jwt. Tokens are minted here (HS256 with the stack's key;
RS256 and ES256 with keys made by openssl for the test) and the daemon must accept exactly the
valid ones. The user is the token's sub: another user's reservations, lists and statistics are
404; a body userId that differs is 403; the admin token still works."""
import base64
import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path

import pytest

from openapi_check import api, expect, restart_daemon, tag  # noqa: F401 (api is a fixture)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parts(alg, claims):
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return head, b64url(json.dumps(claims).encode())


def hs256(key, claims, alg="HS256"):
    head, body = parts(alg, claims)
    return f"{head}.{body}." + b64url(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())


def openssl_sign(pem, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(pem)], input=data,
                          capture_output=True, check=True).stdout


def rs256(pem, claims):
    head, body = parts("RS256", claims)
    return f"{head}.{body}." + b64url(openssl_sign(pem, f"{head}.{body}".encode()))


def es256(pem, claims):
    """ECDSA's DER (SEQUENCE of INTEGER r, INTEGER s) as JWS wants it: r || s, 32 bytes each."""
    head, body = parts("ES256", claims)
    der = openssl_sign(pem, f"{head}.{body}".encode())
    assert der[0] == 0x30
    i = 2
    ints = []
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        ints.append(der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0"))
        i += 2 + n
    return f"{head}.{body}." + b64url(ints[0] + ints[1])


def claims(sub, **kw):
    now = int(time.time())
    c = {"sub": sub, "iat": now, "exp": now + 600}
    c.update(kw)
    return c


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def jwt_stack(stack):
    restart_daemon(stack, auth_mode="jwt", jwt_issuer="https://idp.test", jwt_audience="boxoffice")
    yield stack
    restart_daemon(stack, auth_mode=None, jwt_issuer=None, jwt_audience=None)


@pytest.fixture(scope="module")
def key(jwt_stack):
    return Path(jwt_stack.env["BOXOFFICE_JWT_HS256_KEY_FILE"]).read_bytes()


def good(key, sub):
    return hs256(key, claims(sub, iss="https://idp.test", aud="boxoffice"))


def reserve(api, event_id, token=None, user=None, qty=1):
    body = {"eventId": event_id, "quantity": qty}
    if user is not None:
        body["userId"] = user
    return api.call("POST", "/api/reservations", json=body, headers=bearer(token) if token else {},
                    check=False)


def test_user_endpoints_need_a_token(api, jwt_stack):
    ev = api.create_event(totalSeats=10)
    r = reserve(api, ev["id"], user="anybody")
    expect(r, 401, "UNAUTHORIZED")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    for method, path in (("GET", "/api/reservations/1"), ("DELETE", "/api/reservations/1"),
                         ("GET", "/api/reservations/user/anybody"), ("GET", "/api/users/anybody")):
        api.expect(method, path, 401, "UNAUTHORIZED")
    # public reads stay public
    api.expect("GET", f"/api/events/{ev['id']}", 200)


def test_the_user_is_the_tokens_sub(api, jwt_stack, key):
    ev = api.create_event(totalSeats=10)
    alice = f"alice-{tag()}"
    r = expect(reserve(api, ev["id"], good(key, alice)), 201)["data"]
    assert r["userId"] == alice
    expect(reserve(api, ev["id"], good(key, alice), user=alice), 201)
    expect(reserve(api, ev["id"], good(key, alice), user="bob"), 403, "FORBIDDEN")
    assert api.sold(ev["id"]) == 2


def test_nobody_sees_another_users_reservations(api, jwt_stack, key):
    ev = api.create_event(totalSeats=10)
    a, b = f"a-{tag()}", f"b-{tag()}"
    mine = expect(reserve(api, ev["id"], good(key, a)), 201)["data"]
    tb = good(key, b)
    api.expect("GET", f"/api/reservations/{mine['id']}", 404, "RESERVATION_NOT_FOUND", headers=bearer(tb))
    api.expect("DELETE", f"/api/reservations/{mine['id']}", 404, "RESERVATION_NOT_FOUND", headers=bearer(tb))
    api.expect("GET", f"/api/reservations/user/{a}", 404, "NOT_FOUND", headers=bearer(tb))
    api.expect("GET", f"/api/users/{a}", 404, "NOT_FOUND", headers=bearer(tb))
    assert api.sold(ev["id"]) == 1
    ta = good(key, a)
    api.expect("GET", f"/api/reservations/{mine['id']}", 200, headers=bearer(ta))
    listed = api.expect("GET", f"/api/reservations/user/{a}", 200, headers=bearer(ta))["data"]
    assert [x["id"] for x in listed["content"]] == [mine["id"]]
    # the admin token sees anyone's
    api.admin("GET", f"/api/reservations/{mine['id']}", 200)
    api.admin("GET", f"/api/users/{a}", 200)
    api.expect("DELETE", f"/api/reservations/{mine['id']}", 200, headers=bearer(ta))


def test_bad_tokens_are_401(api, jwt_stack, key):
    ev = api.create_event(totalSeats=10)
    u = f"u-{tag()}"
    now = int(time.time())
    head, body = parts("none", claims(u, iss="https://idp.test", aud="boxoffice"))
    tampered = good(key, u)
    h, b, s = tampered.split(".")
    forged_body = b64url(json.dumps(claims("someone-else", iss="https://idp.test", aud="boxoffice")).encode())
    bad = {
        "alg none": f"{head}.{body}.",
        "wrong key": hs256(b"not the key at all, not at all!!", claims(u, iss="https://idp.test",
                                                                         aud="boxoffice")),
        "expired": hs256(key, claims(u, iss="https://idp.test", aud="boxoffice", exp=now - 120)),
        "not yet valid": hs256(key, claims(u, iss="https://idp.test", aud="boxoffice", nbf=now + 120)),
        "wrong audience": hs256(key, claims(u, iss="https://idp.test", aud="somebody")),
        "wrong issuer": hs256(key, claims(u, iss="https://evil.test", aud="boxoffice")),
        "no sub": hs256(key, {"iss": "https://idp.test", "aud": "boxoffice", "exp": now + 600}),
        "tampered payload": f"{h}.{forged_body}.{s}",
        "HS384": hs256(key, claims(u, iss="https://idp.test", aud="boxoffice"), alg="HS384"),
        "garbage": "a.b.c",
    }
    for what, token in bad.items():
        r = reserve(api, ev["id"], token)
        assert r.status_code == 401, (what, r.status_code, r.text)
        expect(r, 401, "UNAUTHORIZED")
    assert api.sold(ev["id"]) == 0
    # an audience in an array, and a small clock skew, are fine
    ok = hs256(key, claims(u, iss="https://idp.test", aud=["other", "boxoffice"], nbf=now + 5))
    expect(reserve(api, ev["id"], ok), 201)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_public_key_algorithms(api, stack, tmp_path, alg):
    priv, pub = tmp_path / "priv.pem", tmp_path / "pub.pem"
    gen = (["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if alg == "RS256"
           else ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
    subprocess.run(gen + ["-out", str(priv)], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(priv), "-pubout", "-out", str(pub)], check=True,
                   capture_output=True)
    pub.chmod(0o644)
    restart_daemon(stack, auth_mode="jwt", jwt_algorithm=alg, jwt_key_file=str(pub))
    try:
        ev = api.create_event(totalSeats=10)
        u = f"pk-{tag()}"
        sign = rs256 if alg == "RS256" else es256
        expect(reserve(api, ev["id"], sign(priv, claims(u))), 201)
        # the public key's bytes as an HMAC secret: the classic confusion, refused
        confused = hs256(pub.read_bytes(), claims(u))
        expect(reserve(api, ev["id"], confused), 401, "UNAUTHORIZED")
        other = tmp_path / "other.pem"
        subprocess.run(gen + ["-out", str(other)], check=True, capture_output=True)
        expect(reserve(api, ev["id"], sign(other, claims(u))), 401, "UNAUTHORIZED")
        assert api.sold(ev["id"]) == 1
    finally:
        restart_daemon(stack, auth_mode=None, jwt_algorithm=None, jwt_key_file=None)
