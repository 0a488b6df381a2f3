"""An independent OpenID Connect relying party (Authlib, Debian's python3-authlib) for the tests
of twofold-server: discovery, the code flow with PKCE (S256), the token request
(client_secret_basic), ID token validation (signature against the JWKS, iss, aud, nonce, exp,
at_hash) and userinfo.

Usage: oidc_rp.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
Prints the authorization URL on a line; reads the callback URL the browser was sent to from
standard input; prints the verified claims and the userinfo answer as one JSON line.
"""

import json
import secrets
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

TIMEOUT = 10


def main():
    issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert meta["issuer"] == issuer, meta
    session = OAuth2Session(
        client_id,
        client_secret,
        scope="openid profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    url, _state = session.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    print(url, flush=True)
    callback = sys.stdin.readline().strip()
    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        timeout=TIMEOUT,
    )
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=TIMEOUT).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    userinfo = session.get(meta["userinfo_endpoint"], timeout=TIMEOUT).json()
    print(json.dumps({"claims": dict(claims), "userinfo": userinfo}), flush=True)


if __name__ == "__main__":
    main()
