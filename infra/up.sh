#!/usr/bin/env bash
# Starts, on loopback, every server the project needs: Kafka 4.x (KRaft, one combined node),
# Redis (the machine's, started only if it does not answer), dynalite (DynamoDB API) and s3rver (S3 API).
# Idempotent: what already runs is left alone. Data and logs under .data/. Exits non-zero naming what failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
mkdir -p "$RUN" "$LOGS"

KAFKA_PORT=9092
REDIS_PORT=6379
DYNAMO_PORT=8000
S3_PORT=4569
MAVEN_TIMEOUT="${INFRA_MAVEN_TIMEOUT:-600}"
KAFKA_TIMEOUT="${INFRA_KAFKA_TIMEOUT:-90}"
PORT_TIMEOUT="${INFRA_PORT_TIMEOUT:-30}"

# wait_port NAME PORT SECONDS [PIDNAME]: until the port answers; fails early if the process died.
wait_port() {
  local name="$1" port="$2" seconds="$3" pidname="${4:-}" deadline=$((SECONDS + $3))
  until port_open "$port"; do
    if [[ -n "$pidname" ]] && ! kill -0 "$(cat "$RUN/$pidname.pid")" 2>/dev/null; then
      fail "$name exited during start-up; see $LOGS/$pidname.log"
    fi
    ((SECONDS < deadline)) || fail "$name did not open 127.0.0.1:$port within ${seconds}s${pidname:+; see $LOGS/$pidname.log}"
    sleep 0.3
  done
}

# start NAME MARKER PORT COMMAND...: a detached background process with a pid file and a log file.
start() {
  local name="$1" marker="$2" port="$3"
  shift 3
  if pid_alive "$name" "$marker"; then
    log "$name already running (pid $(cat "$RUN/$name.pid"))"
  elif port_open "$port"; then
    log "$name: 127.0.0.1:$port already answers (not started by this script): using it"
    return 0
  else
    log "starting $name on 127.0.0.1:$port"
    setsid nohup "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
  fi
  wait_port "$name" "$port" "$PORT_TIMEOUT" "$name"
}

redis_up() {
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "redis answers on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null || fail "Redis does not answer on 127.0.0.1:$REDIS_PORT and redis-server is not installed"
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" >/dev/null
  local deadline=$((SECONDS + PORT_TIMEOUT))
  until redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "redis-server did not answer PING within ${PORT_TIMEOUT}s; see $LOGS/redis.log"
    sleep 0.3
  done
}

kafka_libs() {
  local libs="$DATA/kafka/libs" stamp="$DATA/kafka/libs.stamp"
  if [[ -f "$stamp" && "$stamp" -nt infra/kafka/pom.xml ]]; then return 0; fi
  command -v mvn >/dev/null || fail "Kafka jars: mvn is not installed"
  log "Kafka jars: resolving infra/kafka/pom.xml with Maven (first run downloads ~60 MB; at most ${MAVEN_TIMEOUT}s)"
  rm -rf "$libs"
  if ! timeout "$MAVEN_TIMEOUT" mvn -B -ntp -f infra/kafka/pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >"$LOGS/kafka-maven.log" 2>&1; then
    tail -20 "$LOGS/kafka-maven.log" >&2
    fail "Kafka jars: Maven failed or took over ${MAVEN_TIMEOUT}s; see $LOGS/kafka-maven.log"
  fi
  log "Kafka jars: $(ls "$libs" | wc -l) jars in $libs"
  touch "$stamp"
}

KAFKA_JVM=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.xml" -Dkafka.logs.dir="$LOGS/kafka"
  -cp "$DATA/kafka/libs/*")
kafka_java() { java "${KAFKA_JVM[@]}" "$@"; }

kafka_up() {
  if pid_alive kafka kafka.Kafka; then
    log "kafka already running (pid $(cat "$RUN/kafka.pid"))"
  elif port_open "$KAFKA_PORT"; then
    log "kafka: 127.0.0.1:$KAFKA_PORT already answers (not started by this script): using it"
  else
    command -v java >/dev/null || fail "Kafka: java is not installed"
    kafka_libs
    mkdir -p "$LOGS/kafka" "$DATA/kafka/data"
    if [[ ! -f "$DATA/kafka/data/meta.properties" ]]; then
      local cluster_id
      cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka-format.log")" ||
        fail "Kafka: StorageTool random-uuid failed; see $LOGS/kafka-format.log"
      log "Kafka: formatting storage (cluster $cluster_id)"
      kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c infra/kafka/server.properties --standalone \
        >>"$LOGS/kafka-format.log" 2>&1 || fail "Kafka: storage format failed; see $LOGS/kafka-format.log"
    fi
    log "starting kafka on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:9093)"
    setsid nohup java "${KAFKA_JVM[@]}" kafka.Kafka infra/kafka/server.properties \
      </dev/null >>"$LOGS/kafka.log" 2>&1 &
    echo $! >"$RUN/kafka.pid"
  fi
  local deadline=$((SECONDS + KAFKA_TIMEOUT))
  wait_port kafka "$KAFKA_PORT" "$KAFKA_TIMEOUT" "$([[ -f "$RUN/kafka.pid" ]] && echo kafka)"
  local left=$((deadline - SECONDS))
  ((left > 5)) || left=5
  local offsets_partitions
  offsets_partitions="$(sed -n 's/^offsets\.topic\.num\.partitions=//p' infra/kafka/server.properties)"
  node infra/kafka-ready.mjs "127.0.0.1:$KAFKA_PORT" "$left" "${offsets_partitions:-50}" ||
    fail "kafka: not ready (metadata and group coordinator); see $LOGS/kafka/server.log"
  log "kafka ready"
}

# `up.sh kafka-libs`: only the Kafka jars (for tests that start brokers of their own).
if [[ "${1:-}" == "kafka-libs" ]]; then kafka_libs; exit 0; fi

[[ -d node_modules/dynalite && -d node_modules/@20minutes/s3rver ]] || fail "node_modules missing: run npm ci first"
redis_up
# dynalite keeps its tables in memory, as the Redis started here keeps its keys: they last as long as the
# process. In memory it serves a write with 20-50 % less CPU than on LevelDB files. INFRA_DYNALITE_PATH=DIR keeps them on disk.
start dynalite dynalite "$DYNAMO_PORT" node node_modules/dynalite/cli.js --host 127.0.0.1 --port "$DYNAMO_PORT" \
  ${INFRA_DYNALITE_PATH:+--path "$INFRA_DYNALITE_PATH"} --createTableMs 0 --deleteTableMs 0 --updateTableMs 0
# s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
start s3rver s3rver "$S3_PORT" node --openssl-legacy-provider infra/s3rver.cjs "$S3_PORT" "$DATA/s3"
kafka_up

cat <<ENV
[infra] all servers up. Environment for the live layers:
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
DYNAMODB_ENDPOINT=http://127.0.0.1:$DYNAMO_PORT
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
S3_BUCKET=product-events-archive
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
ENV
