# The sandbox-terminal relay, with bubblewrap sandboxes inside the container. See docs/deployment.md.
#
#   docker build -t sandbox-relay .
#   docker run --privileged -p 8787:8787 -v relay-data:/data -e RELAY_SECRET="$(openssl rand -hex 32)" sandbox-relay
#
# Not built in CI (no Docker daemon there). Its npm ci, build and start commands were run on Debian 12 + Node 20
# outside Docker (see docs/deployment.md for what that showed).

# ---- build: the relay and the protocol package compiled to dist/ (tsc, a dev dependency of the repository root).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Every workspace's manifest: npm ci checks the whole lockfile against them.
COPY package.json package-lock.json tsconfig.base.json tsconfig.lib.json ./
COPY packages/protocol/package.json packages/protocol/tsconfig.build.json packages/protocol/
COPY packages/client/package.json packages/client/
COPY packages/elements/package.json packages/elements/
COPY server/package.json server/tsconfig.build.json server/
COPY demo/package.json demo/
COPY server/bin server/bin
# Scripts skipped: compiling needs no native addon.
RUN npm ci --workspace server --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY packages/protocol/src packages/protocol/src
COPY server/src server/src
# Builds the protocol package too (a project reference of the server's) and copies bashrc.sh beside its module.
RUN npm run build --workspace server

# ---- dependencies: production only. node-pty, sqlite3 and the relay's own native helper (server/native: sandbox-enter
# against libseccomp, fs_at) compile here, so this stage has a toolchain the final one lacks.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ libseccomp-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/client/package.json packages/client/
COPY packages/elements/package.json packages/elements/
COPY server/package.json server/
COPY demo/package.json demo/
# The bin must exist when npm installs, or npm does not link node_modules/.bin/sandbox-relay (for `docker exec … npx`).
COPY server/bin server/bin
COPY server/native/binding.gyp server/native/has-seccomp.mjs server/native/
COPY server/native/src server/native/src
RUN npm ci --omit=dev --workspace server --no-audit --no-fund

# ---- the relay: compiled JavaScript run by plain node (no TypeScript at run time)
FROM node:20-bookworm-slim
# bubblewrap: the sandboxes; libseccomp2: the sandbox helper's filter; passt, iproute2 and util-linux (nsenter):
# sandboxes' network; procps: ps/pgrep for users' shells; tini: PID 1 that reaps the orphans sandboxes leave behind
# and forwards SIGTERM to the relay.
RUN apt-get update \
  && apt-get install -y --no-install-recommends bubblewrap libseccomp2 passt iproute2 util-linux procps tini ca-certificates bash \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app ./
COPY --from=build /app/packages/protocol/dist packages/protocol/dist
COPY --from=build /app/server/dist server/dist

ENV NODE_ENV=production
# Fail at start when namespaces are not allowed, rather than fall back to running shells unisolated in the container.
ENV RELAY_BACKEND=bubblewrap
# Workspaces (and the SQLite session registry unless RELAY_REDIS_URL is set) live here.
VOLUME /data
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

ENTRYPOINT ["tini", "--"]
# The sandbox-relay bin, started by node itself: under `npx sandbox-relay` a SIGTERM stops npx but never reaches the
# relay (tried with npm 11), so `docker stop` would skip saving the sessions.
CMD ["node", "server/bin/sandbox-relay.mjs", "--host", "0.0.0.0", "--data-dir", "/data"]
