.PHONY: proto

# Regenerates libs/proto/src/gen from proto/ (buf.yaml, buf.gen.yaml at the root). npx puts
# node_modules/.bin on PATH so buf finds the protoc-gen-es plugin installed by npm.
proto:
	npx buf lint
	npx buf generate
