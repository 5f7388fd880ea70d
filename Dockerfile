# One image for every correo service; the command picks the service.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY e2e/package.json ./e2e/package.json
RUN npm ci --no-audit --no-fund
# The webmail's single page (vite build into services/webmail/web/dist, served by the webmail).
RUN npm run build -w @correo/webmail
COPY proto ./proto
USER node
ENV NODE_ENV=production
# Not a dev setup: no demo account, no plaintext AUTH from loopback, a generated admin token. The
# all-in-one refuses CORREO_DEMO=true or a published ADMIN_TOKEN here (docs/security.md).
ENV CORREO_DEV=false
EXPOSE 9464
CMD ["node", "--import", "tsx", "services/all-in-one/src/main.ts"]
