# The local stack's lifecycle, sourced by bin/triage: the Kafka broker, the local model server,
# the Flink session cluster (JobManager, TaskManagers), Prometheus, the topics; and the commands
# up, down, status, add-taskmanager and remove-taskmanager. The job itself is in job.sh.
# shellcheck shell=bash disable=SC2034 # FRESH and TRIAGER are read by job.sh and start_llm_server

start_kafka() {
  if is_running kafka; then echo "kafka already running"; return 0; fi
  require_free_port "$KAFKA_PORT" "Kafka"
  require_free_port "$KAFKA_CONTROLLER_PORT" "the Kafka controller"
  local dir="$DATA_DIR/kafka" props="$DATA_DIR/kafka/server.properties"
  mkdir -p "$dir"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
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
  WAIT_FOR_SERVICE=kafka wait_until 60 "Kafka on port $KAFKA_PORT" port_in_use "$KAFKA_PORT"
}

create_topics() {
  say "Creating topics ($TICKETS_TOPIC: 8 partitions, $RESULTS_TOPIC: 4, $DLQ_TOPIC: 1, $CUSTOMERS_TOPIC: 4, compacted)"
  local spec name parts
  for spec in "$TICKETS_TOPIC:8" "$RESULTS_TOPIC:4" "$DLQ_TOPIC:1"; do
    name="${spec%:*}"; parts="${spec##*:}"
    wait_until 60 "topic $name" kafka_cli org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists --topic "$name" \
      --partitions "$parts" --replication-factor 1
  done
  wait_until 60 "topic $CUSTOMERS_TOPIC" kafka_cli org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists --topic "$CUSTOMERS_TOPIC" \
    --partitions 4 --replication-factor 1 --config cleanup.policy=compact
}

# start_llm_server LATENCY_MS [PROFILE]: LATENCY_MS 0 keeps the profile's latency.
start_llm_server() {
  local latency="${1:-0}" profile="${2:-}" args=()
  if is_running llm-server; then echo "llm-server already running"; return 0; fi
  require_free_port "$LLM_PORT" "the local model server"
  [[ -n "$profile" ]] && args+=(--profile "$profile")
  [[ "$latency" != 0 || -z "$profile" ]] && args+=(--latency-ms "$latency")
  args+=(--triager "${TRIAGER:-embeddings}")
  say "Starting the local model server on $LLM_URL/v1 (${TRIAGER:-embeddings} model, ${profile:+profile $profile, }latency ${latency} ms)"
  tools_java 256m
  start_service llm-server "${TOOLS_JAVA[@]}" llm-server --port "$LLM_PORT" "${args[@]}"
  WAIT_FOR_SERVICE=llm-server wait_until 30 "the model server" curl -fsS "$LLM_URL/health"
}

# promtool and prometheus from Debian's prometheus package, installed when missing (as root).
require_prometheus() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
    die "Prometheus is not installed: apt-get install prometheus (Debian's package)"
  fi
  say "Installing Debian's prometheus package (promtool, prometheus)"
  apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1; } \
    || die "could not install the prometheus package"
}

start_prometheus() {
  if is_running prometheus; then echo "prometheus already running"; return 0; fi
  require_prometheus
  require_free_port "$PROMETHEUS_PORT" "Prometheus"
  say "Starting Prometheus on http://localhost:$PROMETHEUS_PORT (scraping the cluster's metrics, alert rules loaded)"
  mkdir -p "$DATA_DIR/prometheus"
  start_service prometheus prometheus --config.file="$ROOT/flink-conf/prometheus/prometheus.yml" \
    --storage.tsdb.path="$DATA_DIR/prometheus" --web.listen-address="localhost:$PROMETHEUS_PORT"
  WAIT_FOR_SERVICE=prometheus wait_until 30 "Prometheus" curl -fsS "http://localhost:$PROMETHEUS_PORT/-/ready"
}

