# `bin/triage up --secure` (docs/security.md), sourced by bin/triage: a TLS + SASL/SCRAM listener
# on the local broker, the job user's credential and ACLs, and the settings the job adds.
# Everything lives in .local/secure/, made once with the JDK's keytool and reused until
# `down --purge`: a CA, the broker's key store (its certificate signed by the CA for localhost and
# 127.0.0.1), the CA as PEM for the job, and the job user's password in a file that a Kafka config
# provider reads. The settings file (jobs/local-secure.yaml) holds no path and no password.
# shellcheck shell=bash

SECURE_DIR="$LOCAL_DIR/secure"
SECURE_SETTINGS="$ROOT/jobs/local-secure.yaml"
SECURE_USER=triage

secure_is_on() { [[ -f "$SECURE_DIR/ca.pem" ]]; }

# Sets SECURE_PORT, the secure listener's: jobs/local-secure.yaml's kafka.bootstrap-servers, layered
# as the job layers it (one JVM, the first time only; call it outside a subshell).
secure_port() {
  [[ -z "${SECURE_PORT:-}" ]] || return 0
  local bootstrap
  bootstrap="$(run_tools settings --job "$ROOT/jobs/local.yaml" --job "$SECURE_SETTINGS" \
    --get kafka.bootstrap-servers)" || die "could not read $SECURE_SETTINGS"
  SECURE_PORT="${bootstrap##*:}"
}

secure_random() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# secure_keytool ARGS...: keytool with the key stores' password from a file, never on the command line.
secure_keytool() { keytool "$@" -storepass:file "$SECURE_DIR/keystore-password" >>"$LOG_DIR/keytool.out" 2>&1; }

secure_setup() {
  command -v keytool >/dev/null || die "keytool (from the JDK) is not on PATH"
  secure_port
  is_running kafka || require_free_port "$SECURE_PORT" "Kafka's secure listener"
  mkdir -p "$SECURE_DIR" "$LOG_DIR"
  chmod 700 "$SECURE_DIR"
  if ! secure_is_on; then
    say "Making a CA, the broker's certificate and the job user's password in $SECURE_DIR"
    (umask 077
     secure_random >"$SECURE_DIR/keystore-password"
     printf 'password=%s\n' "$(secure_random)" >"$SECURE_DIR/kafka-secret.properties")
    local d="$SECURE_DIR"
    secure_keytool -genkeypair -alias ca -dname "CN=triage local CA" -ext bc:c -keyalg EC \
      -groupname secp256r1 -validity 365 -keystore "$d/ca.p12" -storetype PKCS12 \
      || die "keytool failed (see $LOG_DIR/keytool.out)"
    secure_keytool -exportcert -rfc -alias ca -keystore "$d/ca.p12" -file "$d/ca.pem.new"
    secure_keytool -genkeypair -alias broker -dname "CN=localhost" -keyalg EC -groupname secp256r1 \
      -validity 365 -keystore "$d/broker.p12" -storetype PKCS12
    secure_keytool -certreq -alias broker -keystore "$d/broker.p12" -file "$d/broker.csr"
    secure_keytool -gencert -alias ca -keystore "$d/ca.p12" -infile "$d/broker.csr" \
      -outfile "$d/broker.crt" -rfc -validity 365 -ext san=dns:localhost,ip:127.0.0.1 -ext eku=serverAuth
    secure_keytool -importcert -noprompt -alias ca -file "$d/ca.pem.new" -keystore "$d/broker.p12"
    secure_keytool -importcert -alias broker -file "$d/broker.crt" -keystore "$d/broker.p12" \
      || die "keytool failed (see $LOG_DIR/keytool.out)"
    rm -f "$d/broker.csr"
    mv "$d/ca.pem.new" "$d/ca.pem" # last: its presence means the material is complete
  fi
  secure_settings
}

