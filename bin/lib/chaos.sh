# The chaos checks on the real stack, sourced by bin/triage: `chaos` (kill -9 a TaskManager,
# restart the broker, cancel and resume, then verify the committed output) and `chaos --seed S`
# (a fault schedule drawn from S, each fault mid-stream, the same verification, the model's calls
# counted). The model server's counters come from TriageTools model-stats, the dead letters'
# reasons from results --count-by: no JSON is parsed here.
# shellcheck shell=bash

cmd_chaos() {
  local tickets="" seed=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --tickets) tickets="$2"; shift 2 ;;
      --seed) seed="$2"; shift 2 ;;
      *) die "unknown option for chaos: $1" ;;
    esac
  done
  if [[ -n "$seed" ]]; then
    chaos_seeded "$seed" "${tickets:-3000}"
    return
  fi
  tickets="${tickets:-5000}"
  # A model that takes 200 ms keeps the stream in motion while the failures strike.
  # Keyword rules: the chaos check is about failures, and the rules cost no CPU to speak of.
  is_running llm-server || cmd_up --latency-ms 200 --triager rules >/dev/null
  cmd_up >/dev/null
  local before prefix victim jid t_kill t_rec n third sessions
  before=$(( $(cmd_results --quiet) + $(cmd_dlq --quiet) ))
  local calls_before calls_after
  calls_before=$(llm_requests)
  prefix="CHAOS-$(date +%s)-"
  third=$((tickets / 3))
  sessions=$((tickets / 10))
  say "Chaos: $tickets tickets ($prefix*) over $sessions sessions, in three waves"

  cmd_produce --sample "$third" --sessions "$sessions" --seed 1 --id-prefix "${prefix}A-" >/dev/null
  wait_for_committed $((before + third / 5))
  jid="$(running_job_id)"
  victim="$(busy_taskmanager)"
  say "kill -9 $victim (it runs tasks of the job) mid-stream"
  t_kill=$(date +%s%3N)
  kill -9 "$(cat "$RUN_DIR/$victim.pid")"
  rm -f "$RUN_DIR/$victim.pid"
  start_taskmanager "$(next_taskmanager_index)"
  # Recovered = a checkpoint triggered after the kill has completed: it needs every task to
  # acknowledge, so the job has restarted and commits again.
  wait_until 180 "a checkpoint after the TaskManager loss" test_checkpoint_after "$jid" "$t_kill"
  t_rec="$(latest_checkpoint_time "$jid" latest_ack_timestamp)"
  echo "Recovered from the TaskManager loss: first checkpoint $(( t_rec - t_kill )) ms after kill -9."

  cmd_produce --sample "$third" --sessions "$sessions" --seed 2 --id-prefix "${prefix}B-" >/dev/null
  wait_for_committed $((before + third + third / 5))
  say "Restarting the Kafka broker mid-stream"
  stop_service kafka
  start_kafka

  cmd_produce --sample $((tickets - 2 * third)) --sessions "$sessions" --seed 3 \
    --id-prefix "${prefix}C-" >/dev/null
  wait_for_committed $((before + 2 * third + third / 5))
  say "Cancelling the job mid-stream and resuming it from its latest retained checkpoint"
  flink_cli cancel "$jid" >/dev/null
  wait_until 60 "the job to stop" test_no_running_job
  cmd_resume

  n=$((before + tickets))
  say "Verifying $n committed records (results + dead letters)"
  cmd_verify --expect "$n" --timeout-s 300 || die "chaos: verification failed"
  calls_after=$(llm_requests)
  echo "LLM calls for $tickets tickets: $((calls_after - calls_before))" \
       "($((calls_after - calls_before - tickets)) asked again after the three failures)."
  echo "Chaos check passed."
}

# The faults a seed draws from.
CHAOS_KINDS=(kill-tm broker-restart outage storm-429 drop slow rescale cancel-resume)

