# The triage job on the local cluster, sourced by bin/triage: submitting it (from its latest
# retained checkpoint), what the cluster says about it, and the commands submit, rescale, scale
# and resume. Every answer about the job comes from TriageTools job-status (stack.sh: job_status).
# shellcheck shell=bash

# Jobs of our name that are not finished (RUNNING, CREATED, RESTARTING, ...); 0 when no cluster.
count_running_jobs() { job_status --name "$JOB_NAME" --count-running || true; }

job_is_running() { job_status --name "$JOB_NAME" --is-running; }

# The id of the running job of our name (empty when none).
running_job_id() { job_status --name "$JOB_NAME" --running-job-id || true; }

test_no_running_job() { [[ -z "$(running_job_id)" ]]; }

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
    if secure_is_on; then
      secure=" jobs/local-secure.yaml (Kafka over TLS + SASL/SCRAM)"
    fi
    say "Submitting the job: flink run -d $JOB_JAR ${TRIAGE_SETTINGS:-jobs/local.yaml}$secure"
    flink_cli run -d "$JOB_JAR" "${JOB_SETTINGS[@]}" || die "flink run failed"
  fi
  wait_until 60 "the job to run" job_is_running
}

# The newest retained checkpoint's directory, from the file system: it outlives the job (a
# resume after a cancel or a `down` has no job to ask). Complete once its _metadata exists.
latest_checkpoint() {
  local chk
  # shellcheck disable=SC2012 # checkpoint paths are ours: no newline in them
  chk="$(ls -dt "$DATA_DIR"/checkpoints/*/chk-*/_metadata 2>/dev/null | head -1 || true)"
  [[ -n "$chk" ]] && dirname "$chk"
  return 0
}

# latest_checkpoint_time JOBID [FIELD]: epoch millis of FIELD (trigger_timestamp or
# latest_ack_timestamp) of the job's latest completed checkpoint (0 when none).
latest_checkpoint_time() {
  job_status --job "$1" --latest-checkpoint-time "${2:-latest_ack_timestamp}" || true
}
test_checkpoint_after() { [[ "$(latest_checkpoint_time "$1" trigger_timestamp)" -gt "$2" ]]; }

cmd_submit() {
  build_if_needed
  submit_job
}

cmd_rescale() {
  local n="${1:?usage: bin/triage rescale N}" jid sp t0 ms
  build_if_needed
  jid="$(running_job_id)"
  [[ -n "$jid" ]] || die "no running $JOB_NAME job"
  ensure_slots "$n"
  t0=$(date +%s%N)
  say "Stopping job $jid with a savepoint"
  sp="$(flink_cli stop --savepointPath "file://$DATA_DIR/savepoints" "$jid" \
        | sed -n 's/.*Savepoint completed\. Path: *//p')"
  [[ -n "$sp" ]] || die "stop with savepoint failed"
  echo "Savepoint: $sp"
  say "Resubmitting at parallelism $n from the savepoint"
  flink_cli run -d -s "$sp" -p "$n" "$JOB_JAR" "${JOB_SETTINGS[@]}" || die "flink run -s failed"
  wait_until 120 "the job to run" job_is_running
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "Rescaled to parallelism $n in ${ms} ms (stop with savepoint + resubmit + RUNNING)."
}

cmd_scale() {
  local n="${1:?usage: bin/triage scale N}" jid
  build_if_needed
  jid="$(running_job_id)"
  [[ -n "$jid" ]] || die "no running $JOB_NAME job"
  ensure_slots "$n"
  run_tools scale --rest "$FLINK_UI" --job "$jid" --parallelism "$n"
}

cmd_resume() {
  build_if_needed
  [[ -z "$(running_job_id)" ]] || die "the job is running; cancel it first (bin/flink cancel JOBID)"
  local chk
  chk="$(latest_checkpoint)"
  [[ -n "$chk" ]] || die "no retained checkpoint under $DATA_DIR/checkpoints"
  say "Resuming from $chk"
  flink_cli run -d -s "$chk" "$JOB_JAR" "${JOB_SETTINGS[@]}" || die "flink run -s failed"
  wait_until 120 "the job to run" job_is_running
}
