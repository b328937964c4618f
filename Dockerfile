# One image for every Ganache role, on the official Deno image, pinned to
# Deno 2.9.3 (2.9.4-2.9.6 abort grpc-js servers, see README).
#   docker build -t ganache .
#   docker run -p 40001:40001 ganache                      # start (embedded)
#   docker run ganache shard --etcd http://etcd:2379 ...    # any role
FROM denoland/deno:2.9.3

WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts ./
COPY roles/ roles/
COPY shared/ shared/
# Resolve and cache every dependency at build time; nothing is fetched at run time.
RUN deno install --frozen --entrypoint main.ts shared/shards/shard_worker.ts \
 && mkdir -p certs && chown deno:deno certs

USER deno
ENV GANACHE_HOST=0.0.0.0
EXPOSE 40001 40011 9464
# Reports the gRPC health of the server in this container; set GANACHE_ADDR
# for a role that does not listen on 127.0.0.1:40001 (a shard: 40011).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-read=certs,node_modules", "--allow-env=GRPC_*,grpc_proxy,https_proxy,http_proxy,no_grpc_proxy,no_proxy,GANACHE_*,OTEL_DENO", "main.ts", "health"]
ENTRYPOINT ["deno", "run", "--cached-only", "--v8-flags=--max-semi-space-size=1,--expose-gc,--no-concurrent-array-buffer-sweeping", "--unstable-worker-options", "--allow-net", "--allow-read=certs,shared,node_modules", "--allow-env=GRPC_*,grpc_proxy,https_proxy,http_proxy,no_grpc_proxy,no_proxy,GANACHE_*,OTEL_DENO", "--allow-write=certs", "main.ts"]
CMD ["start"]
