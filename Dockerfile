# minitask-controller image: multi-stage, production dependencies only, non-root, read-only-root friendly.
# Build from the repository root:  docker build -t minitask-controller .
# Without Docker: `npm run controller-image` (scripts/controller-image.ts) writes an image with the same content —
# Node 24 at /nodejs/bin/node with its shared libraries, the task runner's production dependencies, the five packages'
# package.json + dist/, nonroot 65532, this ENTRYPOINT — as a docker-archive tarball for the local cluster's real node
# (docs/operations.md, "Running in the local cluster"). It computes the production dependencies from package-lock.json:
# the `npm prune --workspace` below prunes only inside that workspace with npm 11, so this image would carry the whole
# node_modules, development dependencies included.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY packages ./packages
COPY testenv/package.json ./testenv/package.json
COPY testenv/compat/package.json ./testenv/compat/package.json
COPY codegen/package.json ./codegen/package.json
RUN npm ci --no-audit --no-fund
RUN npm run build
# Production dependencies of the task runner only.
RUN npm prune --omit=dev --workspace @minitask/taskrunner --include-workspace-root=false

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/workqueue/package.json ./packages/workqueue/package.json
COPY --from=build /src/packages/workqueue/dist ./packages/workqueue/dist
COPY --from=build /src/packages/client/package.json ./packages/client/package.json
COPY --from=build /src/packages/client/dist ./packages/client/dist
COPY --from=build /src/packages/informers/package.json ./packages/informers/package.json
COPY --from=build /src/packages/informers/dist ./packages/informers/dist
COPY --from=build /src/packages/controller/package.json ./packages/controller/package.json
COPY --from=build /src/packages/controller/dist ./packages/controller/dist
COPY --from=build /src/packages/taskrunner/package.json ./packages/taskrunner/package.json
COPY --from=build /src/packages/taskrunner/dist ./packages/taskrunner/dist
USER 65532:65532
# --max-semi-space-size=4: see deploy/deployment.yaml (which also caps the old space). --max-opt=2 (Maglev, no
# TurboFan) and --single-threaded-gc: no optimizing compiles and GC helper threads competing with the event loop
# in a pod of one or two CPUs — 0.84× the CPU per TaskRun in the first 1,000 runs, the same after 5,000 (bench/README.md).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "--max-opt=2", "--single-threaded-gc", "/app/packages/taskrunner/dist/cli/minitask-controller.js"]
