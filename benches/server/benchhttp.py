"""HTTP helpers shared by check.py and probes.py: credentials from the
environment and a GET that returns (status, body) for error statuses too."""

import os
import sys
import urllib.error
import urllib.request


def auth_headers(name):
    """{header: value} from the environment's AUTH_<NAME> header line, or {}."""
    line = os.environ.get(f"AUTH_{name.upper()}", "")
    if not line:
        return {}
    key, sep, value = line.partition(":")
    if not sep or not key.strip():
        sys.exit(f"AUTH_{name.upper()} is not a header line 'Name: value'")
    return {key.strip(): value.strip()}


def fetch(url, headers=None):
    """GET `url`: (status, body bytes), also for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
