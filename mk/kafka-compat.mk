.PHONY: test-kafka-compat

# The bus contract suite once more on an older Kafka (3.9.1 by default; KAFKA_COMPAT_VERSION picks
# another) on a private broker beside the usual one. `make test` runs it after the main suite.
test-kafka-compat:
	bash scripts/kafka-compat.sh
