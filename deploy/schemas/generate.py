#!/usr/bin/env python3
"""Regenerates the vendored JSON schemas that scripts/deploy-checks.sh feeds to kubeconform.

kubeconform fetches its schemas from the internet by default; CI here has no internet, so the
schemas for exactly the kinds this repository renders are generated once from upstream API
definitions that ship inside Go modules (fetched through the Go module proxy with the regular
`go mod download`), and committed under deploy/schemas/. The result is deterministic: the same
module versions always give byte-identical files (sorted keys, no timestamps).

Sources (pinned below):
  * Kubernetes core kinds: api/openapi-spec/swagger.json of the Go module k8s.io/kubernetes.
  * prometheus-operator CRDs: jsonnet/prometheus-operator/*-crd.json of the Go module
    github.com/prometheus-operator/prometheus-operator (the same CRDs the operator installs).
  * KEDA CRDs: config/crd/bases/keda.sh_*.yaml of the Go module github.com/kedacore/keda/v2
    (the CRDs KEDA's release manifests and Helm chart install; read with PyYAML).

Conversion (what kubeconform's "-standalone-strict" schemas do, see yannh/kubernetes-json-schema):
  * one self-contained file per kind: the kind's definition at the root plus every definition it
    reaches under "definitions" (refs rewritten to "#/definitions/..."), JSON Schema draft 4;
  * strict: "additionalProperties": false on every object schema that lists "properties" (unless
    it preserves unknown fields), so misspelt or misplaced fields are errors;
  * int-or-string fields accept a string or an integer; resource.Quantity accepts a string or a
    number (the API server accepts both);
  * apiVersion/kind are pinned with an enum from x-kubernetes-group-version-kind;
  * CRD schemas get the full ObjectMeta schema for "metadata" (CRDs only declare `type: object`);
  * descriptions, "format" and x-kubernetes-* annotations are dropped (no validation meaning for
    kubeconform; keeps the files small and the diffs readable);
  * the JSON is laid out as prettier prints it (the repository runs `prettier --check .`).

File names follow kubeconform's template `{{ .ResourceKind }}{{ .KindSuffix }}.json`, e.g.
deployment-apps-v1.json, service-v1.json, servicemonitor-monitoring-v1.json.

Usage: python3 deploy/schemas/generate.py [--check]
  --check  regenerate into a temporary directory and fail if it differs from the committed files.
Needs `go` (for `go mod download`); the modules are cached in the regular Go module cache.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

K8S_MODULE = "k8s.io/kubernetes"
K8S_VERSION = "v1.31.4"
PROM_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROM_OPERATOR_VERSION = "v0.85.0"
KEDA_MODULE = "github.com/kedacore/keda/v2"
KEDA_VERSION = "v2.21.0"

# (apiVersion, kind) of every core resource the chart can render. Add a line when the chart
# starts rendering a new kind; scripts/deploy-checks.sh fails with "could not find schema" until
# the schema is generated and committed.
K8S_KINDS = [
    ("v1", "ConfigMap"),
    ("v1", "Pod"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
]

# CRD JSON files (inside the prometheus-operator module) and the versions to take from them.
CRDS = [
    ("jsonnet/prometheus-operator/servicemonitors-crd.json", "v1"),
    ("jsonnet/prometheus-operator/prometheusrules-crd.json", "v1"),
]

# CRD YAML files (inside the KEDA module) and the versions to take from them.
KEDA_CRDS = [
    ("config/crd/bases/keda.sh_scaledobjects.yaml", "v1alpha1"),
]

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
DROPPED_KEYS = {"description", "format", "example", "externalDocs"}


def module_dir(module: str, version: str) -> str:
    """Downloads (or finds in the module cache) a Go module and returns its directory."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # outside any go.mod / go.work
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    )
    try:
        info = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"go mod download {module}@{version} failed:\n{out.stderr}{out.stdout}")
    if "Error" in info or "Dir" not in info:
        sys.exit(f"go mod download {module}@{version} failed: {info.get('Error', info)}")
    return info["Dir"]


