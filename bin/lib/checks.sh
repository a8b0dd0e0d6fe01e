# The checks, sourced by bin/triage: test (everything CI runs, .ci/run), smoke (the commands a
# user runs, end to end), conformance (the local model server against the official openai npm
# client), check-monitoring (promtool) and fuzz (Jazzer). The chaos checks are in chaos.sh.
# shellcheck shell=bash

cmd_test() {
  require_prereqs
  (cd "$ROOT" && mvn -B verify)
  load_settings
  secure_settings
  cmd_check_monitoring
  cmd_conformance
  cmd_smoke
  # The chaos check on the real cluster: kill -9 a TaskManager, restart the broker, cancel and
  # resume, then verify the committed output. Leaves nothing running.
  trap 'cmd_down --purge >/dev/null 2>&1 || true' EXIT
  cmd_chaos
  cmd_down --purge >/dev/null
  # One seeded fault schedule as well (bin/triage chaos --seed N): seed 4 drops 30% of POSTs,
  # storms 429s, cancels and resumes, and rescales; before issue 11's fixes it dead-lettered
  # 195 tickets. Its output must be exact with no dead letter from the faults.
  cmd_chaos --seed "${TRIAGE_CHAOS_SEED:-4}"
  cmd_down --purge >/dev/null
  # The quick benchmark: fails when this job misses a throughput, latency or correctness target.
  cmd_bench --quick
  cmd_down --purge >/dev/null
}

cmd_smoke() {
  # The commands a user runs, end to end, on the real stack; leaves nothing running.
  trap 'cmd_down --purge >/dev/null 2>&1 || true' EXIT
  cmd_down --purge >/dev/null 2>&1 || true
  local t0 n code svc
  t0=$(date +%s)
  cmd_up
  cmd_up >/dev/null # idempotent: a second `up` starts nothing new
  [[ "$(count_running_jobs)" == "1" ]] || die "smoke: expected exactly one running job"
  curl -fsS "$FLINK_UI/" | grep -q "<title>Apache Flink Web Dashboard</title>" \
    || die "smoke: the Flink web UI is not served at $FLINK_UI"
  # No jar upload through REST (web.submit.enable: false), no cross-origin use of the REST API.
  code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FLINK_UI/jars/upload")"
  [[ "$code" == 404 ]] || die "smoke: POST /jars/upload answered $code, not 404: jar upload is on"
  code="$(curl -fsS -D - -o /dev/null -H "Origin: http://attacker.example" "$FLINK_UI/config")" \
    || die "smoke: GET /config failed"
  if grep -qi '^access-control-allow-origin: \*' <<< "$code"; then
    die "smoke: the REST API allows any origin"
  fi
  [[ "$(taskmanager_count)" == "2" ]] || die "smoke: expected 2 TaskManagers"
  cmd_produce --sample 60 --sessions 12
  printf '{"ticket_id":"SMOKE-1","session_id":"SMOKE","body":"My invoice is wrong."}\nnot json\n' \
    > "$LOCAL_DIR/smoke.jsonl"
  cmd_produce "$LOCAL_DIR/smoke.jsonl"
  n=$(cmd_results --expect 61 --quiet --timeout-s 180) || die "smoke: results incomplete"
  [[ "$n" -ge 61 ]] || die "smoke: only $n results"
  cmd_dlq --expect 1 --quiet --timeout-s 60 >/dev/null || die "smoke: no dead letter"
  [[ "$(cmd_results --id-prefix SMOKE-1 --quiet)" -ge 1 ]] || die "smoke: SMOKE-1 missing from results"
  cmd_dlq --count-by reason | grep -q '^invalid_json ' || die "smoke: invalid_json dead letter missing"
  cmd_status
  cmd_down
  for svc in kafka llm-server jobmanager taskmanager-1 taskmanager-2; do
    [[ ! -e "$RUN_DIR/$svc.pid" ]] || die "smoke: $svc still has a pid file after down"
  done
  # Down and up again: the job resumes from its retained checkpoint, nothing is answered twice.
  cmd_up >/dev/null
  cmd_produce --sample 20 --sessions 5 --id-prefix AGAIN- >/dev/null
  cmd_verify --expect 82 --timeout-s 120 || die "smoke: output not exact after down and up"
  cmd_down --purge >/dev/null
  echo "Smoke test passed: up, produce, results, dlq, status, down, up again ($(( $(date +%s) - t0 )) s)."
}

