# What a user feeds the running stack and reads from it, sourced by bin/triage: the commands
# produce, results, dlq, verify, llm-server, outage and demo. Topic names are the job settings'
# (load_settings), the model server's port is ports.sh's.
# shellcheck shell=bash

cmd_produce() {
  build_if_needed
  run_tools produce --bootstrap-servers "$KAFKA_BOOTSTRAP" --topic "$TICKETS_TOPIC" \
    --customers-topic "$CUSTOMERS_TOPIC" "$@"
}

cmd_results() {
  build_if_needed
  run_tools results --bootstrap-servers "$KAFKA_BOOTSTRAP" --topic "$RESULTS_TOPIC" "$@"
}

cmd_dlq() {
  build_if_needed
  run_tools results --bootstrap-servers "$KAFKA_BOOTSTRAP" --topic "$DLQ_TOPIC" "$@"
}

cmd_verify() {
  build_if_needed
  run_tools verify --bootstrap-servers "$KAFKA_BOOTSTRAP" --results-topic "$RESULTS_TOPIC" \
    --dlq-topic "$DLQ_TOPIC" "$@"
}

cmd_llm_server() {
  build_if_needed
  exec_tools llm-server "$@"
}

# Starts an outage of the local model server: every request gets 503 for N seconds.
cmd_outage() {
  local seconds="${1:-30}"
  curl -fsS -X POST "$LLM_URL/admin/outage?seconds=$seconds" >/dev/null \
    || die "the local model server does not answer on port $LLM_PORT"
  echo "The local model server answers 503 to everything for the next $seconds s."
  echo "Watch: bin/triage status (circuit state, results), or the job's circuitState metric."
}

cmd_demo() {
  local t0 step=0 w
  t0=$(date +%s%N)
  progress() {
    step=$((step + 1))
    printf '[demo %d/3, %3d s] %s\n' "$step" $(( ($(date +%s%N) - t0) / 1000000000 )) "$*"
  }
  progress "Starting the stack: build if needed, broker, model server, Flink cluster, the job"
  cmd_up
  echo
  progress "Producing 200 sample tickets over 40 sessions"
  cmd_produce --sample 200 --sessions 40
  progress "Waiting for the first committed result (exactly-once: it appears at a checkpoint)"
  exec_tools results --bootstrap-servers "$KAFKA_BOOTSTRAP" --topic "$RESULTS_TOPIC" --expect 1 \
    --quiet --timeout-s 120 >/dev/null &
  w=$!
  while ! wait_briefly "$w" 5; do
    printf '           still waiting, %d s; the job: %s\n' $(( ($(date +%s%N) - t0) / 1000000000 )) \
      "$(job_is_running && echo RUNNING || echo 'not running yet')"
  done
  wait "$w" || die "no result within 120 s; see $LOG_DIR"
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  # shellcheck disable=SC2016 # the backquotes are printed
  printf 'First triage result %d.%01d s after `bin/triage demo` started.\n' $((ms / 1000)) $((ms % 1000 / 100))
  echo "Flink web UI: $FLINK_UI   (Ctrl-C stops following; \`bin/triage down\` stops the stack)"
  echo
  cmd_results --follow
}

# wait_briefly PID SECONDS: true once PID has exited, false if it still runs after SECONDS.
wait_briefly() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}
