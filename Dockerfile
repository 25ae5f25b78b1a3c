# syntax=docker/dockerfile:1
# One image per Griot service, chosen by the SERVICE build argument:
#   docker build --build-arg SERVICE=registry -t griot-registry .
#   docker build --build-arg SERVICE=content-store -t griot-content-store .
# The build stage runs exactly what CI runs and test/deploy.test.ts checks: a frozen install, `pnpm build`
# and `pnpm --filter @griot/$SERVICE deploy --prod /out` (built JavaScript, the migrations, production
# dependencies only). The final stage is Node.js 20 slim with that folder, run as the unprivileged `node` user.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
ARG PNPM_VERSION=12.21.0
RUN test "$SERVICE" = registry || test "$SERVICE" = content-store || { echo "--build-arg SERVICE=registry|content-store" >&2; exit 1; }
RUN npm install -g --no-audit --no-fund "pnpm@${PNPM_VERSION}"
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile
RUN pnpm build
RUN pnpm --filter "@griot/${SERVICE}" deploy --prod /out

FROM ${NODE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production \
    GRIOT_DATA_DIR=/tmp/griot
WORKDIR /app
COPY --from=build --chown=root:root /out /app
USER node
# gRPC (REGISTRY_LISTEN 50051 / CONTENT_LISTEN 50052) and the admin HTTP /healthz /readyz /metrics
# (REGISTRY_ADMIN_LISTEN 9051 / CONTENT_ADMIN_LISTEN 9052): the listen variables choose; the manifests
# under deploy/kubernetes/ set them to these ports on 0.0.0.0.
EXPOSE 50051 50052 9051 9052
# `node dist/migrate.js` (the same image) runs the service's migrations once before a rollout.
CMD ["node", "dist/main.js"]
