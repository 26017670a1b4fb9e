# syntax=docker/dockerfile:1
#
# One Dockerfile, one target per service (they share every layer up to the last COPY):
#   docker build --target users     -t dream/users .
#   docker build --target courses   -t dream/courses .
#   docker build --target media     -t dream/media .
#   docker build --target media-worker -t dream/media-worker .
#   docker build --target discovery -t dream/discovery .
#   docker build --target gateway   -t dream/gateway .
# docker-compose.yml builds all six. Services run TypeScript directly with tsx (no build step),
# so tsx is a production dependency of the image.

ARG NODE_VERSION=22

# ---- deps: production node_modules only ---------------------------------------------------------
# The full bookworm image has python3, make and g++, so native modules (better-sqlite3, argon2)
# can compile when no prebuilt binary matches. The runtime stage is the same Debian release, so
# the compiled binaries run there unchanged.
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /app
# Manifests first: this layer is rebuilt only when dependencies change, not on every code edit.
# Every workspace the root package.json lists needs its manifest here, or `npm ci` refuses the lockfile.
COPY package.json package-lock.json ./
COPY packages/common/package.json packages/common/
COPY discovery/package.json discovery/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/courses/package.json subgraphs/courses/
COPY subgraphs/media/package.json subgraphs/media/
COPY gateway/package.json gateway/
COPY packages/testenv/package.json packages/testenv/
COPY web/package.json web/
# tsx runs the services. While the root package.json lists it only as a devDependency, make it a
# production one here (this stage's package.json is thrown away) at the exact version the lockfile
# pins, so images and `npm start` run the same tsx.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund \
 && if [ ! -e node_modules/tsx/package.json ]; then \
      TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
      && npm pkg delete devDependencies.tsx \
      && npm pkg set "dependencies.tsx=${TSX_VERSION}" \
      && npm install --omit=dev --no-audit --no-fund; \
    fi \
 && node -e "require.resolve('tsx')"

# ---- web: the browser app, built here; only its static files (web/dist) reach the gateway image --------
FROM node:${NODE_VERSION}-bookworm AS web
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/common/package.json packages/common/
COPY discovery/package.json discovery/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/courses/package.json subgraphs/courses/
COPY subgraphs/media/package.json subgraphs/media/
COPY gateway/package.json gateway/
COPY packages/testenv/package.json packages/testenv/
COPY web/package.json web/
# the build needs only JavaScript packages: no native module is compiled for it
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY web web
RUN npm run build -w web

# ---- runtime: what every service image shares ---------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# NODE_ENV is left unset on purpose: Apollo Server turns off introspection and the Sandbox landing
# page under NODE_ENV=production, and the gateway's Sandbox is part of the product.
ENV NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# Code and dependencies belong to root and are read-only for the service user; only ./data
# (SQLite files, development JWT keys when no keys are given) is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json tsconfig.base.json ./
COPY packages/common packages/common
COPY proto proto
COPY deploy/docker-entrypoint.sh deploy/healthcheck.cjs deploy/
RUN chmod 0755 deploy/docker-entrypoint.sh \
 && mkdir -p /app/data/keys && chown -R node:node /app/data
# The node image's unprivileged user (uid 1000).
USER node
# Services deregister from discovery and drain connections on SIGTERM (docker stop, compose down,
# scale-in). `init: true` in compose puts tini in front so signals reach node even as PID 1.
STOPSIGNAL SIGTERM
# No curl in slim images: node itself probes GET http://127.0.0.1:$PORT/health.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/app/deploy/healthcheck.cjs"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]

# ---- one target per service ---------------------------------------------------------------------
FROM runtime AS discovery
# The whole workspace (src, migrations, schema); .dockerignore leaves out test/ and data/.
COPY discovery discovery
ENV PORT=8500
EXPOSE 8500
CMD ["node", "--import", "tsx", "discovery/src/main.ts"]

FROM runtime AS users
# The whole workspace (src, migrations, schema); .dockerignore leaves out test/ and data/.
COPY subgraphs/users subgraphs/users
ENV PORT=4001 GRPC_PORT=50051
EXPOSE 4001 50051
CMD ["node", "--import", "tsx", "subgraphs/users/src/main.ts"]

FROM runtime AS courses
# The whole workspace (src, migrations, schema); .dockerignore leaves out test/ and data/.
COPY subgraphs/courses subgraphs/courses
ENV PORT=4002 GRPC_PORT=50052
EXPOSE 4002 50052
CMD ["node", "--import", "tsx", "subgraphs/courses/src/main.ts"]

FROM runtime AS media
# ffmpeg and ffprobe from Debian: the worker role (MEDIA_ROLE=worker) spawns them; the API probes uploads.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /app/data/media && chown -R node:node /app/data
USER node
# The whole workspace (src, migrations, schema); .dockerignore leaves out test/ and data/.
COPY subgraphs/media subgraphs/media
ENV PORT=4003
EXPOSE 4003
CMD ["node", "--import", "tsx", "subgraphs/media/src/main.ts"]

FROM media AS media-worker
# The same image as media (code, ffmpeg) in the worker role: it runs transcoding jobs from the BullMQ
# queue and serves only GET /health on PORT (database, Redis, its job loop), which the inherited
# HEALTHCHECK probes like every other service's.
ENV MEDIA_ROLE=worker PORT=4003
CMD ["node", "--import", "tsx", "subgraphs/media/src/main.ts"]

FROM runtime AS gateway
# The whole workspace (src, migrations, schema); .dockerignore leaves out test/ and data/.
COPY gateway gateway
# the web app at / (WEB_ROOT defaults to /app/web/dist) and its trusted-documents manifest
COPY --from=web /app/web/dist web/dist
ENV PORT=8080
EXPOSE 8080
CMD ["node", "--import", "tsx", "gateway/src/main.ts"]
