# PyTake's production image: `pytake serve`, `pytake worker`, `pytake gateway` and `pytake migrate`
# all run from it (the command picks the process type; deploy/compose.yaml and deploy/k8s/ do).
# Not built in CI: base images cannot be pulled there. tests/test_deploy_docker.py lints this file
# with hadolint and checks its commands against the CLI.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- the web app: built once, served as static files by the API ------------------------------
FROM ${NODE_IMAGE} AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# ---- Python dependencies and the app, in a virtualenv copied whole into the runtime ----------
FROM ${PYTHON_IMAGE} AS python
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml aerich.ini asgi.py ./
COPY core/ core/
COPY connectors/ connectors/
COPY models/ models/
COPY resolvers/ resolvers/
COPY schema/ schema/
COPY ingress/ ingress/
COPY jobs/ jobs/
COPY modules/ modules/
COPY migrations/ migrations/
# Editable: the code finds its migrations and the web app beside it (core/settings.ROOT is /app),
# not inside site-packages.
RUN pip install -e . && python -m compileall -q /app

# ---- runtime: slim, no compilers, not root ---------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# jemalloc: `pytake worker` preloads it into its worker processes, whose heap creeps up under
# glibc's malloc (core/memory.allocator_env, README "Soak"). The version is bookworm's.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 pytake \
    && useradd --system --uid 10001 --gid pytake --no-create-home --home-dir /app --shell /usr/sbin/nologin pytake
COPY --from=python /opt/venv /opt/venv
COPY --from=python /app /app
COPY --from=frontend /src/frontend/dist /app/frontend/dist
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Liveness only (the process answers); readiness, which also needs PostgreSQL and Redis, is
# /readyz for the orchestrator. Workers and the gateway serve no HTTP: compose and Kubernetes
# turn this check off for them.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
ENTRYPOINT ["pytake"]
CMD ["serve", "--workers", "2"]