# chaos_draw SEED: the fault schedule SEED draws, one step a line: KIND [NAME=VALUE ...] @PCT
# (the fault strikes once PCT% of the first half of its wave is committed; the second half is
# produced right after it, while the fault lasts). Only bash's $RANDOM, seeded here: the same
# seed draws the same schedule.
chaos_draw() {
  RANDOM="$1"
  local steps=$((3 + RANDOM % 4)) i kind at p=2 np d
  for ((i = 0; i < steps; i++)); do
    kind="${CHAOS_KINDS[RANDOM % ${#CHAOS_KINDS[@]}]}"
    at=$((10 + RANDOM % 81))
    case "$kind" in
      kill-tm) echo "$kind @$at" ;;
      cancel-resume) p=2; echo "$kind @$at" ;; # resumed at the default parallelism
      broker-restart) echo "$kind down-s=$((RANDOM % 10)) @$at" ;;
      outage) echo "$kind seconds=$((5 + RANDOM % 56)) @$at" ;;
      storm-429) echo "$kind seconds=$((10 + RANDOM % 31)) throttle=0.$((50 + RANDOM % 46)) @$at" ;;
      drop)
        printf -v d '%02d' $((5 + RANDOM % 26))
        echo "$kind seconds=$((10 + RANDOM % 31)) drop=0.$d @$at" ;;
      slow) echo "$kind seconds=$((10 + RANDOM % 31)) latency-ms=$((1000 + RANDOM % 4001)) @$at" ;;
      rescale)
        np=$((1 + RANDOM % 4))
        [[ "$np" -ne "$p" ]] || np=$((np % 4 + 1))
        p="$np"
        echo "$kind parallelism=$np @$at" ;;
    esac
  done
}

# chaos_arg STEP NAME: the value of NAME=... in a schedule step.
chaos_arg() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< "$1"; }

# Committed outcomes (results + dead letters) on the output topics.
committed_outcomes() { echo $(( $(cmd_results --quiet) + $(cmd_dlq --quiet) )); }
test_committed_at_least() { [[ "$(committed_outcomes)" -ge "$1" ]]; }

# A model-server fault from its admin API; says so when this model server does not have it.
chaos_model_fault() {
  local path="$1" code
  code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$LLM_URL$path")"
  case "$code" in
    200) echo "  model server: POST $path" ;;
    404) echo "  SKIPPED: this model server has no ${path%%\?*} (fault not applied)" ;;
    *) die "chaos: POST $path answered $code" ;;
  esac
}

chaos_apply() {
  local step="$1" kind="${1%% *}" jid victim t_kill t_rec
  jid="$(running_job_id)"
  case "$kind" in
    kill-tm)
      victim="$(busy_taskmanager)"
      t_kill=$(date +%s%3N)
      echo "  kill -9 $victim (it runs tasks of the job)"
      kill -9 "$(cat "$RUN_DIR/$victim.pid")"
      rm -f "$RUN_DIR/$victim.pid"
      cmd_add_taskmanager
      wait_until 180 "a checkpoint after the TaskManager loss" test_checkpoint_after "$jid" "$t_kill"
      t_rec="$(latest_checkpoint_time "$jid" latest_ack_timestamp)"
      echo "  recovered: first checkpoint $(( t_rec - t_kill )) ms after kill -9" ;;
    broker-restart)
      stop_service kafka
      sleep "$(chaos_arg "$step" down-s)" # the broker stays down as long as the seed drew
      start_kafka ;;
    outage) chaos_model_fault "/admin/outage?seconds=$(chaos_arg "$step" seconds)" ;;
    storm-429)
      chaos_model_fault "/admin/faults?seconds=$(chaos_arg "$step" seconds)&throttle=$(chaos_arg "$step" throttle)" ;;
    drop)
      chaos_model_fault "/admin/faults?seconds=$(chaos_arg "$step" seconds)&drop=$(chaos_arg "$step" drop)" ;;
    slow)
      chaos_model_fault "/admin/faults?seconds=$(chaos_arg "$step" seconds)&latency-ms=$(chaos_arg "$step" latency-ms)" ;;
    rescale) cmd_rescale "$(chaos_arg "$step" parallelism)" ;;
    cancel-resume)
      flink_cli cancel "$jid" >/dev/null
      wait_until 60 "the job to stop" test_no_running_job
      cmd_resume ;;
    *) die "chaos: unknown fault $kind" ;;
  esac
}

