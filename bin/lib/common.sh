# Shared by bin/triage and the CLI wrappers in bin/ (sourced, not executed): paths, messages, the
# build, the launchers of every JVM bin/ starts (the tools, Kafka's and Flink's CLIs), the job
# settings bash reads through the tools, and starting, stopping and waiting for processes.
# Everything bin/triage starts writes under .local/ (data, logs, pids), ignored by git.
# shellcheck shell=bash disable=SC2034 # the names set here are read by the files that source it

# shellcheck source=bin/lib/ports.sh
source "$ROOT/bin/lib/ports.sh"

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
FLINK_UI="http://localhost:$FLINK_REST_PORT"
LLM_URL="http://localhost:$LLM_PORT"
# Job settings files, layered left to right (later files override earlier ones), e.g.
# TRIAGE_SETTINGS="jobs/local.yaml jobs/backends/vllm.yaml" bin/triage up
read -r -a JOB_SETTINGS <<< "${TRIAGE_SETTINGS:-jobs/local.yaml}"
for i in "${!JOB_SETTINGS[@]}"; do
  [[ "${JOB_SETTINGS[$i]}" == /* ]] || JOB_SETTINGS[i]="$ROOT/${JOB_SETTINGS[$i]}"
done
JOB_SETTINGS_FILES=("${JOB_SETTINGS[@]}")
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

# Builds the job jar and the local classpaths when sources changed since the last build
# (always with BUILD_FORCE=1: bin/triage build --force).
build_if_needed() {
  local stamp="$STACK_DIR/.built"
  if [[ "${BUILD_FORCE:-0}" != 1 && -f "$stamp" && -f "$JOB_JAR" ]] \
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

# ---------------------------------------------------------------- launchers
# tools_java [HEAP]: sets TOOLS_JAVA to the command line of the tools JVM (dev.triage.tools.cli.
# TriageTools: options, classpath, log config). The only place that spells it out: run_tools and
# exec_tools use it, and start_service takes it for the tools that run as services.
tools_java() {
  TOOLS_JAVA=(java)
  [[ -z "${1:-}" ]] || TOOLS_JAVA+=("-Xmx$1")
  TOOLS_JAVA+=(-Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties"
    -cp "$ROOT/target/classes:$LIB_DIR/*" dev.triage.tools.cli.TriageTools)
}

# run_tools SUBCOMMAND ARGS...: the tools in the foreground (TOOLS_HEAP=1g run_tools ... for a heap).
run_tools() {
  tools_java "${TOOLS_HEAP:-}"
  "${TOOLS_JAVA[@]}" "$@"
}

# exec_tools SUBCOMMAND ARGS...: the tools in place of this process; `exec_tools ... &` starts them
# in the background with $! their own PID (a function run with & would leave the JVM a grandchild).
exec_tools() {
  tools_java "${TOOLS_HEAP:-}"
  exec "${TOOLS_JAVA[@]}" "$@"
}

kafka_cli() {
  java -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" -cp "$LIB_DIR/*" "$@"
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

flink_cli() {
  prepare_flink_conf
  # shellcheck disable=SC2046 # the JVM options are split on purpose
  FLINK_CONF_DIR="$FLINK_CONF" FLINK_PLUGINS_DIR="$FLINK_PLUGINS" \
    java $(flink_java_opts) -Dlog4j.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_SRC/log4j-cli.properties" \
    -cp "$FLINK_LIB/*" org.apache.flink.client.cli.CliFrontend "$@"
}

# ---------------------------------------------------------------- job settings
# load_settings: the job settings bash needs, read once per command through the job's own options
# (TriageTools settings --get, defaults included) from the files the job is submitted with; one
# JVM for all of them. Sets KAFKA_BOOTSTRAP (the plain listener: the local tools use it even when
# the job is secure), KAFKA_PORT, JOB_NAME, the topics, KAFKA_GROUP_ID, KAFKA_TXN_PREFIX.
load_settings() {
  [[ -z "${KAFKA_BOOTSTRAP:-}" ]] || return 0
  build_if_needed
  local args=() f v=()
  for f in "${JOB_SETTINGS_FILES[@]}"; do args+=(--job "$f"); done
  mapfile -t v < <(run_tools settings "${args[@]}" --get kafka.bootstrap-servers --get job.name \
    --get kafka.topics.tickets --get kafka.topics.results --get kafka.topics.dlq \
    --get kafka.topics.customers --get kafka.group-id --get kafka.transactional-id-prefix)
  [[ "${#v[@]}" -eq 8 ]] || die "could not read the job settings (${JOB_SETTINGS_FILES[*]})"
  KAFKA_BOOTSTRAP="${v[0]}" JOB_NAME="${v[1]}" TICKETS_TOPIC="${v[2]}" RESULTS_TOPIC="${v[3]}"
  DLQ_TOPIC="${v[4]}" CUSTOMERS_TOPIC="${v[5]}" KAFKA_GROUP_ID="${v[6]}" KAFKA_TXN_PREFIX="${v[7]}"
  KAFKA_PORT="${KAFKA_BOOTSTRAP##*:}"
}

# ---------------------------------------------------------------- processes
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
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

require_free_port() {
  port_in_use "$1" && die "port $1 is taken (needed for $2); stop whatever uses it, or \`bin/triage down\`"
  return 0
}
