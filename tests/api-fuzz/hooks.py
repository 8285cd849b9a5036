"""Schemathesis hooks for WildID's API fuzz test (tests/tests/suite/api_fuzz.rs).

The session is signed in by the Rust test, which passes its cookie and anti-forgery token in
WILDID_FUZZ_COOKIE and WILDID_FUZZ_CSRF. They are added to generated test cases only, through
an auth provider: schemathesis's start-up probes go out without them, so a probe (sent with
another User-Agent) cannot end the session by a fingerprint mismatch.
"""

import json
import os

import schemathesis


@schemathesis.auth()
class WildIdSession:
    def get(self, case, context):
        return os.environ["WILDID_FUZZ_COOKIE"], os.environ["WILDID_FUZZ_CSRF"]

    def set(self, case, data, context):
        cookie, csrf = data
        case.headers = case.headers or {}
        case.headers["Cookie"] = cookie
        case.headers["X-CSRF-Token"] = csrf


@schemathesis.serializer("application/csp-report")
def csp_report(context, value):
    """Browsers send CSP reports as JSON under their own media type."""
    return json.dumps(value).encode()
