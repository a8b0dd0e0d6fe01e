# Shared by bin/triage and the CLI wrappers in bin/. Sourced, not executed.
# Everything bin/triage starts writes under .local/ (data, logs, pids), ignored by git.

LOCAL_DIR="$ROOT/.local"
RUN_DIR="$LOCAL_DIR/run"
LOG_DIR="$LOCAL_DIR/logs"
DATA_DIR="$LOCAL_DIR/data"
STACK_DIR="$ROOT/target/local"
LIB_DIR="$STACK_DIR/lib"                 # broker, Kafka CLIs, local tools
FLINK_LIB="$STACK_DIR/flink/lib"         # the Flink cluster's classpath
FLINK_PLUGINS="$STACK_DIR/flink/plugins" # metrics reporter plugin
JOB_JAR="$ROOT/target/triage-job.jar"
FLINK_CONF_SRC="$ROOT/flink-conf"     # the cluster settings, as committed
FLINK_CONF="$LOCAL_DIR/conf"           # the same plus this checkout's absolute data paths
KAFKA_BOOTSTRAP="localhost:9092"
LLM_PORT=8000
FLINK_UI="http://localhost:8081"
JOB_NAME="support-triage"
# Job settings files, layered left to right (later files override earlier ones), e.g.
# TRIAGE_SETTINGS="jobs/local.yaml jobs/backends/vllm.yaml" bin/triage up
read -r -a JOB_SETTINGS <<< "${TRIAGE_SETTINGS:-jobs/local.yaml}"
for i in "${!JOB_SETTINGS[@]}"; do
  [[ "${JOB_SETTINGS[$i]}" == /* ]] || JOB_SETTINGS[$i]="$ROOT/${JOB_SETTINGS[$i]}"
done
# The secret the job signs its results with, so that only they are read back as customer history
# (customers.history-key-file); made once per stack, readable by this user only.
HISTORY_KEY="$DATA_DIR/history.key"
JOB_SETTINGS+=("customers.history-key-file=$HISTORY_KEY")
ensure_history_key() {
  [[ -s "$HISTORY_KEY" ]] && return 0
  mkdir -p "$DATA_DIR"
  (umask 077 && head -c 32 /dev/urandom > "$HISTORY_KEY")
}

die() { echo "bin/triage: $*" >&2; exit 1; }
say() { echo "==> $*" >&2; }

require_prereqs() {
  command -v java >/dev/null || die "java is not on PATH (Java 17+ is needed)"
  command -v mvn >/dev/null || die "mvn is not on PATH (Maven 3.8+ is needed)"
  command -v curl >/dev/null || die "curl is not on PATH"
  local v
  v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
  [[ "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Java 17+ is needed, found $v"
}

# Builds the job jar and the local classpaths when sources changed since the last build.
build_if_needed() {
  local stamp="$STACK_DIR/.built"
  if [[ "${1:-}" != "--force" && -f "$stamp" && -f "$JOB_JAR" ]] \
     && [[ -z "$(find "$ROOT/src/main" "$ROOT/pom.xml" "$ROOT/bin/lib/flink-cluster.pom.xml" -newer "$stamp" -print -quit)" ]]; then
    return 0
  fi
  say "Building (mvn package; first run downloads dependencies)"
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never package -DskipTests) || die "build failed"
  rm -rf "$STACK_DIR"
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never dependency:copy-dependencies -DincludeScope=test \
      -DoutputDirectory="$LIB_DIR") || die "copying the local classpath failed"
  mvn -B -q -Dstyle.color=never -f "$ROOT/bin/lib/flink-cluster.pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$FLINK_LIB" || die "copying the Flink cluster classpath failed"
  mkdir -p "$FLINK_PLUGINS/metrics-prometheus"
  cp "$LIB_DIR"/flink-metrics-prometheus-*.jar "$FLINK_PLUGINS/metrics-prometheus/"
  touch "$stamp"
}

tools_cp() { echo "$ROOT/target/classes:$LIB_DIR/*"; }

run_tools() {
  java -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" -cp "$(tools_cp)" \
    dev.triage.tools.cli.TriageTools "$@"
}

exec_tools() {
  exec java -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" -cp "$(tools_cp)" \
    dev.triage.tools.cli.TriageTools "$@"
}

flink_java_opts() {
  sed -n 's/^env\.java\.opts\.all: *//p' "$FLINK_CONF_SRC/config.yaml"
}

# Writes the effective Flink configuration: flink-conf/ plus the absolute checkpoint, savepoint
# and temp paths under .local/, so that every Flink process (and the CLI) sees the same.
prepare_flink_conf() {
  mkdir -p "$FLINK_CONF" "$DATA_DIR/tmp"
  cp "$FLINK_CONF_SRC"/log4j*.properties "$FLINK_CONF/"
  {
    cat "$FLINK_CONF_SRC/config.yaml"
    echo
    echo "# Added by bin/triage for this checkout:"
    echo "execution.checkpointing.dir: file://$DATA_DIR/checkpoints"
    echo "execution.checkpointing.savepoint-dir: file://$DATA_DIR/savepoints"
    echo "io.tmp.dirs: $DATA_DIR/tmp"
  } >"$FLINK_CONF/config.yaml"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

is_running() {
  local f="$RUN_DIR/$1.pid"
  [[ -f "$f" ]] && pid_alive "$(cat "$f")"
}

# A process that exists and is not a zombie: a process killed with kill -9 stays a zombie until
# its parent reaps it (never, where no init reaps orphans), and kill -0 still succeeds on it.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != Z ]]
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s.
# With WAIT_FOR_SERVICE=name set, gives up as soon as that service's process has died.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    [[ $(date +%s) -lt $deadline ]] || die "timed out after ${timeout}s waiting for $what (logs: $LOG_DIR)"
    if [[ -n "${WAIT_FOR_SERVICE:-}" ]] && ! is_running "$WAIT_FOR_SERVICE"; then
      die "$WAIT_FOR_SERVICE exited while starting; see $LOG_DIR/$WAIT_FOR_SERVICE.log and .out"
    fi
    sleep 0.5
  done
}

# start_service NAME COMMAND...: starts COMMAND in the background in its own session (so that
# Ctrl-C or a signal to the calling command's process group does not reach it); records its PID.
start_service() {
  local name="$1"; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if command -v setsid >/dev/null; then
    setsid "$@" >>"$LOG_DIR/$name.out" 2>&1 </dev/null &
  else
    nohup "$@" >>"$LOG_DIR/$name.out" 2>&1 </dev/null &
  fi
  echo $! >"$RUN_DIR/$name.pid"
}

stop_service() {
  local name="$1" f="$RUN_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

require_free_port() {
  port_in_use "$1" && die "port $1 is taken (needed for $2); stop whatever uses it, or \`bin/triage down\`"
  return 0
}

start_kafka() {
  if is_running kafka; then echo "kafka already running"; return 0; fi
  require_free_port 9092 "Kafka"
  require_free_port 9093 "the Kafka controller"
  local dir="$DATA_DIR/kafka" props="$DATA_DIR/kafka/server.properties"
  mkdir -p "$dir"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/logs
num.partitions=4
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# The sinks' transactions must outlive a night of bin/triage down: a restore later than the
# timeout finds the last checkpoint's transaction aborted and its results lost. 7 days, as
# kafka.transaction-timeout in jobs/local.yaml (and as transactional.id.expiration.ms).
transaction.max.timeout.ms=604800000
PROPS
  # `bin/triage up --secure` adds a TLS + SASL/SCRAM listener here (a later key wins over an earlier one).
  if [[ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]]; then printf '%s\n' "$KAFKA_EXTRA_PROPERTIES" >>"$props"; fi
  local kjava=(java -Xmx512m -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j.properties"
               -Dlog.file="$LOG_DIR/kafka.log" -cp "$LIB_DIR/*")
  if [[ ! -f "$dir/logs/meta.properties" ]]; then
    local id
    id=$("${kjava[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    "${kjava[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$props" >>"$LOG_DIR/kafka.out" 2>&1 \
      || die "formatting Kafka storage failed (see $LOG_DIR/kafka.out)"
  fi
  say "Starting Kafka broker on $KAFKA_BOOTSTRAP"
  start_service kafka "${kjava[@]}" kafka.Kafka "$props"
  WAIT_FOR_SERVICE=kafka wait_until 60 "Kafka on port 9092" port_in_use 9092
}

# start_llm_server LATENCY_MS [PROFILE]: LATENCY_MS 0 keeps the profile's latency.
start_llm_server() {
  local latency="${1:-0}" profile="${2:-}" args=()
  if is_running llm-server; then echo "llm-server already running"; return 0; fi
  require_free_port "$LLM_PORT" "the local model server"
  [[ -n "$profile" ]] && args+=(--profile "$profile")
  [[ "$latency" != 0 || -z "$profile" ]] && args+=(--latency-ms "$latency")
  args+=(--triager "${TRIAGER:-embeddings}")
  say "Starting the local model server on http://localhost:$LLM_PORT/v1 (${TRIAGER:-embeddings} model, ${profile:+profile $profile, }latency ${latency} ms)"
  start_service llm-server java -Xmx256m -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    -cp "$(tools_cp)" dev.triage.tools.cli.TriageTools llm-server --port "$LLM_PORT" "${args[@]}"
  WAIT_FOR_SERVICE=llm-server wait_until 30 "the model server" curl -fsS "http://localhost:$LLM_PORT/health"
}

# promtool and prometheus from Debian's prometheus package, installed when missing (as root).
require_prometheus() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null \
    || die "Prometheus is not installed: apt-get install prometheus (Debian's package)"
  say "Installing Debian's prometheus package (promtool, prometheus)"
  apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1; } \
    || die "could not install the prometheus package"
}

start_prometheus() {
  if is_running prometheus; then echo "prometheus already running"; return 0; fi
  require_prometheus
  require_free_port 9090 "Prometheus"
  say "Starting Prometheus on http://localhost:9090 (scraping the cluster's metrics, alert rules loaded)"
  mkdir -p "$DATA_DIR/prometheus"
  start_service prometheus prometheus --config.file="$ROOT/flink-conf/prometheus/prometheus.yml" \
    --storage.tsdb.path="$DATA_DIR/prometheus" --web.listen-address=localhost:9090
  WAIT_FOR_SERVICE=prometheus wait_until 30 "Prometheus" curl -fsS http://localhost:9090/-/ready
}

# Prints the JVM and dynamic-config arguments Flink's own scripts would use (GET_JM/TM_RESOURCE_PARAMS).
flink_resource_params() {
  java -cp "$FLINK_LIB/*" -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$FLINK_CONF" 2>/dev/null \
    | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

start_jobmanager() {
  if is_running jobmanager; then echo "jobmanager already running"; return 0; fi
  require_free_port 8081 "the Flink web UI"
  require_free_port 6123 "the Flink JobManager"
  prepare_flink_conf
  local params jvm dyn
  params="$(flink_resource_params GET_JM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | sed -n 1p)"; dyn="$(echo "$params" | sed -n 2p)"
  say "Starting Flink JobManager (web UI $FLINK_UI)"
  # shellcheck disable=SC2046,SC2086
  FLINK_PLUGINS_DIR="$FLINK_PLUGINS" start_service jobmanager java $jvm $(flink_java_opts) \
    -Dlog.file="$LOG_DIR/jobmanager.log" -Dlog4j.configurationFile="$FLINK_CONF_SRC/log4j.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j.properties" -cp "$FLINK_LIB/*" \
    org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
    --configDir "$FLINK_CONF" --executionMode cluster $dyn
  WAIT_FOR_SERVICE=jobmanager wait_until 90 "the JobManager's REST API" curl -fsS "$FLINK_UI/overview"
}

start_taskmanager() {
  local n="$1" name="taskmanager-$1"
  if is_running "$name"; then echo "$name already running"; return 0; fi
  ensure_history_key
  prepare_flink_conf
  local params jvm dyn
  params="$(flink_resource_params GET_TM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | sed -n 1p)"; dyn="$(echo "$params" | sed -n 2p)"
  say "Starting Flink TaskManager $n"
  # shellcheck disable=SC2046,SC2086
  FLINK_PLUGINS_DIR="$FLINK_PLUGINS" start_service "$name" java $jvm $(flink_java_opts) \
    -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="$FLINK_CONF_SRC/log4j.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j.properties" -cp "$FLINK_LIB/*" \
    org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$FLINK_CONF" \
    -D "taskmanager.resource-id=tm-$n" $dyn
}

taskmanager_count() {
  curl -fsS "$FLINK_UI/taskmanagers" | grep -o '"id":"' | wc -l
}

# Resource ids (tm-N) the JobManager lists; a killed TaskManager stays listed until its heartbeat
# times out, so counting them right after a kill -9 counts the dead one.
registered_taskmanager_ids() {
  curl -fsS "$FLINK_UI/taskmanagers" 2>/dev/null | grep -oE '"id":"tm-[0-9]+"' | sed 's/"id":"//; s/"$//'
}

wait_for_taskmanagers() {
  local want="$1"
  wait_until 120 "$want TaskManagers to register" test_tm_count "$want"
}
test_tm_count() { [[ "$(taskmanager_count)" -ge "$1" ]]; }

# wait_for_taskmanager N: until TaskManager N's own resource id (tm-N) has registered.
wait_for_taskmanager() {
  WAIT_FOR_SERVICE="taskmanager-$1" wait_until 120 "TaskManager tm-$1 to register" \
    test_tm_registered "tm-$1"
}
test_tm_registered() { registered_taskmanager_ids | grep -qx "$1"; }

kafka_cli() {
  java -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" -cp "$LIB_DIR/*" "$@"
}

create_topics() {
  say "Creating topics (tickets: 8 partitions, triage-results: 4, triage-dlq: 1, customers: 4, compacted)"
  local spec name parts
  for spec in tickets:8 triage-results:4 triage-dlq:1; do
    name="${spec%%:*}"; parts="${spec##*:}"
    wait_until 60 "topic $name" kafka_cli org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists --topic "$name" \
      --partitions "$parts" --replication-factor 1
  done
  wait_until 60 "topic customers" kafka_cli org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists --topic customers \
    --partitions 4 --replication-factor 1 --config cleanup.policy=compact
}

flink_cli() {
  prepare_flink_conf
  FLINK_CONF_DIR="$FLINK_CONF" FLINK_PLUGINS_DIR="$FLINK_PLUGINS" \
    java $(flink_java_opts) -Dlog4j.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    -cp "$FLINK_LIB/*" org.apache.flink.client.cli.CliFrontend "$@"
}

# Jobs of our name that are not finished (RUNNING, CREATED, RESTARTING, ...).
count_running_jobs() {
  curl -fsS "$FLINK_UI/jobs/overview" 2>/dev/null \
    | grep -oE "\"name\":\"$JOB_NAME\",[^}]*\"state\":\"(RUNNING|CREATED|INITIALIZING|RESTARTING)\"" \
    | wc -l
}

job_is_running() {
  curl -fsS "$FLINK_UI/jobs/overview" | grep -qE "\"name\":\"$JOB_NAME\",[^}]*\"state\":\"RUNNING\""
}

# Submits the job unless it runs. It resumes from the latest retained checkpoint when there is one
# (after `bin/triage down` or a cancel), so that stopping and starting the stack keeps every ticket
# answered exactly once; FRESH=true starts from the committed Kafka offsets with empty state.
submit_job() {
  if [[ "$(count_running_jobs)" -gt 0 ]]; then
    echo "job $JOB_NAME already running"
    return 0
  fi
  local chk=""
  [[ "${FRESH:-false}" == "true" ]] || chk="$(latest_checkpoint)"
  if [[ -n "$chk" ]]; then
    say "Submitting the job from its latest retained checkpoint: flink run -d -s $chk ..."
    flink_cli run -d -s "$chk" "$JOB_JAR" "${JOB_SETTINGS[@]}" || die "flink run -s failed"
  else
    local secure=""
    if declare -F secure_is_on >/dev/null && secure_is_on; then
      secure=" jobs/local-secure.yaml (Kafka over TLS + SASL/SCRAM)"
    fi
    say "Submitting the job: flink run -d $JOB_JAR ${TRIAGE_SETTINGS:-jobs/local.yaml}$secure"
    flink_cli run -d "$JOB_JAR" "${JOB_SETTINGS[@]}" || die "flink run failed"
  fi
  wait_until 60 "the job to run" job_is_running
}

tools_java_json_jobs() {
  grep -oE '"jid":"[^"]+"|"name":"[^"]+"|"state":"[^"]+"' | sed 's/"//g' | paste -d' ' - - - \
    | sed 's/^/  /'
}

# The id of the running job of our name (empty when none).
running_job_id() {
  curl -fsS "$FLINK_UI/jobs/overview" 2>/dev/null \
    | grep -oE "\"jid\":\"[0-9a-f]+\",\"name\":\"$JOB_NAME\",[^}]*\"state\":\"(RUNNING|CREATED|INITIALIZING|RESTARTING)\"" \
    | head -1 | sed -E 's/"jid":"([0-9a-f]+)".*/\1/'
}

running_taskmanagers() {
  local f
  for f in "$RUN_DIR"/taskmanager-*.pid; do
    [[ -e "$f" ]] || continue
    pid_alive "$(cat "$f")" && basename "$f" .pid
  done
  return 0 # a stale pid file last must not fail the caller (set -e: rescale exited silently)
}

# The lowest N with no TaskManager running as taskmanager-N and none registered as tm-N (a
# killed one stays registered for a while; reusing its id would look registered at once).
next_taskmanager_index() {
  local n=1 registered
  registered=" $(registered_taskmanager_ids | tr '\n' ' ') "
  while is_running "taskmanager-$n" || [[ "$registered" == *" tm-$n "* ]]; do n=$((n + 1)); done
  echo "$n"
}

# Starts TaskManagers (2 slots each) until the cluster has at least $1 slots.
ensure_slots() {
  local want="$1" have n
  have=$(( $(running_taskmanagers | wc -l) * 2 ))
  while [[ "$have" -lt "$want" ]]; do
    n="$(next_taskmanager_index)"
    start_taskmanager "$n"
    wait_for_taskmanager "$n"
    have=$((have + 2))
  done
}

latest_checkpoint() {
  # A retained checkpoint is complete once its _metadata exists.
  local chk
  chk="$(ls -dt "$DATA_DIR"/checkpoints/*/chk-*/_metadata 2>/dev/null | head -1 || true)"
  [[ -n "$chk" ]] && dirname "$chk"
  return 0
}

# Epoch millis of a field ($2: trigger_timestamp or latest_ack_timestamp) of the job's latest
# completed checkpoint (0 when none).
latest_checkpoint_time() {
  local field="${2:-latest_ack_timestamp}" v
  v="$(curl -fsS "$FLINK_UI/jobs/$1/checkpoints" 2>/dev/null \
    | grep -oE "\"completed\":\\{[^}]*\"$field\":[0-9]+" | head -1 | grep -oE '[0-9]+$' || true)"
  echo "${v:-0}"
}
