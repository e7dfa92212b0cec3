# safe-deploy as a container image: the CLI as ENTRYPOINT, for Cloud Build steps
# (templates/cloudbuild/cloudbuild.yaml) and any runner that takes an image. README "Container image" says
# what it contains and its size. Each RUN is plain shell with no Docker-only syntax, so
# test/e2e/onboarding/container-image.test.ts can run them in a temporary copy of the repository.
#
# Pin both base images by digest when you build for production (`docker buildx imagetools inspect IMAGE`
# prints it): FROM node:22-bookworm@sha256:… and gcr.io/distroless/nodejs22-debian12:nonroot@sha256:….

# ── build: compile and bundle the TypeScript, then keep the production dependencies only ──
FROM node:22-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: no dependency of safe-deploy needs one.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json oclif.manifest.json ./
COPY bin ./bin
COPY src ./src
COPY templates ./templates
COPY esbuild.config.mjs ./
# tsc for the programmatic API, then the bundled CLI bin/run.js loads (docs/architecture.md#start-up).
RUN npm run build:dist
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# What the runtime gets: the files the npm package ships ("files" in package.json) and its dependencies.
RUN mkdir -p image/src && cp -R package.json oclif.manifest.json bin dist templates node_modules image/ && cp -R src/schemas image/src/

# ── runtime: Node.js 22 on distroless Debian 12, no shell, no package manager, user nonroot (65532) ──
# No kubectl: `apply` then uses its API applier (server-side apply through @kubernetes/client-node),
# which it picks by itself when kubectl is not on PATH. `-k` (kustomize) needs kubectl: run
# `kubectl kustomize` in an earlier step and give the output with -f.
FROM gcr.io/distroless/nodejs22-debian12:nonroot AS runtime
COPY --from=build /src/image /app
USER 65532:65532
WORKDIR /workspace
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/run.js"]
