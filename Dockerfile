# One image for every service; SERVICE picks which app it runs (ingestion, milestones,
# journeys, delivery, consent, analytics, or platform for all six in one process).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
COPY program ./program
COPY tsconfig.base.json tsconfig.json .swcrc ./
# The runtime transpiles TypeScript with @swc-node/register, a devDependency.
RUN npm ci --include=dev --no-audit --no-fund
# The operator console, which SERVICE=platform serves at / (compose serves it from its own container).
RUN node node_modules/vite/bin/vite.js build apps/console
ARG SERVICE=platform
ENV SERVICE=${SERVICE}
EXPOSE 3000
CMD ["sh", "-c", "exec node -r @swc-node/register apps/${SERVICE}/src/main.ts"]