# The local model server against the official `openai` npm client (installed here, pinned).
cmd_conformance() {
  build_if_needed
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "the conformance test needs Node.js and npm (for the official openai client)"
  fi
  local dir="$ROOT/target/npm" port="$CONFORMANCE_LLM_PORT" port2="$CONFORMANCE_REJECT_PORT" pid pid2 rc=0
  mkdir -p "$dir"
  if [[ ! -d "$dir/node_modules/openai" ]]; then
    say "Installing the official openai npm client into target/npm"
    npm install --prefix "$dir" --no-audit --no-fund --silent openai@7.59.0 >/dev/null \
      || die "npm install openai failed"
  fi
  cp "$ROOT/src/test/node/conformance.mjs" "$dir/"
  require_free_port "$port" "the conformance test's model server"
  require_free_port "$port2" "the conformance test's rejecting model server"
  exec_tools llm-server --port "$port" --rpm 60 >/dev/null 2>&1 &
  pid=$!
  exec_tools llm-server --port "$port2" --fail-permanently 401 >/dev/null 2>&1 &
  pid2=$!
  wait_until 30 "the model server" curl -fsS "http://localhost:$port/health"
  wait_until 30 "the rejecting model server" curl -fsS "http://localhost:$port2/health"
  say "Conformance: the official openai client against the local model server"
  node "$dir/conformance.mjs" "http://127.0.0.1:$port/v1" "http://127.0.0.1:$port2/v1" || rc=$?
  kill "$pid" "$pid2" 2>/dev/null || true
  wait "$pid" "$pid2" 2>/dev/null || true
  [[ "$rc" -eq 0 ]] || die "conformance test failed"
}

# The Prometheus files: config and alert rules valid, and the alerts' unit tests pass.
cmd_check_monitoring() {
  require_prometheus
  local dir="$ROOT/flink-conf/prometheus"
  say "Checking the Prometheus config and alert rules with promtool"
  promtool check config "$dir/prometheus.yml" >/dev/null || die "prometheus.yml is invalid"
  promtool check rules "$dir/alerts.yml" >/dev/null || die "alerts.yml is invalid"
  (cd "$dir" && promtool test rules alerts-test.yml) || die "the alert rules' tests failed"
}

FUZZ_TARGETS=(TicketParser CustomerParser OutcomeDeserializer TriageAnswerParser
  TriageResultSerializer DeadLetterSerializer)

cmd_fuzz() {
  local targets=() duration=10m seconds rc=0 t
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --target) targets+=("${2%FuzzTest}"); shift 2 ;;
      --duration) duration="$2"; shift 2 ;;
      *) die "fuzz: unknown option $1 (see bin/triage help)" ;;
    esac
  done
  [[ ${#targets[@]} -gt 0 ]] || targets=("${FUZZ_TARGETS[@]}")
  [[ "$duration" =~ ^([0-9]+)([smh]?)$ ]] || die "fuzz: --duration is N, Ns, Nm or Nh, not $duration"
  case "${BASH_REMATCH[2]}" in
    h) seconds=$(( BASH_REMATCH[1] * 3600 )) ;;
    m) seconds=$(( BASH_REMATCH[1] * 60 )) ;;
    *) seconds=${BASH_REMATCH[1]} ;;
  esac
  for t in "${targets[@]}"; do
    [[ -f "$ROOT/src/test/java/dev/triage/fuzz/${t}FuzzTest.java" ]] \
      || die "fuzz: no target $t (targets: ${FUZZ_TARGETS[*]})"
  done
  for t in "${targets[@]}"; do
    say "Fuzzing $t for ${seconds}s (JAZZER_FUZZ=1; plain mvn test only replays the corpus)"
    # jazzer.internal.arg.1 overrides the @FuzzTest's maxDuration (arg.0 stands for argv[0]);
    # Jackson is instrumented too, so that coverage guides the fuzzer into the JSON structure.
    (cd "$ROOT" && JAZZER_FUZZ=1 mvn -B test -Dtest="dev.triage.fuzz.${t}FuzzTest" \
      -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1="-max_total_time=$seconds" \
      -Djazzer.instrument='dev.triage.**,com.fasterxml.jackson.**') || rc=1
  done
  say "Findings (crash-*) are in src/test/resources/dev/triage/fuzz/<T>FuzzTestInputs/fuzz/:" \
    "commit them with the fix and every mvn test replays them; the generated corpus is in" \
    ".cifuzz-corpus/ (not committed)."
  return "$rc"
}
