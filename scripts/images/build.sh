#!/usr/bin/env bash
# Builds the container images with buildah (`npm run images:build`), without Docker or a registry:
#   1. installs podman, buildah, runc, debootstrap, podman-compose if missing (apt; needs root)
#   2. assembles the base images when they are not in local storage:
#        localhost/debian:bookworm-slim          debootstrap --variant=minbase bookworm, slimmed
#        localhost/node:24.22.3-bookworm-slim    + Node and npm from the npm registry (pinned,
#                                                integrity-checked), laid out like the official image
#   3. builds every service target of docker/Dockerfile (buildah build --isolation chroot, layer
#      cache on, NODE_IMAGE=the local Node image) as localhost/bible-packages/<service>:dev
#   4. for docker/compose.yaml: the seed target, and the dependency images (postgres, redis, minio)
#      from docker/deps/*.Dockerfile
#   5. prints every image's size
# Caches: the rootfs tarball and downloads in .stack/images, images and layers in podman's storage,
# npm's cache in a buildah cache mount. A second run rebuilds only what changed.
#
# Usage: scripts/images/build.sh [--no-deps] [--base-only] [target...]
#   --no-deps     only the four service images (what the smoke test needs): no seed, postgres,
#                 redis or minio image
#   --base-only   stop after the base images
# Env: IMAGE_PREFIX (localhost/bible-packages), IMAGE_TAG (dev), NODE_IMAGE and RUNTIME_BASE_IMAGE
#      (use pulled images instead of the assembled ones), DEBIAN_MIRROR, NPM_REGISTRY.
set -euo pipefail
# shellcheck source=./lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WITH_DEPS=1
BASE_ONLY=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --no-deps) WITH_DEPS=0 ;;
    --base-only) BASE_ONLY=1 ;;
    -h | --help) print_header "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option: $arg" ;;
    *) TARGETS+=("$arg") ;;
  esac