# The broker's extra listener: start_kafka appends these lines to server.properties. The plain
# and controller listeners stay as they are (the local tools and the broker itself use them);
# their anonymous principal is a super user, everyone else needs ACLs. Needs secure_port first.
secure_broker_properties() {
  local d="$SECURE_DIR" pw port="$SECURE_PORT"
  pw="$(cat "$d/keystore-password")"
  cat <<PROPS
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT,SECURE://localhost:$port
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT,SECURE://localhost:$port
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SECURE:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.secure.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.secure.ssl.keystore.type=PKCS12
listener.name.secure.ssl.keystore.location=$d/broker.p12
listener.name.secure.ssl.keystore.password=$pw
listener.name.secure.ssl.key.password=$pw
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS
PROPS
}

# What every command that submits the job adds to its settings, and what start_kafka adds to the
# broker's: called at start-up whenever the material exists. The secure listener's address comes
# with jobs/local-secure.yaml; the command line adds only the three settings that name files.
secure_settings() {
  secure_is_on && [[ -z "${KAFKA_EXTRA_PROPERTIES:-}" ]] || return 0
  secure_port
  KAFKA_EXTRA_PROPERTIES="$(secure_broker_properties)"
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
  jaas+=" username=\"$SECURE_USER\" password=\"\${file:$SECURE_DIR/kafka-secret.properties:password}\";"
  JOB_SETTINGS+=("$SECURE_SETTINGS"
    "kafka.properties.ssl.truststore.location=$SECURE_DIR/ca.pem"
    "kafka.properties.config.providers.file.param.allowed.paths=$SECURE_DIR"
    "kafka.properties.sasl.jaas.config=$jaas")
}

# The job user's SCRAM credential and exactly the ACLs of docs/security.md, over the plain listener.
# Both are idempotent: a restart re-applies them.
secure_users_and_acls() {
  secure_port
  local port="$SECURE_PORT"
  # A broker started before --secure has no such listener: `bin/triage down` first.
  wait_until 60 "Kafka's secure listener on port $port (a broker started without --secure: bin/triage down, then up --secure)" \
    port_in_use "$port"
  # From a file, not --add-config: a password on a command line is visible in ps. Kafka's tool
  # echoes a credential it cannot parse, so its output is logged with the password cut out.
  local scram="$SECURE_DIR/scram-credential.properties" pw out
  pw="$(sed -n 's/^password=//p' "$SECURE_DIR/kafka-secret.properties")"
  (umask 077; printf 'SCRAM-SHA-512=iterations=8192,password=%s\n' "$pw" >"$scram")
  say "SCRAM-SHA-512 user '$SECURE_USER' and the job's ACLs (docs/security.md)"
  if ! out="$(kafka_cli kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --alter \
      --entity-type users --entity-name "$SECURE_USER" --add-config-file "$scram" 2>&1)"; then
    rm -f "$scram"
    printf '%s\n' "${out//$pw/<password>}" >>"$LOG_DIR/kafka-secure.out"
    die "creating the SCRAM user failed (see $LOG_DIR/kafka-secure.out)"
  fi
  rm -f "$scram"
  printf '%s\n' "${out//$pw/<password>}" >>"$LOG_DIR/kafka-secure.out"
  local grant=(--bootstrap-server "$KAFKA_BOOTSTRAP" --add --allow-principal "User:$SECURE_USER")
  local acl
  for acl in "--operation Read --topic $TICKETS_TOPIC --topic $CUSTOMERS_TOPIC --topic $RESULTS_TOPIC" \
             "--operation Write --topic $RESULTS_TOPIC --topic $DLQ_TOPIC" \
             "--operation Read --resource-pattern-type prefixed --group $KAFKA_GROUP_ID" \
             "--operation Write --resource-pattern-type prefixed --transactional-id $KAFKA_TXN_PREFIX" \
             "--operation DescribeConfigs --cluster"; do
    # shellcheck disable=SC2086 # the ACL's arguments are split on purpose
    kafka_cli org.apache.kafka.tools.AclCommand "${grant[@]}" $acl >>"$LOG_DIR/kafka-secure.out" 2>&1 \
      || die "kafka-acls $acl failed (see $LOG_DIR/kafka-secure.out)"
  done
}
