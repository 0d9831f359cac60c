#!/usr/bin/env bash
# Start, stop or describe the local Redis, PostgreSQL (with TLS) and PgBouncer that the demo and the tests use.
#   scripts/services.sh start   start them (idempotent), then print the URLs (JOBCTL_SERVICES=basic: Redis,
#                               PostgreSQL and PgBouncer only)
#   scripts/services.sh stop    stop both (by pid file / pg_ctl; never pkill)
#   scripts/services.sh env     print `export` lines for the URLs
#   scripts/services.sh restart-redis / restart-postgres   a graceful restart on the same data (chaos)
# Loopback only, non-default ports, data in a temporary folder. Works as root (Postgres then runs as user
# postgres, which refuses to run as root) and as a normal user.
set -euo pipefail

DIR=${JOBCTL_SERVICES_DIR:-/tmp/jobctl-services-$(id -u)}
REDIS_PORT=${JOBCTL_REDIS_PORT:-56379}
PG_PORT=${JOBCTL_PG_PORT:-55432}
PGBOUNCER_PORT=${JOBCTL_PGBOUNCER_PORT:-56432}
REDIS_TLS_PORT=${JOBCTL_REDIS_TLS_PORT:-56380}
REDIS_MTLS_PORT=${JOBCTL_REDIS_MTLS_PORT:-56381}
# Sentinel: a master on this port, its replica on the next, three sentinels on the three after.
SENTINEL_BASE=${JOBCTL_REDIS_SENTINEL_BASE:-56391}
# Redis Cluster: 3 masters + 3 replicas on this port and the five after; a TLS cluster of 3 masters from base + 10.
# Cluster ports must stay at or below 55535: each node's bus listens on its port + 10000.
CLUSTER_BASE=${JOBCTL_REDIS_CLUSTER_BASE:-55301}
PG_BIN=${PG_BIN:-$( (pg_config --bindir 2>/dev/null) || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  echo "export JOBCTL_TEST_REDIS_URL=redis://127.0.0.1:${REDIS_PORT}/0"
  echo "export JOBCTL_TEST_POSTGRES_URL=postgresql://jobctl@127.0.0.1:${PG_PORT}/postgres"
  # PostgreSQL's certificate names only "localhost", signed by a CA of the tests' own.
  echo "export JOBCTL_TEST_POSTGRES_TLS_CA=$DIR/pg-run/tls/ca.crt"
  # Redis over TLS: a certificate for "localhost" only, from a CA of the tests' own (redis-tls/ca.crt; other-ca.crt
  # signed nothing there); the second port requires a client certificate (client.crt, client.key).
  echo "export JOBCTL_TEST_REDIS_TLS_URL=rediss://localhost:${REDIS_TLS_PORT}/0?ssl_ca_certs=$DIR/redis-tls/ca.crt"
  echo "export JOBCTL_TEST_REDIS_TLS_DIR=$DIR/redis-tls"
  echo "export JOBCTL_TEST_REDIS_MTLS_PORT=${REDIS_MTLS_PORT}"
  # Redis behind Sentinel: master 'jobctl-master' (a master and a replica), three sentinels.
  echo "export JOBCTL_TEST_REDIS_SENTINEL_NODES=127.0.0.1:${SENTINEL_BASE},127.0.0.1:$((SENTINEL_BASE + 1))"
  echo "export JOBCTL_TEST_REDIS_SENTINEL_URL=redis-sentinel://127.0.0.1:$((SENTINEL_BASE + 2)),127.0.0.1:$((SENTINEL_BASE + 3)),127.0.0.1:$((SENTINEL_BASE + 4))/0?master=jobctl-master"
  # Redis Cluster: three masters, each with a replica (the URL names one node; all six are listed), and a TLS
  # cluster of three masters that announce themselves as "localhost".
  echo "export JOBCTL_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:${CLUSTER_BASE}/0"
  echo "export JOBCTL_TEST_REDIS_CLUSTER_NODES=$(seq -s, -f "127.0.0.1:%g" "$CLUSTER_BASE" $((CLUSTER_BASE + 5)))"
  echo "export JOBCTL_TEST_REDIS_CLUSTER_TLS_URL=rediss://localhost:$((CLUSTER_BASE + 10))/0?ssl_ca_certs=$(
    )$DIR/redis-tls/ca.crt"
  # PgBouncer in transaction mode with one server connection, in front of that PostgreSQL.
  echo "export JOBCTL_TEST_PGBOUNCER_URL=postgresql://jobctl@127.0.0.1:${PGBOUNCER_PORT}/postgres"
}