done
if ((${#TARGETS[@]} == 0)); then
  TARGETS=("${SERVICE_TARGETS[@]}")
  # docker/compose.yaml's one-shot seed (a tool image with ffmpeg and the seed data).
  ((WITH_DEPS == 0)) || TARGETS+=(seed)
fi

require_root_or_die
ensure_stack_dirs
mkdir -p "$IMAGES_DIR" "$IMAGES_LOGS"
ensure_container_tools
STARTED="$(now)"

# Common buildah flags: chroot isolation (no nested runtime needed), host network (npm, apt),
# docker format (OCI images drop HEALTHCHECK and SHELL), layer cache.
# RUN steps get a 1024 open-files limit by default, too few for npm install from a warm cache.
NOFILE="$(ulimit -Hn)"
[[ "$NOFILE" =~ ^[0-9]+$ ]] && ((NOFILE <= 65536)) || NOFILE=65536
BUILDAH_FLAGS=(--isolation chroot --network host --format docker --layers --ulimit "nofile=$NOFILE:$NOFILE")

# ---------------------------------------------------------------------------------------------
# Base images
# ---------------------------------------------------------------------------------------------
build_debian_image() {
  if [[ "$(image_label "$DEBIAN_IMAGE" io.bible-packages.recipe)" == "$BASE_RECIPE" ]]; then
    return 0
  fi
  local tarball="$IMAGES_DIR/debian-$DEBIAN_SUITE-$DEBIAN_ARCH-minbase-r$BASE_RECIPE.tar" t0 rootfs
  t0="$(now)"
  if [[ ! -s "$tarball" ]]; then
    rootfs="$IMAGES_DIR/rootfs.tmp"
    rm -rf "$rootfs"
    log "debootstrap --variant=minbase $DEBIAN_SUITE (log: $IMAGES_LOGS/debootstrap.log)"
    debootstrap --variant=minbase --arch="$DEBIAN_ARCH" \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$IMAGES_LOGS/debootstrap.log" 2>&1 ||
      { tail -n 20 "$IMAGES_LOGS/debootstrap.log" >&2; die "debootstrap failed"; }
    slim_rootfs "$rootfs"
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  pm import \
    --change 'CMD ["bash"]' \
    --change "LABEL io.bible-packages.recipe=$BASE_RECIPE" \
    --change "LABEL org.opencontainers.image.description=Debian $DEBIAN_SUITE minbase (debootstrap)" \
    "$tarball" "$DEBIAN_IMAGE" >/dev/null
  ok "$DEBIAN_IMAGE ($(image_size_mb "$DEBIAN_IMAGE") MB) in $(elapsed "$t0")"
}

# What debian:*-slim does: no docs, man pages or locales now or in later apt installs, no apt
# caches, the updates and security suites enabled.
slim_rootfs() {
  local r="$1"
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$r"/usr/share/{man,info,groff,lintian}/* "$r"/var/cache/apt/archives/*.deb \
    "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/tmp/* "$r"/root/.cache
  : >"$r/etc/machine-id"
  # The build host's name and resolver do not belong in the image (the runtime provides them).
  rm -f "$r/etc/hostname" "$r/etc/resolv.conf"
}

build_node_image() {
  if [[ -n "${NODE_IMAGE:-}" ]]; then
    log "NODE_IMAGE=$NODE_IMAGE given; not assembling a Node image"
    return 0
  fi
  if [[ "$(image_label "$NODE_IMAGE_LOCAL" io.bible-packages.recipe)" == "$BASE_RECIPE-$NPM_VERSION" ]]; then
    return 0
  fi
  local t0 ctx node_tgz npm_tgz
  t0="$(now)"
  node_tgz="$(fetch_npm_tarball "$NODE_PKG" "$NODE_VERSION" "$NODE_INTEGRITY")"
  npm_tgz="$(fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")"
  ctx="$IMAGES_DIR/node-context"
  rm -rf "$ctx"
  mkdir -p "$ctx/local/lib/node_modules/npm" "$ctx/local/bin"
  # Official layout: /usr/local/bin/node, /usr/local/include/node (headers for node-gyp),
  # /usr/local/lib/node_modules/npm with npm/npx links in /usr/local/bin.
  tar -xzf "$node_tgz" -C "$ctx/local" --strip-components=1 package/bin/node package/include
  tar -xzf "$npm_tgz" -C "$ctx/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/local/bin/npx"
  cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY local/ /usr/local/
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=$NODE_VERSION
LABEL io.bible-packages.recipe="$BASE_RECIPE-$NPM_VERSION" \\
      org.opencontainers.image.description="Node.js $NODE_VERSION on Debian $DEBIAN_SUITE (assembled from debootstrap and the npm registry's $NODE_PKG)"
CMD ["node"]
EOF
  buildah build "${BUILDAH_FLAGS[@]}" --layers=false -f "$ctx/Containerfile" -t "$NODE_IMAGE_LOCAL" "$ctx" \
    >"$IMAGES_LOGS/node-image.log" 2>&1 || { tail -n 30 "$IMAGES_LOGS/node-image.log" >&2; die "building $NODE_IMAGE_LOCAL failed"; }
  rm -rf "$ctx"
  ok "$NODE_IMAGE_LOCAL ($(image_size_mb "$NODE_IMAGE_LOCAL") MB) in $(elapsed "$t0")"
}

build_debian_image
build_node_image
((BASE_ONLY == 0)) || exit 0

# ---------------------------------------------------------------------------------------------
# Service images
# ---------------------------------------------------------------------------------------------
VERSION="$(node -p 'require("./package.json").version' 2>/dev/null || echo 0.0.0)"
REVISION="$(git -C "$ROOT_DIR" rev-parse HEAD 2>/dev/null || echo unknown)"
SOURCE="${IMAGE_SOURCE:-https://github.com/example/bible-packages}"
BUILD_ARGS=(
  --build-arg "NODE_IMAGE=${NODE_IMAGE:-$NODE_IMAGE_LOCAL}"
  --build-arg "RUNTIME_BASE_IMAGE=${RUNTIME_BASE_IMAGE:-$DEBIAN_IMAGE}"
  --build-arg "VERSION=$VERSION"
  --build-arg "REVISION=$REVISION"
  --build-arg "SOURCE=$SOURCE"
)
# Host trust store (e.g. a TLS-inspecting egress proxy's CA) for npm inside the build; a build
# secret is mounted for the one RUN step and never stored in a layer.
CA_BUNDLE="${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-}}"
[[ -z "$CA_BUNDLE" || ! -s "$CA_BUNDLE" ]] || BUILD_ARGS+=(--secret "id=build_ca,src=$CA_BUNDLE")
# One snapshot of the build context for every target: the shared working tree may change while
# the targets build (they would then differ, and miss each other's cached layers). The paths are
# the allowlist (`!path`) of the ignore file, which buildah applies on top.
CONTEXT="$IMAGES_DIR/context"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
mapfile -t ALLOWED < <(sed -n 's|^!\(.*[^/]\)/*$|\1|p' docker/Dockerfile.dockerignore)
tar -C "$ROOT_DIR" -cf - --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' \
  --exclude=.stack "${ALLOWED[@]}" docker | tar -C "$CONTEXT" -xf -
declare -a BUILT=()
for target in "${TARGETS[@]}"; do
  t0="$(now)"
  image="$IMAGE_PREFIX/$target:$IMAGE_TAG"
  log "building $image (log: $IMAGES_LOGS/$target.log)"
  # buildah does not pick up <Dockerfile>.dockerignore the way BuildKit does: named explicitly.
  buildah build "${BUILDAH_FLAGS[@]}" "${BUILD_ARGS[@]}" \
    --ignorefile "$CONTEXT/docker/Dockerfile.dockerignore" -f "$CONTEXT/docker/Dockerfile" \
    --target "$target" -t "$image" "$CONTEXT" >"$IMAGES_LOGS/$target.log" 2>&1 ||
    { tail -n 40 "$IMAGES_LOGS/$target.log" >&2; die "building $image failed"; }
  ok "$image in $(elapsed "$t0")"
  BUILT+=("$image")
done

# ---------------------------------------------------------------------------------------------
# Dependency images for docker/compose.yaml
# ---------------------------------------------------------------------------------------------
if ((WITH_DEPS == 1)); then
  for dep in postgres redis minio; do
    case "$dep" in
      postgres) image="$POSTGRES_IMAGE_LOCAL" ctx="$ROOT_DIR/docker/deps" ;;
      redis) image="$REDIS_IMAGE_LOCAL" ctx="$ROOT_DIR/docker/deps" ;;
      minio)
        image="$MINIO_IMAGE_LOCAL"
        # The stack's MinIO binary (go-installed at a pinned module version by up.sh).
        [[ -x "$STACK_BIN/minio" ]] || bash "$STACK_SCRIPTS_DIR/up.sh" --deps-only
        ctx="$IMAGES_DIR/minio-context"
        mkdir -p "$ctx"
        cmp -s "$STACK_BIN/minio" "$ctx/minio" || cp "$STACK_BIN/minio" "$ctx/minio"
        ;;
    esac
    t0="$(now)"
    buildah build "${BUILDAH_FLAGS[@]}" --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
      -f "$ROOT_DIR/docker/deps/$dep.Dockerfile" -t "$image" "$ctx" >"$IMAGES_LOGS/$dep.log" 2>&1 ||
      { tail -n 30 "$IMAGES_LOGS/$dep.log" >&2; die "building $image failed"; }
    ok "$image in $(elapsed "$t0")"
    BUILT+=("$image")
  done
fi

echo
printf '%-48s %8s\n' IMAGE "SIZE(MB)"
for image in "${BUILT[@]}"; do
  printf '%-48s %8s\n' "$image" "$(image_size_mb "$image")"
done
ok "images built in $(elapsed "$STARTED")"
