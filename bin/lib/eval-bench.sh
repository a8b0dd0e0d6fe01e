# Triage quality and the benchmark, sourced by bin/triage: the commands eval (labelled tickets,
# directly over HTTP or through Kafka and an evaluation job on the local cluster) and bench (this
# job against its peers on the simulator). The Java side is dev.triage.tools.eval and .bench.
# shellcheck shell=bash

# Triage quality on labelled tickets: bin/triage eval --data FILE.csv [options] (see --help).
# --direct calls the model over HTTP only; otherwise the tickets go through Kafka and an
# evaluation job on the local cluster (started with `up` if needed), with the data's labels as
# its categories, and a model server of their own (unless --endpoint).
cmd_eval() {
  build_if_needed
  local direct=false out="$ROOT/target/eval" endpoint="" model="local-triage" args=()
  args=("$@")
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --direct) direct=true; shift ;;
      --out) out="$2"; shift 2 ;;
      --endpoint) endpoint="$2"; shift 2 ;;
      --model) model="$2"; shift 2 ;;
      -h|--help) exec_tools eval --help ;;
      *) shift ;;
    esac
  done
  if $direct; then
    run_tools eval "${args[@]}" || die "eval failed"
    return
  fi
  [[ "$out" == /* ]] || out="$ROOT/$out"
  local run port="$EVAL_LLM_PORT" pid="" jid
  run="eval-$(date +%s)"
  run_tools eval "${args[@]}" --prepare || die "eval: could not read the data"
  is_running jobmanager || cmd_up >/dev/null
  if [[ -z "$endpoint" ]]; then
    require_free_port "$port" "the evaluation's model server"
    say "Starting a model server with the evaluation's examples on port $port"
    TOOLS_HEAP=512m exec_tools llm-server --port "$port" --examples "$out/examples.csv" --per-class 0 \
      > "$LOG_DIR/$run-llm-server.log" 2>&1 &
    pid=$!
    wait_until 60 "the evaluation's model server" curl -fsS "http://localhost:$port/health"
    endpoint="http://localhost:$port/v1"
  fi
  local t
  for t in tickets:4 results:1 dlq:1; do
    kafka_cli org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --create \
      --if-not-exists --topic "$run-${t%%:*}" --partitions "${t##*:}" --replication-factor 1 >/dev/null
  done
  local overrides=()
  mapfile -t overrides < "$out/job-overrides.txt"
  say "Submitting the evaluation job ($run) against $endpoint"
  jid=$(flink_cli run -d "$JOB_JAR" "${JOB_SETTINGS[@]}" "job.name=$run" \
      "kafka.topics.tickets=$run-tickets" "kafka.topics.results=$run-results" \
      "kafka.topics.dlq=$run-dlq" "kafka.group-id=$run" "kafka.transactional-id-prefix=$run" \
      "kafka.starting-offsets=earliest" "llm.base-url=$endpoint" "llm.model=$model" \
      "${overrides[@]}" 2>&1 | sed -n 's/.*JobID \([0-9a-f]*\).*/\1/p')
  [[ -n "$jid" ]] || { [[ -n "$pid" ]] && kill "$pid"; die "eval: the job did not start"; }
  local rc=0
  run_tools eval "${args[@]}" --pipeline --topic-prefix "$run" \
    --bootstrap-servers "$KAFKA_BOOTSTRAP" || rc=$?
  flink_cli cancel "$jid" >/dev/null 2>&1 || true
  [[ -n "$pid" ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [[ "$rc" -eq 0 ]] || die "eval failed"
}

# Benchmarks against the peers: bin/triage bench [--quick] [--scenarios a,b] [--pipelines x,y]
# [--out DIR]. Needs only the broker (started here if it is not running, and stopped again);
# every pipeline and simulator runs in a JVM of its own. Writes DIR/report.md, report.json, PNGs.
cmd_bench() {
  build_if_needed
  local out="$ROOT/target/bench" args=() started_kafka=false sql="" rc=0 quick=false
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --quick) quick=true; args+=("$1"); shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  [[ "$out" == /* ]] || out="$ROOT/$out"
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR" "$out"
  if ! is_running kafka; then start_kafka; started_kafka=true; fi
  if ! $quick; then
    # flink-model-openai 2.2.0's parent POM (flink-models) is missing on Maven Central, so it
    # cannot be a declared dependency, and dependency:get fails on the descriptor after fetching
    # the jar; the jar is self-contained (shaded), so the file alone is what this needs.
    mvn -B -q -Dstyle.color=never dependency:get -Dtransitive=false \
      -Dartifact=org.apache.flink:flink-model-openai:2.2.0 >/dev/null 2>&1 || true
    sql="$(mvn -B -q -Dstyle.color=never help:evaluate -Dexpression=settings.localRepository \
      -DforceStdout 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g')"
    sql="$sql/org/apache/flink/flink-model-openai/2.2.0/flink-model-openai-2.2.0.jar"
    [[ -f "$sql" ]] || sql=""
    [[ -n "$sql" ]] || say "flink-model-openai could not be fetched: the ML_PREDICT rows are skipped"
  fi
  say "Benchmark ($(if $quick; then echo quick; else echo full; fi)): report in $out"
  TOOLS_HEAP=1g run_tools bench --bootstrap-servers "$KAFKA_BOOTSTRAP" \
    --settings "$ROOT/jobs/local.yaml" --log-config "$FLINK_CONF_SRC/log4j-bench.properties" \
    --sql-classpath "$sql" --out "$out" "${args[@]}" || rc=$?
  $started_kafka && stop_service kafka
  return "$rc"
}
