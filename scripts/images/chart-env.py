#!/usr/bin/env python3
"""Prints how the rendered chart (deploy/k8s/bible-packages.yaml) runs one component, as JSON:
env (name -> literal value, or null when it comes from the Secret), the ConfigMap's entries,
the container's uid/gid, readOnlyRootFilesystem, command and mount paths. The image smoke test
starts containers from exactly these names and values, so a chart change reaches the test.

Usage: chart-env.py <rendered.yaml> <component>
"""

import json
import sys

import yaml


def main() -> int:
    rendered, component = sys.argv[1], sys.argv[2]
    with open(rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        container = next((c for c in pod["containers"] if c["name"] == component), None)
        if container is None:
            continue
        env = {}
        for ref in container.get("envFrom", []):
            env.update(config_maps[ref["configMapRef"]["name"]])
        for e in container.get("env", []):
            env[e["name"]] = e.get("value")  # None: valueFrom (Secret)
        sc = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        print(
            json.dumps(
                {
                    "env": env,
                    "runAsUser": sc.get("runAsUser"),
                    "runAsGroup": sc.get("runAsGroup"),
                    "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem", False),
                    "command": container.get("command"),
                    "args": container.get("args"),
                    "mounts": [m["mountPath"] for m in container.get("volumeMounts", [])],
                    "port": container["ports"][0]["containerPort"],
                }
            )
        )
        return 0
    print(f"no Deployment runs a container named {component} in {rendered}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