# A CA and a server certificate for "localhost" (not 127.0.0.1), made once.
make_postgres_certificate() {
  local tls="$DIR/pg-run/tls"
  [ -s "$tls/server.key" ] && return
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=jobctl test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" \
    2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' >"$tls/san.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
    -extfile "$tls/san.ext" -out "$tls/server.crt" 2>/dev/null
  chmod 600 "$tls/server.key" "$tls/ca.key"
  chmod 644 "$tls/ca.crt" "$tls/server.crt"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$tls"; fi
}

# A CA, a server certificate for "localhost", a client certificate, and a CA that signed none of them.
make_redis_certificates() {
  local tls="$DIR/redis-tls"
  [ -s "$tls/client.key" ] && return
  mkdir -p "$tls"
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=jobctl $ca" \
      -keyout "$tls/$ca.key" -out "$tls/$ca.crt" 2>/dev/null
  done
  printf 'subjectAltName=DNS:localhost\n' >"$tls/server.ext"
  printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$tls/$who.key" -out "$tls/$who.csr" 2>/dev/null
    openssl x509 -req -in "$tls/$who.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
      -extfile "$tls/$who.ext" -out "$tls/$who.crt" 2>/dev/null
  done
  chmod 600 "$tls"/*.key
}

start_redis_tls() {
  make_redis_certificates
  local tls="$DIR/redis-tls" port clients name
  for port in "$REDIS_TLS_PORT" "$REDIS_MTLS_PORT"; do
    clients=no name=redis-tls
    if [ "$port" = "$REDIS_MTLS_PORT" ]; then clients=yes name=redis-mtls; fi
    if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then continue; fi
    mkdir -p "$DIR/$name"
    redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --tls-cert-file "$tls/server.crt" --tls-key-file "$tls/server.key" --tls-ca-cert-file "$tls/ca.crt" \
      --tls-auth-clients "$clients" --dir "$DIR/$name" --pidfile "$DIR/$name.pid" --logfile "$DIR/$name.log"
    for _ in $(seq 1 100); do
      (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
  done
}

start_sentinel() {
  local master=$SENTINEL_BASE replica=$((SENTINEL_BASE + 1)) port name
  for port in "$master" "$replica"; do
    name=redis-$port
    if redis-cli -p "$port" ping >/dev/null 2>&1; then continue; fi
    mkdir -p "$DIR/$name"
    local follow=()
    if [ "$port" = "$replica" ]; then follow=(--replicaof 127.0.0.1 "$master"); fi
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes "${follow[@]}" \
      --dir "$DIR/$name" --pidfile "$DIR/$name.pid" --logfile "$DIR/$name.log"
  done
  for port in $((SENTINEL_BASE + 2)) $((SENTINEL_BASE + 3)) $((SENTINEL_BASE + 4)); do
    name=sentinel-$port
    if redis-cli -p "$port" ping >/dev/null 2>&1; then continue; fi
    mkdir -p "$DIR/$name"
    printf '%s\n' "port $port" "bind 127.0.0.1" "daemonize yes" "pidfile $DIR/$name.pid" "logfile $DIR/$name.log" \
      "dir $DIR/$name" "sentinel monitor jobctl-master 127.0.0.1 $master 2" \
      "sentinel down-after-milliseconds jobctl-master 1000" "sentinel failover-timeout jobctl-master 5000" \
      >"$DIR/$name/sentinel.conf"
    redis-server "$DIR/$name/sentinel.conf" --sentinel
  done
  # Ready when each sentinel knows the replica and the two other sentinels (a failover needs both).
  for _ in $(seq 1 300); do
    local ready=0
    for port in $((SENTINEL_BASE + 2)) $((SENTINEL_BASE + 3)) $((SENTINEL_BASE + 4)); do
      redis-cli -p "$port" sentinel master jobctl-master 2>/dev/null | tr '\n' ' ' |
        grep -Eq 'num-slaves [1-9].*num-other-sentinels 2' && ready=$((ready + 1))
    done
    [ "$ready" = 3 ] && return
    sleep 0.1
  done
  echo "the sentinels did not see each other and the replica in 30 s; see $DIR/sentinel-*.log" >&2
  exit 1
}

# One cluster node (its settings again on a restart: the failover test kills one and starts it again).
start_cluster_node() {
  local port=$1 tls=${2:-} name="redis-cluster-$1" listen=(--port "$1")
  if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then return; fi
  mkdir -p "$DIR/$name"
  if [ -n "$tls" ]; then
    local certs="$DIR/redis-tls"
    listen=(--port 0 --tls-port "$port" --tls-cluster yes --tls-replication yes --tls-auth-clients no
      --tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key" --tls-ca-cert-file "$certs/ca.crt"
      --cluster-announce-hostname localhost --cluster-preferred-endpoint-type hostname)
  fi
  redis-server "${listen[@]}" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$DIR/$name/nodes.conf" \
    --cluster-node-timeout 2000 --cluster-replica-validity-factor 0 --save '' --appendonly no --daemonize yes \
    --dir "$DIR/$name" --pidfile "$DIR/$name.pid" --logfile "$DIR/$name.log"
}

# Waits until every node of `ports` says cluster_state:ok and knows them all, and every replica is in sync.
wait_for_cluster() {
  local ports=$1 cli=("${@:2}") port ok count
  count=$(echo "$ports" | wc -w)
  for _ in $(seq 1 300); do
    ok=1
    for port in $ports; do
      "${cli[@]}" -p "$port" cluster info 2>/dev/null | tr -d '\r' |
        grep -qzE "cluster_state:ok.*cluster_known_nodes:$count" || ok=0
      if [ "$("${cli[@]}" -p "$port" role 2>/dev/null | head -n1)" = slave ] &&
        [ "$("${cli[@]}" -p "$port" role 2>/dev/null | sed -n 4p)" != connected ]; then ok=0; fi
    done
    [ "$ok" = 1 ] && return
    sleep 0.1
  done
  echo "the Redis Cluster on ports $ports did not become ready in 30 s; see $DIR/redis-cluster-*.log" >&2
  exit 1
}

start_cluster() {
  local ports port nodes=()
  ports=$(seq -s ' ' "$CLUSTER_BASE" $((CLUSTER_BASE + 5)))
  for port in $ports; do start_cluster_node "$port"; nodes+=("127.0.0.1:$port"); done
  for port in $ports; do
    for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  if ! redis-cli -p "$CLUSTER_BASE" cluster info | grep -q 'cluster_slots_assigned:16384'; then
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/redis-cluster-create.log" 2>&1 ||
      { cat "$DIR/redis-cluster-create.log" >&2; exit 1; }
  fi
  wait_for_cluster "$ports" redis-cli

  make_redis_certificates
  local tls_ports tls_nodes=() certs="$DIR/redis-tls"
  tls_ports=$(seq -s ' ' $((CLUSTER_BASE + 10)) $((CLUSTER_BASE + 12)))
  for port in $tls_ports; do start_cluster_node "$port" tls; tls_nodes+=("localhost:$port"); done
  local cli=(redis-cli --tls --cacert "$certs/ca.crt" -h localhost)
  for port in $tls_ports; do
    for _ in $(seq 1 100); do "${cli[@]}" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  if ! "${cli[@]}" -p $((CLUSTER_BASE + 10)) cluster info | grep -q 'cluster_slots_assigned:16384'; then
    redis-cli --tls --cacert "$certs/ca.crt" --cluster create "${tls_nodes[@]}" --cluster-replicas 0 --cluster-yes \
      >"$DIR/redis-cluster-tls-create.log" 2>&1 || { cat "$DIR/redis-cluster-tls-create.log" >&2; exit 1; }
  fi
  wait_for_cluster "$tls_ports" "${cli[@]}"
}

start_pgbouncer() {
  local bouncer="$DIR/pg-run/pgbouncer" binary
  binary=$(command -v pgbouncer || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; } || true)
  [ -n "$binary" ] || { echo "pgbouncer not found: apt-get install pgbouncer" >&2; exit 1; }
  if [ -f "$bouncer/pgbouncer.pid" ] && kill -0 "$(cat "$bouncer/pgbouncer.pid")" 2>/dev/null; then return; fi
  mkdir -p "$bouncer"
  printf '"jobctl" ""\n' >"$bouncer/users.txt"
  printf '%s\n' "[databases]" "* = host=127.0.0.1 port=$PG_PORT" "" "[pgbouncer]" \
    "listen_addr = 127.0.0.1" "listen_port = $PGBOUNCER_PORT" "unix_socket_dir =" "auth_type = trust" \
    "auth_file = $bouncer/users.txt" "stats_users = jobctl" "pool_mode = transaction" "default_pool_size = 1" "max_client_conn = 500" \
    "pidfile = $bouncer/pgbouncer.pid" "logfile = $bouncer/pgbouncer.log" >"$bouncer/pgbouncer.ini"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$bouncer"; fi
  as_pg "$binary" -d "$bouncer/pgbouncer.ini" >/dev/null 2>&1 ||
    { cat "$bouncer/pgbouncer.log" >&2 2>/dev/null; exit 1; }
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$PGBOUNCER_PORT") 2>/dev/null && return
    sleep 0.1
  done
  echo "pgbouncer did not start; see $bouncer/pgbouncer.log" >&2
  exit 1
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
  command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install redis-server" >&2; exit 1; }
  mkdir -p "$DIR/redis"
  # JOBCTL_REDIS_APPENDONLY=yes: an append-only file synced every second, so that a restart keeps the data (chaos).
  local persistence=(--appendonly no)
  if [ "${JOBCTL_REDIS_APPENDONLY:-no}" = yes ]; then persistence=(--appendonly yes --appendfsync everysec); fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' "${persistence[@]}" --daemonize yes \
    --dir "$DIR/redis" --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "redis did not start; see $DIR/redis.log" >&2
  exit 1
}

start_postgres() {
  [ -x "$PG_BIN/pg_ctl" ] || { echo "PostgreSQL binaries not found: apt-get install postgresql" >&2; exit 1; }
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then
    chmod 755 "$DIR"
    mkdir -p "$DIR/pg-run"
    chown postgres "$DIR/pg-run"
  else
    mkdir -p "$DIR/pg-run"
  fi
  local data="$DIR/pg-run/data"
  if [ ! -s "$data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$data" -A trust -U jobctl >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  # One role must log in with a password, so that the tests can check wrong-password errors and redaction; every
  # other role is trusted on loopback.
  if ! grep -q '^host all jobctl_password_test ' "$data/pg_hba.conf"; then
    as_pg sed -i '1i host all jobctl_password_test 127.0.0.1/32 scram-sha-256' "$data/pg_hba.conf"
    if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then as_pg "$PG_BIN/pg_ctl" -D "$data" reload >/dev/null; fi
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then return; fi
  make_postgres_certificate
  local tls="$DIR/pg-run/tls"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$DIR/pg-run/pg.log" -w -t 60 \
    -o "-p $PG_PORT -k $DIR/pg-run -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on \
        -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" start >/dev/null ||
    { cat "$DIR/pg-run/pg.log" >&2; exit 1; }
}

case "${1:-}" in
  start)
    start_redis
    start_postgres
    start_pgbouncer
    # JOBCTL_SERVICES=basic: only those three (the chaos run's own servers; the other topologies keep fixed ports).
    if [ "${JOBCTL_SERVICES:-all}" != basic ]; then
      start_redis_tls
      start_sentinel
      start_cluster
    fi
    print_env
    ;;
  stop)
    for pidfile in "$DIR"/sentinel-*.pid "$DIR"/redis-5*.pid "$DIR"/redis-cluster-*.pid; do
      [ -f "$pidfile" ] || continue
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    done
    for name in redis-tls redis-mtls; do
      if [ -f "$DIR/$name.pid" ]; then kill "$(cat "$DIR/$name.pid")" 2>/dev/null || true; rm -f "$DIR/$name.pid"; fi
    done
    bouncer_pid="$DIR/pg-run/pgbouncer/pgbouncer.pid"
    if [ -f "$bouncer_pid" ]; then kill "$(cat "$bouncer_pid")" 2>/dev/null || true; rm -f "$bouncer_pid"; fi
    if [ -f "$DIR/redis.pid" ]; then kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; rm -f "$DIR/redis.pid"; fi
    if [ -s "$DIR/pg-run/data/PG_VERSION" ]; then as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg-run/data" -m fast stop >/dev/null 2>&1 || true; fi
    ;;
  env)
    print_env
    ;;
  restart-redis)
    # A graceful SHUTDOWN (the append-only file, when on, is flushed), then a start on the same data.
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || break; sleep 0.1; done
    rm -f "$DIR/redis.pid"
    start_redis
    ;;
  start-cluster-node)
    # A cluster node killed by a test, started again on its own data (it rejoins as a replica).
    start_cluster_node "${2:?usage: $0 start-cluster-node PORT}"
    wait_for_cluster "$(seq -s ' ' "$CLUSTER_BASE" $((CLUSTER_BASE + 5)))" redis-cli
    ;;
  restart-postgres)
    # A fast shutdown: sessions are ended, transactions in flight roll back.
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg-run/data" -m fast stop >/dev/null
    start_postgres
    ;;
  *)
    echo "usage: $0 start|stop|env|restart-redis|restart-postgres|start-cluster-node PORT" >&2
    exit 64
    ;;
esac
