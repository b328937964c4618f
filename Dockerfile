# One image for every Ganache role, on the official Deno image (pinned:
# Deno 2.9.4-2.9.6 abort grpc-js servers, see README).
FROM denoland/deno:2.9.3

WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts ./
COPY roles/ roles/
COPY shared/ shared/
# Resolve and cache every dependency at build time; nothing is fetched at run time.
RUN deno install --frozen --entrypoint main.ts shared/shard_worker.ts \
 && mkdir -p certs && chown deno:deno certs

USER deno
EXPOSE 40001
ENTRYPOINT ["deno", "run", "--cached-only", "--unstable-worker-options", "--allow-net", "--allow-read", "--allow-env=GRPC_*,grpc_proxy,https_proxy,http_proxy,no_grpc_proxy,no_proxy,GANACHE_*,OTEL_DENO", "--allow-write=/app/certs", "main.ts"]
CMD ["start", "--host", "0.0.0.0"]
