"""The test's identity provider: RS256 tokens for the converged node (tests/ansible/run).

tests/ansible/run makes an RSA key pair and converges the node with its public key
(auth_mode jwt, the role's default); the tests sign tokens with the private key
($BOXOFFICE_JWT_PRIVATE_KEY), with the issuer and audience of tests/ansible/vars/chroot.yml.
In-process signing (python3-cryptography, which ansible-core depends on) keeps a fresh token
per reservation cheap under the upgrade test's load.
"""
import base64
import json
import os
import time

import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """Signs RS256 tokens with one private key, for one issuer and audience."""

    def __init__(self, key, iss, aud):
        self.key, self.iss, self.aud = key, iss, aud

    @classmethod
    def from_environment(cls):
        with open(os.environ["BOXOFFICE_JWT_PRIVATE_KEY"], "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        with open(os.path.join(HERE, "vars", "chroot.yml"), encoding="utf-8") as f:
            v = yaml.safe_load(f)
        return cls(key, v["boxoffice_jwt_issuer"], v["boxoffice_jwt_audience"])

    def impostor(self):
        """The same issuer and audience, but a key the node has never seen."""
        return Issuer(rsa.generate_private_key(public_exponent=65537, key_size=2048), self.iss, self.aud)

    def token(self, sub, ttl=3600, **claims):
        now = int(time.time())
        body = {"sub": sub, "iat": now, "exp": now + ttl, "iss": self.iss, "aud": self.aud}
        body.update(claims)
        signed = (_b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." +
                  _b64url(json.dumps(body).encode()))
        return signed + "." + _b64url(self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))

    def bearer(self, sub, **claims):
        return {"Authorization": "Bearer " + self.token(sub, **claims)}
