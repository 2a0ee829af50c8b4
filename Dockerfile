# lineside appliance image. Multi-stage: build (native modules + TypeScript) → slim runtime.
# Offline-friendly: dependencies come only from the npm registry (or a registry mirror passed as
# --build-arg NPM_CONFIG_REGISTRY=…); .npmrc keeps onnxruntime-node from downloading CUDA files.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ARG NPM_CONFIG_REGISTRY
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The system ffmpeg is used at run time; the optional npm copy is not needed in the image.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Camera decoding: ffmpeg (RTSP, V4L2, video replay) and GStreamer with Aravis (GigE Vision).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base \
      gstreamer1.0-plugins-good gstreamer1.0-plugins-bad aravis-tools libaravis-0.8-0 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system lineside && useradd --system --gid lineside --home-dir /app --shell /usr/sbin/nologin lineside \
 && mkdir -p /data && chown lineside:lineside /data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY models ./models
COPY fixtures ./fixtures
USER lineside
VOLUME ["/data"]
# The web page and /healthz. Bind to all interfaces inside the container; publish as needed.
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Without a mounted config this runs the embedded demo. For a real line:
#   docker run -v /etc/lineside:/config:ro -v lineside-data:/data IMAGE run --config /config/lineside.yaml --data-dir /data
# GigE Vision cameras stream over UDP to the host's interface: add --network host. USB cameras:
# --device /dev/video0. Smart cameras writing files: mount their FTP folder, e.g. -v /srv/ftp/cam1:/drop/cam1.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "--data-dir", "/data", "--http-host", "0.0.0.0"]
