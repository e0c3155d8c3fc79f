# Shared by run.sh, instructions.sh and ab.sh (sourced, not run).

# Our server's settings under a load generator: the per-client rate limit
# and the caps on concurrent reads off, so that the load does not turn
# into 429s; every other setting default.
OURS_LOAD_ENV=(APP_RATE_LIMIT_PER_MINUTE=0 APP_READS_PER_CLIENT=0 APP_READS_PER_TENANT=0 APP_READS_TENANT_SHARE=0)

# new_basic_client BIN TENANT ORG: creates an API client of TENANT/ORG with
# `BIN clients create --json` (DATABASE_URL as set) and sets CLIENT_ID and
# OURS_AUTH (the `Authorization: Basic …` header line with its id and
# secret); exits when the command printed no id or secret.
new_basic_client() {
  local creds secret
  creds=$("$1" clients create --tenant "$2" --org "$3" --json)
  CLIENT_ID=$(jq -er .clientId <<<"$creds") && secret=$(jq -er .clientSecret <<<"$creds") \
    || { echo "clients create --json printed no clientId/clientSecret" >&2; exit 1; }
  OURS_AUTH="Authorization: Basic $(printf '%s:%s' "$CLIENT_ID" "$secret" | base64 -w0)"
}
