"""Schemathesis hooks for tests/api/api_fuzz.rs: a check that every error
response (4xx and 5xx) of API 1 carries the service's one JSON error body,
`{"error": {"code": str, "message": str, ...}}` with `application/json`,
whatever its status (also those the OpenAPI document does not list, such as
405 or 406)."""

import json

import schemathesis


@schemathesis.check
def one_error_body(ctx, response, case):
    """4xx/5xx: `application/json` with error.code and error.message strings."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type")
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else None
    media_type = (content_type or "").split(";")[0].strip().lower()
    if (
        media_type == "text/html"
        and case.method.upper() == "GET"
        and case.operation.path.endswith("/invitations/{token}/accept")
    ):
        # The mailed invitation link opened in a browser: its 404 and 410
        # answers are HTML pages by design (README, "In a browser").
        return None
    if media_type != "application/json":
        raise AssertionError(
            f"{response.status_code} without the JSON error body: Content-Type {content_type!r}"
        )
    try:
        body = json.loads(response.content or b"")
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} body is not JSON: {exc}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        raise AssertionError(
            f"{response.status_code} body is not the one error body: {str(body)[:200]}"
        )
    return None
