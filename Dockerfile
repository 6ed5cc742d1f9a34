# The hub's image: the lastmile CLI with its locked dependencies.
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir "uv>=0.5"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY hub hub
COPY ingest ingest
COPY streaming streaming
COPY alerts alerts
COPY api api
COPY devices devices
COPY billing billing
COPY programs programs
COPY simulators simulators
COPY flows flows
COPY lastmile lastmile
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH"
ENTRYPOINT ["lastmile"]
