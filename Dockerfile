# One image for every correo service; the command picks the service.
# Two stages: the first installs the npm dependencies (and builds argon2 if its prebuilt binary
# does not fit), the second carries only the result, owned by root and read-only to the `node`
# user the services run as. The image runs with a read-only root filesystem: the only writable
# paths it needs are /tmp (tsx's transform cache) and CORREO_DATA_DIR, both volumes or emptyDirs
# (docker-compose.yml and the chart mount them).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY e2e/package.json ./e2e/package.json
# The webmail's single page (vite build into services/webmail/web/dist, served by the webmail),
# then the devDependencies go: the checks' and the build's tools (TypeScript, ESLint, Prettier,
# buf, vite). The services run their TypeScript through tsx, a dependency of the workspaces.
RUN npm ci --no-audit --no-fund
RUN npm run build -w @correo/webmail
RUN npm prune --omit=dev --no-audit --no-fund
COPY proto ./proto

FROM node:24-bookworm-slim
# tini is PID 1: it forwards SIGTERM to node (which drains, docs/kubernetes.md) and reaps zombies.
# curl is for the health checks of docker-compose.yml.
RUN apt-get update && apt-get install -y --no-install-recommends tini curl ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/lib/correo && chown node:node /var/lib/correo
WORKDIR /app
COPY --from=deps /app /app
USER node
ENV NODE_ENV=production
ENV CORREO_DATA_DIR=/var/lib/correo
# Not a dev setup: no demo account, no plaintext AUTH from loopback, a generated admin token. The
# all-in-one refuses CORREO_DEMO=true or a published ADMIN_TOKEN here (docs/security.md).
ENV CORREO_DEV=false
VOLUME ["/tmp", "/var/lib/correo"]
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "services/all-in-one/src/main.ts"]
