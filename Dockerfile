# syntax=docker/dockerfile:1
#
# Thinkscope server image: the Fastify server (TypeScript run through tsx, no
# compile step), the built page and the bundled tiny model, on port 8787.
#
#   docker build -t thinkscope .
#   docker run --rm -p 8787:8787 -v thinkscope-data:/data \
#     -e THINKSCOPE_BACKEND=vllm:http://gpu-box:8000/v1 thinkscope
#
# Stage "build" has the compilers for better-sqlite3's native addon and every
# devDependency (vite builds the page); stage "runtime" gets only production
# node_modules. docs/deploy.md explains the choices.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build

# python3, make and g++: node-gyp builds better-sqlite3 when no prebuilt addon
# can be fetched for this Node ABI.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*

# package-lock.json is written by npm 11. npm 10 (bundled with Node 22) reads
# its `file:` override links differently and leaves the GPU stand-ins
# (tools/no-gpu-prebuilt) as dangling links, so use the same npm as the repo.
ARG NPM_VERSION=11.19.1
RUN npm install -g "npm@${NPM_VERSION}" --no-audit --no-fund

WORKDIR /app

# node-gyp uses the image's own Node headers instead of downloading them;
# node-llama-cpp never downloads or compiles llama.cpp (its CPU prebuilt ships
# as an npm package).
ENV npm_config_nodedir=/usr/local \
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

# Manifests first: the dependency layer stays cached until one of them changes.
COPY package.json package-lock.json ./
COPY tools/no-gpu-prebuilt/package.json tools/no-gpu-prebuilt/
COPY packages/protocol/package.json packages/protocol/
COPY packages/core/package.json packages/core/
COPY packages/backends/package.json packages/backends/
COPY packages/ai-sdk/package.json packages/ai-sdk/
COPY apps/server/package.json apps/server/
COPY apps/web/package.json apps/web/

# Install scripts off for everything, then run exactly the two that matter:
# better-sqlite3 builds its addon, esbuild (under tsx and vite) checks its
# binary. Explicit, and the same under npm 10 and npm 11 (which blocks
# unapproved scripts by default).
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 esbuild

COPY . .

# Build the page, drop devDependencies (vite, vitest, eslint, typescript-eslint,
# playwright-core ...), then drop what only a build needs: better-sqlite3's C
# sources and object files, and node-llama-cpp's prebuilts for other CPUs.
# The last two lines load both native modules, so a broken runtime tree fails
# the build instead of the first request.
RUN npm run build \
  && test -f apps/web/dist/index.html \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
    node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
    node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/test_extension.node \
    node_modules/better-sqlite3/build/Release/sqlite3.a \
  && keep="linux-$(node -p 'process.arch === "arm" ? "armv7l" : process.arch')" \
  && for dir in node_modules/@node-llama-cpp/linux-*; do \
    [ -L "$dir" ] || [ "${dir##*/}" = "$keep" ] || rm -rf "$dir"; \
  done \
  && node -e "new (require('better-sqlite3'))(':memory:').close()" \
  && node -e "import('node-llama-cpp').then(async ({ getLlama }) => (await getLlama({ gpu: false, build: 'never' })).dispose())"

FROM ${NODE_IMAGE} AS runtime

# tini as PID 1 forwards SIGTERM to node (docker stop, Kubernetes) and reaps
# zombies; node itself as PID 1 would ignore the signal until SIGKILL.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8787 \
  THINKSCOPE_DATA_DIR=/data \
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

WORKDIR /app

# Only what the server runs: production node_modules, the workspace sources tsx
# loads, the built page, the bundled model. The files stay owned by root, so
# the server (running as `node`) cannot change its own code.
COPY --from=build /app/package.json /app/tsconfig.base.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/tools/no-gpu-prebuilt ./tools/no-gpu-prebuilt
COPY --from=build /app/packages ./packages
COPY --from=build /app/apps/server ./apps/server
COPY --from=build /app/apps/web/package.json ./apps/web/package.json
COPY --from=build /app/apps/web/dist ./apps/web/dist
COPY --from=build /app/models ./models

# The database and downloaded models live in /data. A named volume mounted
# there starts with this directory's owner (uid 1000, `node`).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]

EXPOSE 8787

# Node has fetch built in: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "apps/server/src/main.ts"]