# Prints the JVM and dynamic-config arguments Flink's own scripts would use (GET_JM/TM_RESOURCE_PARAMS).
flink_resource_params() {
  java -cp "$FLINK_LIB/*" -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$FLINK_CONF" 2>/dev/null \
    | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

start_jobmanager() {
  if is_running jobmanager; then echo "jobmanager already running"; return 0; fi
  require_free_port "$FLINK_REST_PORT" "the Flink web UI"
  require_free_port "$JOBMANAGER_RPC_PORT" "the Flink JobManager"
  prepare_flink_conf
  local params jvm dyn
  params="$(flink_resource_params GET_JM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | sed -n 1p)"; dyn="$(echo "$params" | sed -n 2p)"
  say "Starting Flink JobManager (web UI $FLINK_UI)"
  # shellcheck disable=SC2046,SC2086 # Flink's JVM and dynamic options are split on purpose
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
  # shellcheck disable=SC2046,SC2086 # Flink's JVM and dynamic options are split on purpose
  FLINK_PLUGINS_DIR="$FLINK_PLUGINS" start_service "$name" java $jvm $(flink_java_opts) \
    -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="$FLINK_CONF_SRC/log4j.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j.properties" -cp "$FLINK_LIB/*" \
    org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$FLINK_CONF" \
    -D "taskmanager.resource-id=tm-$n" $dyn
}

# The cluster as its REST API tells it, through TriageTools job-status (one JVM a query: a wait
# loop runs one per poll, every 0.5 s plus the JVM's start, which is fast enough to wait on).
job_status() { run_tools job-status --rest "$FLINK_UI" "$@" 2>/dev/null; }
taskmanager_count() { job_status --taskmanager-count; }

# Resource ids (tm-N) the JobManager lists; a killed TaskManager stays listed until its heartbeat
# times out, so counting them right after a kill -9 counts the dead one.
registered_taskmanager_ids() { job_status --taskmanager-ids || true; }

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

# A TaskManager that runs tasks of the job (its slots are in use), as bin/triage names it.
busy_taskmanager() {
  local id
  id="$(job_status --busy-taskmanager)" || die "chaos: no TaskManager runs tasks"
  echo "taskmanager-${id#tm-}"
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

cmd_up() {
  local latency=0 profile="" with_prometheus=false
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --latency-ms) latency="$2"; shift 2 ;;
      --profile) profile="$2"; shift 2 ;;
      --triager) TRIAGER="$2"; shift 2 ;;
      --with-prometheus) with_prometheus=true; shift ;;
      --fresh) FRESH=true; shift ;;
      --secure) TRIAGE_SECURE=1; shift ;;
      *) die "unknown option for up: $1" ;;
    esac
  done
  require_prereqs
  build_if_needed
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR"
  if [[ "${TRIAGE_SECURE:-0}" == 1 ]]; then secure_setup; fi
  start_kafka
  if secure_is_on; then secure_users_and_acls; fi
  start_llm_server "$latency" "$profile"
  start_jobmanager
  start_taskmanager 1
  start_taskmanager 2
  wait_for_taskmanagers 2
  create_topics
  submit_job
  if $with_prometheus; then start_prometheus; fi
  echo
  echo "Stack is up. Flink web UI: $FLINK_UI"
  echo "Feed it:  bin/triage produce --sample 100     Read it:  bin/triage results --follow"
}

cmd_down() {
  local purge=false
  [[ "${1:-}" == "--purge" ]] && purge=true
  local svc f stale=()
  # Pid files of TaskManagers that are no longer alive (killed ones) go too.
  for f in "$RUN_DIR"/taskmanager-*.pid; do
    [[ -e "$f" ]] && stale+=("$(basename "$f" .pid)")
  done
  for svc in $(running_taskmanagers) "${stale[@]}" jobmanager llm-server kafka prometheus; do
    stop_service "$svc"
  done
  if $purge; then
    rm -rf "$LOCAL_DIR"
    echo "Deleted $LOCAL_DIR"
  fi
}

cmd_status() {
  local any=false f svc pid jobs
  for f in "$RUN_DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    any=true
    svc="$(basename "$f" .pid)"
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      printf '  %-14s running (pid %s)\n' "$svc" "$pid"
    else
      printf '  %-14s not running (stale pid %s)\n' "$svc" "$pid"
    fi
  done
  $any || echo "  nothing started by bin/triage is running"
  if curl -fsS "$LLM_URL/stats" >/dev/null 2>&1; then
    echo "Model server (what the provider saw): $(curl -fsS "$LLM_URL/stats")"
  fi
  if jobs="$(job_status --jobs)"; then
    echo "Jobs (Flink web UI at $FLINK_UI):"
    [[ -z "$jobs" ]] || printf '%s\n' "$jobs"
    echo "Running jobs, live:"
    job_status || echo "  (live figures unavailable)"
  fi
}

cmd_add_taskmanager() {
  local n
  n="$(next_taskmanager_index)"
  start_taskmanager "$n"
  wait_for_taskmanager "$n"
  echo "taskmanager-$n registered as tm-$n; $(taskmanager_count) TaskManagers listed"
}

cmd_remove_taskmanager() {
  local last
  last="$(running_taskmanagers | sort -V | tail -1)"
  [[ -n "$last" ]] || die "no TaskManager is running"
  stop_service "$last"
}