def schema_file_name(api_version: str, kind: str) -> str:
    """Mirrors kubeconform's {{ .ResourceKind }}{{ .KindSuffix }} (pkg/registry/registry.go)."""
    parts = api_version.split("/")
    suffix = "-" + parts[0].split(".")[0].lower()
    if len(parts) > 1:
        suffix += "-" + parts[1].lower()
    return f"{kind.lower()}{suffix}.json"


def clean(schema, *, preserve_unknown: bool = False):
    """Normalises one schema node (recursively) as described in the module docstring."""
    if isinstance(schema, list):
        return [clean(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("format") == "int-or-string" or schema.get("x-kubernetes-int-or-string"):
        return copy.deepcopy(INT_OR_STRING)
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or preserve_unknown
    nullable = bool(schema.get("nullable"))
    out = {}
    for key, value in schema.items():
        if key in DROPPED_KEYS or key.startswith("x-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: clean(sub) for name, sub in value.items()}
        elif key in ("items", "not"):
            out[key] = clean(value)
        elif key == "additionalProperties":
            out[key] = clean(value) if isinstance(value, dict) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [clean(sub) for sub in value]
        else:
            out[key] = copy.deepcopy(value)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if nullable and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def ref_name(ref: str) -> str:
    prefix = "#/definitions/"
    if not ref.startswith(prefix):
        raise ValueError(f"unexpected $ref {ref}")
    return ref[len(prefix):]


def collect_refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(ref_name(value))
            else:
                collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            collect_refs(value, found)


def special_definition(name: str):
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return copy.deepcopy(INT_OR_STRING)
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return copy.deepcopy(QUANTITY)
    return None


def closure(definitions: dict, roots: set[str]) -> dict:
    """Every definition reachable from `roots`, cleaned."""
    out: dict = {}
    todo = sorted(roots)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        special = special_definition(name)
        cleaned = special if special is not None else clean(definitions[name])
        out[name] = cleaned
        refs: set[str] = set()
        collect_refs(cleaned, refs)
        todo.extend(sorted(refs - set(out)))
    return out


def pin_gvk(schema: dict, api_version: str, kind: str) -> None:
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}


def k8s_schema(definitions: dict, api_version: str, kind: str) -> dict:
    group, _, version = api_version.rpartition("/")
    matches = [
        name
        for name, d in definitions.items()
        for gvk in d.get("x-kubernetes-group-version-kind", [])
        if gvk.get("kind") == kind
        and gvk.get("version") == version
        and gvk.get("group", "") == ("" if group == "" else group)
        and not name.endswith("List")
    ]
    if len(matches) != 1:
        sys.exit(f"expected exactly one definition for {api_version} {kind}, found {matches}")
    root = clean(definitions[matches[0]])
    pin_gvk(root, api_version, kind)
    refs: set[str] = set()
    collect_refs(root, refs)
    root["definitions"] = closure(definitions, refs)
    return root


def crd_schema(crd: dict, version: str, definitions: dict) -> tuple[str, str, dict]:
    spec = crd["spec"]
    api_version = f"{spec['group']}/{version}"
    kind = spec["names"]["kind"]
    (v,) = [v for v in spec["versions"] if v["name"] == version]
    root = clean(v["schema"]["openAPIV3Schema"])
    pin_gvk(root, api_version, kind)
    root["properties"]["metadata"] = {"$ref": f"#/definitions/{OBJECT_META}"}
    root["additionalProperties"] = False
    root["definitions"] = closure(definitions, {OBJECT_META})
    return api_version, kind, root


PRINT_WIDTH = 100  # the repository's prettier printWidth


def _pretty(value, indent: int, prefix_len: int, suffix_len: int) -> str:
    """JSON laid out the way prettier (the repository's formatter) prints it, so `prettier
    --check .` accepts the generated files: non-empty objects one key per line, arrays on one
    line when they fit in PRINT_WIDTH (else one element per line), 2-space indentation."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = sorted(value.items())
        lines = []
        for n, (k, v) in enumerate(items):
            key = json.dumps(k, ensure_ascii=False) + ": "
            comma = 0 if n == len(items) - 1 else 1
            lines.append(pad + "  " + key + _pretty(v, indent + 2, indent + 2 + len(key), comma) + ("," if comma else ""))
        return "{\n" + "\n".join(lines) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        flat = None
        if not any(isinstance(v, (dict, list)) and v for v in value):
            flat = "[" + ", ".join(_pretty(v, 0, 0, 0) for v in value) + "]"
        if flat is not None and prefix_len + len(flat) + suffix_len <= PRINT_WIDTH:
            return flat
        lines = []
        for n, v in enumerate(value):
            comma = 0 if n == len(value) - 1 else 1
            lines.append(pad + "  " + _pretty(v, indent + 2, indent + 2, comma) + ("," if comma else ""))
        return "[\n" + "\n".join(lines) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def render(schema: dict) -> str:
    return _pretty(schema, 0, 0, 0) + "\n"


def generate(out_dir: str) -> dict[str, str]:
    k8s_dir = module_dir(K8S_MODULE, K8S_VERSION)
    swagger_path = os.path.join(k8s_dir, "api", "openapi-spec", "swagger.json")
    with open(swagger_path, encoding="utf-8") as f:
        definitions = json.load(f)["definitions"]
    files: dict[str, str] = {}
    for api_version, kind in K8S_KINDS:
        files[schema_file_name(api_version, kind)] = render(k8s_schema(definitions, api_version, kind))
    po_dir = module_dir(PROM_OPERATOR_MODULE, PROM_OPERATOR_VERSION)
    for rel, version in CRDS:
        with open(os.path.join(po_dir, rel), encoding="utf-8") as f:
            crd = json.load(f)
        api_version, kind, schema = crd_schema(crd, version, definitions)
        files[schema_file_name(api_version, kind)] = render(schema)
    keda_dir = module_dir(KEDA_MODULE, KEDA_VERSION)
    try:
        import yaml  # PyYAML (Debian python3-yaml); only the KEDA CRDs are YAML
    except ImportError:
        sys.exit("PyYAML is needed to read KEDA's CRDs: apt-get install python3-yaml (or pip install pyyaml)")
    for rel, version in KEDA_CRDS:
        with open(os.path.join(keda_dir, rel), encoding="utf-8") as f:
            crd = yaml.safe_load(f)
        api_version, kind, schema = crd_schema(crd, version, definitions)
        files[schema_file_name(api_version, kind)] = render(schema)
    manifest = {
        "generator": "deploy/schemas/generate.py",
        "sources": {
            f"{K8S_MODULE}@{K8S_VERSION}": "api/openapi-spec/swagger.json",
            f"{PROM_OPERATOR_MODULE}@{PROM_OPERATOR_VERSION}": [rel for rel, _ in CRDS],
            f"{KEDA_MODULE}@{KEDA_VERSION}": [rel for rel, _ in KEDA_CRDS],
        },
        "files": {
            name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(files.items())
        },
    }
    files["SOURCES.json"] = render(manifest)
    os.makedirs(out_dir, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return files


def main() -> int:
    check = "--check" in sys.argv[1:]
    if check:
        with tempfile.TemporaryDirectory() as tmp:
            files = generate(tmp)
            stale = []
            for name, text in sorted(files.items()):
                path = os.path.join(HERE, name)
                try:
                    with open(path, encoding="utf-8") as f:
                        if f.read() != text:
                            stale.append(name)
                except FileNotFoundError:
                    stale.append(name)
            if stale:
                print("deploy/schemas is out of date; run python3 deploy/schemas/generate.py", file=sys.stderr)
                for name in stale:
                    print(f"  differs: {name}", file=sys.stderr)
                return 1
            print(f"deploy/schemas: {len(files)} files up to date")
            return 0
    files = generate(HERE)
    for name in sorted(files):
        print(f"wrote deploy/schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