# bin/triage chaos --seed N [--tickets T]: the faults SEED draws (printed first), each striking
# mid-wave on the real stack, then the committed output verified as the chaos check does, and
# the model's calls counted: answers asked again after the faults, and calls the faults refused.
chaos_seeded() {
  local seed="$1" tickets="$2" steps=() t0 before prefix sessions wave half produced=0 i n at rc=0
  local stats_before=() stats_after=()
  [[ "$seed" =~ ^[0-9]+$ ]] || die "chaos: --seed takes a number"
  mapfile -t steps < <(chaos_draw "$seed")
  echo "Chaos seed $seed: $tickets tickets, ${#steps[@]} faults:"
  for i in "${!steps[@]}"; do echo "  $((i + 1)). ${steps[$i]}"; done
  t0=$(date +%s)
  is_running llm-server || cmd_up --latency-ms 200 --triager rules >/dev/null
  cmd_up >/dev/null
  before="$(committed_outcomes)"
  local results_before
  results_before="$(cmd_results --quiet)"
  model_counters stats_before
  prefix="CHAOS-$seed-$(date +%s)-"
  sessions=$(( tickets / 10 > 0 ? tickets / 10 : 1 ))
  wave=$(( tickets / ${#steps[@]} ))
  for i in "${!steps[@]}"; do
    n=$wave
    [[ "$i" -lt $(( ${#steps[@]} - 1 )) ]] || n=$(( tickets - produced ))
    half=$(( n / 2 ))
    at="${steps[$i]##*@}"
    cmd_produce --sample "$half" --sessions "$sessions" --seed $(( seed * 100 + 2 * i )) \
      --id-prefix "${prefix}$((i + 1))a-" >/dev/null
    wait_until 300 "$at% of wave $((i + 1)) to be committed" \
      test_committed_at_least $(( before + produced + half * at / 100 ))
    say "Chaos seed $seed, fault $((i + 1))/${#steps[@]} at $(( $(date +%s) - t0 )) s: ${steps[$i]}"
    chaos_apply "${steps[$i]}"
    cmd_produce --sample $(( n - half )) --sessions "$sessions" --seed $(( seed * 100 + 2 * i + 1 )) \
      --id-prefix "${prefix}$((i + 1))b-" >/dev/null
    produced=$(( produced + n ))
  done
  say "Verifying $(( before + tickets )) committed records (results + dead letters)"
  cmd_verify --expect $(( before + tickets )) --timeout-s 600 || rc=$?
  model_counters stats_after
  chaos_calls "${stats_before[*]}" "${stats_after[*]}" "$tickets" \
    $(( $(cmd_results --quiet) - results_before ))
  local reasons=() line by_reason="" model_dead=0
  mapfile -t reasons < <(cmd_dlq --id-prefix "$prefix" --count-by reason)
  for line in "${reasons[@]}"; do
    by_reason+="$line "
    # Reasons of the model's own failures start with llm_ (llm_unavailable, llm_invalid_output, ...).
    [[ "$line" != llm_* ]] || model_dead=$(( model_dead + ${line##* } ))
  done
  echo "Dead letters of this run by reason: $by_reason"
  [[ "$rc" -eq 0 ]] || die "chaos seed $seed: verification FAILED after $(( $(date +%s) - t0 )) s"
  # Guarantee 7: faults of the provider (outages, 429s, drops, slow answers) dead-letter nothing.
  [[ "$model_dead" -eq 0 ]] || die "chaos seed $seed: FAILED: the output is exact, but" \
    "$model_dead tickets were dead-lettered by the faults (guarantee 7), $(( $(date +%s) - t0 )) s"
  echo "Chaos seed $seed passed in $(( $(date +%s) - t0 )) s."
}

# The model server's counters that chaos_calls reports, in this order.
CHAOS_COUNTERS=(requests completions throttled dropped rate_limited server_errors outage_refused
  timeouts)

# model_counters ARRAY: sets ARRAY to the model server's CHAOS_COUNTERS now (from its /stats).
model_counters() {
  local args=() f
  for f in "${CHAOS_COUNTERS[@]}"; do args+=(--field "$f"); done
  mapfile -t "$1" < <(run_tools model-stats --url "$LLM_URL" "${args[@]}")
  local -n counters="$1"
  [[ "${#counters[@]}" -eq "${#CHAOS_COUNTERS[@]}" ]] || die "chaos: the model server's /stats does not answer"
}

# chaos_calls "COUNTERS_BEFORE" "COUNTERS_AFTER" TICKETS ANSWERED: what the model server saw
# meanwhile (the counters as model_counters gives them, joined by spaces).
chaos_calls() {
  local before=() after=() i d line="" completions=0
  read -r -a before <<< "$1"
  read -r -a after <<< "$2"
  for i in "${!CHAOS_COUNTERS[@]}"; do
    d=$(( after[i] - before[i] ))
    line+="${CHAOS_COUNTERS[$i]} $d, "
    [[ "${CHAOS_COUNTERS[$i]}" != completions ]] || completions="$d"
  done
  echo "LLM calls for $3 tickets: ${line%, }."
  echo "Answers asked again after the faults: $(( completions - $4 ))" \
       "(completions beyond one per answered ticket, $4 answered; refused or failed calls are" \
       "the other counts)."
}

wait_for_committed() {
  cmd_results --expect "$1" --quiet --timeout-s 180 >/dev/null \
    || die "chaos: no progress (want $1 results)"
}

llm_requests() { run_tools model-stats --url "$LLM_URL" --field requests; }
