#!/usr/bin/env bash
# Apache Kafka, single-node KRaft (broker + controller in one JVM), from its jars on Maven
# Central: scripts/backends/kafka/pom.xml resolves kafka_2.13 with its runtime dependencies
# and a logging backend into the cache; StorageTool formats a fresh log dir; kafka.Kafka runs.
# CORREO_KAFKA_VERSION picks the version (default: the pom's, 4.4.0); 3.x is kept for one extra
# pass of the bus contract suite against older clusters (mk/kafka-compat.mk).
source "$(dirname "$0")/lib.sh"
KAFKA_VERSION=${CORREO_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$REPO_ROOT/scripts/backends/kafka/pom.xml")}
# Kafka 3.x logs through log4j 1 (reload4j), 4.x through log4j 2: the pom's profiles.
case "$KAFKA_VERSION" in 3.*) KAFKA_PROFILE=kafka3 ;; *) KAFKA_PROFILE=kafka4 ;; esac
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_DIR="$STATE_DIR/kafka"
PIDFILE="$STATE_DIR/kafka.pid"

ensure_jars() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven is needed to fetch Kafka's jars"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$REPO_ROOT/scripts/backends/kafka/pom.xml" -P"$KAFKA_PROFILE" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2 || die "mvn could not resolve Kafka $KAFKA_VERSION"
  touch "$KAFKA_LIBS/.complete"
}

KAFKA_JAVA=(java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties"
  -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*")
kafka_java() { "${KAFKA_JAVA[@]}" "$@"; }

# The broker on the configuration and data in $KAFKA_DIR, waited for until it registered.
launch() {
  # The log is read for "started" below: a previous run's line must not answer for this one.
  : > "$STATE_DIR/kafka.log"
  nohup "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" >"$STATE_DIR/kafka.out" 2>&1 &
  echo $! > "$PIDFILE"
  wait_for kafka 90 port_open "$KAFKA_PORT"
  # The port opens before the broker has registered with the controller; the clients retry
  # metadata, but a started-message in the log is the honest "ready".
  wait_for "kafka broker registration" 90 grep -q "started" "$STATE_DIR/kafka.log"
  pid_alive "$PIDFILE" || die "kafka exited: $(tail -n 20 "$STATE_DIR/kafka.out")"
  log "kafka $KAFKA_VERSION up on 127.0.0.1:$KAFKA_PORT"
}

case "${1:-}" in
  start)
    if pid_alive "$PIDFILE"; then log "kafka already running"; exit 0; fi
    command -v java >/dev/null || apt_install openjdk-17-jre-headless
    ensure_jars
    rm -rf "$KAFKA_DIR" "$STATE_DIR/kafka.log"; mkdir -p "$KAFKA_DIR/data"
    cat > "$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=1
PROPS
    cat > "$KAFKA_DIR/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$STATE_DIR/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
    cat > "$KAFKA_DIR/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$STATE_DIR/kafka.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
logger.server.name=kafka.server.KafkaServer
logger.server.level=INFO
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
PROPS
    CLUSTER_ID=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    kafka_java kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$KAFKA_DIR/server.properties" >"$STATE_DIR/kafka-format.log" 2>&1 \
      || die "kafka storage format failed: $(tail -n 5 "$STATE_DIR/kafka-format.log")"
    launch
    ;;
  # A private broker's restart after a crash (libs/testkit's fault injectors): the same port,
  # configuration and data as `start` left them, nothing formatted again.
  resume)
    if pid_alive "$PIDFILE"; then log "kafka already running"; exit 0; fi
    [ -f "$KAFKA_DIR/server.properties" ] || die "nothing to resume in $KAFKA_DIR: run start first"
    launch
    ;;
  # A crash: SIGKILL, no controlled shutdown; the next resume recovers the logs.
  kill)
    if pid_alive "$PIDFILE"; then
      pid=$(cat "$PIDFILE"); kill -9 "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PIDFILE"
    ;;
  stop) stop_pid "$PIDFILE" kafka ;;
  env) echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" ;;
  *) die "usage: $0 start|resume|kill|stop|env" ;;
esac
