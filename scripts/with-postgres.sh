#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster under a temp dir, then remove it.
# Exports MENTORBOT_TEST_PG_URL for the command. Without PostgreSQL installed it skips,
# unless MENTORBOT_REQUIRE_POSTGRES=1 (set by .ci/run), where it fails.
set -euo pipefail

bindir=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && bindir="$dir"
done
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null 2>&1; then
  bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
fi
if [ -z "$bindir" ]; then
  if [ "${MENTORBOT_REQUIRE_POSTGRES:-}" = "1" ]; then
    echo "with-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "with-postgres: PostgreSQL is not installed; skipping the PostgreSQL run" >&2
  exit 0
fi

workdir=$(mktemp -d /tmp/mentorbot-pg.XXXXXX)
chmod 755 "$workdir"
# PostgreSQL refuses to run as root: run the server as the postgres user when we are root.
run_as=()
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$workdir"
  run_as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

stop() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap stop EXIT

"${run_as[@]}" "$bindir/initdb" -D "$workdir/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/log" -w start \
  -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($workdir)" >&2

export MENTORBOT_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
export PATH="$bindir:$PATH"
"$@"
