#!/usr/bin/env bash
# Installs the Go-built tools CI uses for the deploy checks into .stack/bin (idempotent):
#   helm         helm.sh/helm/v3            (helm lint / helm template)
#   kubeconform  github.com/yannh/kubeconform (validates rendered manifests)
#   jaeger       github.com/jaegertracing/jaeger (v2, the local stack's trace backend;
#                not built unless named: `install-tools.sh jaeger`, or stack:up --with-tracing)
#   promtool     github.com/prometheus/prometheus (checks and unit-tests the chart's alert rules
#                in scripts/deploy-checks.sh; not built unless named)
# Versions are pinned below; a binary already built from the pinned version is left alone.
# Usage: scripts/stack/install-tools.sh [--print-path] [helm|kubeconform ...]
#   --print-path  only print the bin directory (for `export PATH="$(... --print-path):$PATH"`)
# Env: STACK_DIR (default <repo>/.stack). The regular Go module/build caches are reused.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_MODULE=helm.sh/helm/v3
HELM_VERSION=v3.16.4
KUBECONFORM_MODULE=github.com/yannh/kubeconform
KUBECONFORM_VERSION=v0.7.0
# What helm's Makefile stamps in: its version, and the Kubernetes version it targets (client-go
# v0.31 => 1.31) used for .Capabilities.KubeVersion and lint deprecation checks.
HELM_K8S_MAJOR=1
HELM_K8S_MINOR=31
HELM_LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
  HELM_LDFLAGS+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$HELM_K8S_MAJOR -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
KUBECONFORM_LDFLAGS="-X main.version=$KUBECONFORM_VERSION"
JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.76.0
PROMETHEUS_MODULE=github.com/prometheus/prometheus
# Prometheus v3.9.1. (Newer tags carry replace/exclude directives that `go install pkg@version`
# refuses, so promtool is built from a small wrapper module, like Jaeger.)
PROMETHEUS_VERSION=v0.309.1

usage() { print_header "${BASH_SOURCE[0]}"; }

tools=()
for arg in "$@"; do
  case "$arg" in
    --print-path) printf '%s\n' "$STACK_BIN"; exit 0 ;;
    -h | --help) usage; exit 0 ;;
    helm | kubeconform | jaeger | promtool) tools+=("$arg") ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
((${#tools[@]})) || tools=(helm kubeconform)

ensure_stack_dirs
start="$(now)"
for tool in "${tools[@]}"; do
  case "$tool" in
    helm) go_install helm "$HELM_MODULE/cmd/helm@$HELM_VERSION" "$HELM_MODULE" "$HELM_VERSION" "$HELM_LDFLAGS" ;;
    kubeconform) go_install kubeconform "$KUBECONFORM_MODULE/cmd/kubeconform@$KUBECONFORM_VERSION" "$KUBECONFORM_MODULE" "$KUBECONFORM_VERSION" "$KUBECONFORM_LDFLAGS" ;;
    jaeger) go_build_wrapped jaeger "$JAEGER_MODULE/cmd/jaeger" "$JAEGER_MODULE" "$JAEGER_VERSION" ;;
    promtool) go_build_wrapped promtool "$PROMETHEUS_MODULE/cmd/promtool" "$PROMETHEUS_MODULE" "$PROMETHEUS_VERSION" ;;
  esac
done

# Smoke-test what we have.
for tool in "${tools[@]}"; do
  case "$tool" in
    helm) v="$("$STACK_BIN/helm" version --short 2>/dev/null)" || die "helm does not run" ;;
    kubeconform) v="$("$STACK_BIN/kubeconform" -v 2>/dev/null)" || die "kubeconform does not run" ;;
    jaeger) "$STACK_BIN/jaeger" version >/dev/null 2>&1 && v="$JAEGER_VERSION" || die "jaeger does not run" ;;
    promtool) "$STACK_BIN/promtool" --version >/dev/null 2>&1 && v="$PROMETHEUS_VERSION" || die "promtool does not run" ;;
  esac
  ok "$tool $v ($STACK_BIN/$tool)"
done
log "tools ready in $(elapsed "$start"); add them to PATH with: export PATH=\"$STACK_BIN:\$PATH\""
