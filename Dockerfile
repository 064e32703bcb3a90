# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full dependency set.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
COPY public ./public
# Production dependencies only: no TypeScript (an optional peer of @nestjs/swagger, so --omit=optional
# too), no embedded PostgreSQL (a devDependency for local mode). scripts/image-runtime-check.sh
# reproduces this layout and runs the CLI, the migrations and the service from it.
RUN npm run build && npm prune --omit=dev --omit=optional

# Run: production dependencies and the build only, as the unprivileged `node` user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 LOG_FORMAT=json
# Without a container memory limit V8 sizes the heap from the host's memory and lets garbage pile up
# (peak RSS ~250-300 MB under load on a 24 GB host for a ~45 MB live heap); a cap 10x the live heap
# keeps it near 180 MB at no measurable CPU cost (BENCHMARKS.md).
ENV NODE_OPTIONS=--max-old-space-size=512
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/public ./public
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Production needs DATABASE_URL, ENCRYPTION_KEYS, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and PUBLIC_URL (see README).
# Operator commands run in the same image: `node dist/src/cli/main.js keys:rotate` (README, "Commands").
CMD ["node", "dist/src/main.js"]
