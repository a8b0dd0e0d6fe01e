# The ports of the processes bin/triage starts, declared here only. Sourced by common.sh.
# The broker's plain and secure listeners are not here: they are the job settings'
# kafka.bootstrap-servers (jobs/local.yaml, jobs/local-secure.yaml), read through the Java tools.
# flink-conf/config.yaml (rest.port, jobmanager.rpc.port) and jobs/local.yaml (llm.base-url) name
# the same Flink and model-server ports for the processes that read those files.
# shellcheck shell=bash disable=SC2034 # the files that source this one use the names

KAFKA_CONTROLLER_PORT=9093   # the broker's KRaft controller listener
LLM_PORT=8000                # the local model server (jobs/local.yaml: llm.base-url)
FLINK_REST_PORT=8081         # the JobManager's REST API and web UI (flink-conf: rest.port)
JOBMANAGER_RPC_PORT=6123     # flink-conf: jobmanager.rpc.port
PROMETHEUS_PORT=9090         # up --with-prometheus
EVAL_LLM_PORT=8100           # eval's own model server, with the evaluation's examples
CONFORMANCE_LLM_PORT=18000   # conformance: a model server that answers
CONFORMANCE_REJECT_PORT=18001 # conformance: a model server that answers 401 to everything
