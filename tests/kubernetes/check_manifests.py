#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check a rendering of deploy/kubernetes (kubectl kustomize) for what the
deployment relies on (docs/kubernetes.md). One PASS or FAIL line per check (a FAIL followed by an indented line
saying what was found):

    check_manifests.py LABEL RENDERED.yaml AGENT_BINARY

The datasets of the ConfigMap are given to the agent itself
(maicache-agent --check-file), so a dataset it would refuse fails here.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

label, rendered, agent_bin = sys.argv[1:4]
failed = 0


def check(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS {label}: {name}")
    else:
        failed += 1
        print(f"FAIL {label}: {name}")
        if why:
            print(f"    {why}")


def quantity(q):
    """Bytes of a Kubernetes memory quantity (Mi, Gi, M, ... or plain)."""
    m = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|Ti|K|M|G|T)?", str(q))
    if not m:
        raise ValueError(f"not a quantity: {q}")
    mult = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
            "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2)]
    return int(m.group(1)) * mult


def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


with open(rendered) as f:
    objs = [o for o in yaml.safe_load_all(f) if o]
by_kind = {}
for o in objs:
    by_kind.setdefault(o["kind"], []).append(o)

check("one Namespace, ConfigMap and DaemonSet",
      [len(by_kind.get(k, [])) for k in ("Namespace", "ConfigMap", "DaemonSet")] == [1, 1, 1],
      str({k: len(v) for k, v in by_kind.items()}))
ns = by_kind["Namespace"][0]["metadata"]["name"]
check("every object in the namespace",
      all(o["metadata"].get("namespace") == ns for o in objs if o["kind"] != "Namespace"))
cm = by_kind["ConfigMap"][0]
ds = by_kind["DaemonSet"][0]
data = cm.get("data", {})
pod = ds["spec"]["template"]["spec"]
meta = ds["spec"]["template"]["metadata"]
volumes = {v["name"]: v for v in pod.get("volumes", [])}
inits = pod.get("initContainers", [])
containers = pod.get("containers", [])
by_name = {c["name"]: c for c in inits + containers}


def host_path(c, mount_path):
    """The hostPath behind a container's mount, or None."""
    for vm in c.get("volumeMounts", []):
        if vm["mountPath"] == mount_path:
            return volumes.get(vm["name"], {}).get("hostPath", {}).get("path")
    return None


def mount_of(c, mount_path):
    return next((vm for vm in c.get("volumeMounts", []) if vm["mountPath"] == mount_path), None)


# The pod as a whole.
check("hostNetwork (the module's netlink family is in the host's namespace only)",
      pod.get("hostNetwork") is True)
check("updateStrategy OnDelete (no rolling unmount under running jobs)",
      ds["spec"].get("updateStrategy", {}).get("type") == "OnDelete")
check("no service account token", pod.get("automountServiceAccountToken") is False)

# Order: the module, then the daemon (a sidecar), then the agent.
names = [c["name"] for c in inits]
check("init containers: modprobe, then maicached", names[:2] == ["modprobe", "maicached"], str(names))
check("the agent is a container", [c["name"] for c in containers] == ["agent"],
      str([c["name"] for c in containers]))
mp, md, ag = by_name.get("modprobe", {}), by_name.get("maicached", {}), by_name.get("agent", {})

# The module.
script = " ".join(mp.get("command", []) + mp.get("args", []))
check("modprobe loads maicache with pool_mb", 'modprobe maicache pool_mb="$POOL_MB"' in script, script[:200])
env = {e["name"]: e for e in mp.get("env", [])}
ref = env.get("POOL_MB", {}).get("valueFrom", {}).get("configMapKeyRef", {})
check("POOL_MB comes from the ConfigMap's pool_mb",
      ref.get("name") == cm["metadata"]["name"] and ref.get("key") == "pool_mb", str(ref))
check("modprobe sees the host's /lib/modules read-only",
      host_path(mp, "/lib/modules") == "/lib/modules" and mount_of(mp, "/lib/modules").get("readOnly") is True)
for c in (mp, md, ag):
    check(f"{c.get('name')} is privileged", c.get("securityContext", {}).get("privileged") is True)

# The pool and memory.
pool_mb = data.get("pool_mb", "")
check("pool_mb is a whole number of MiB, a multiple of 4",
      pool_mb.isdigit() and int(pool_mb) > 0 and int(pool_mb) % 4 == 0, repr(pool_mb))
for c in inits + containers:
    r = c.get("resources", {})
    req, lim = r.get("requests", {}), r.get("limits", {})
    check(f"{c['name']}: cpu and memory requested and limited, requests = limits",
          all(k in req and k in lim for k in ("cpu", "memory")) and req == lim, str(r))
try:
    mem = quantity(md["resources"]["limits"]["memory"])
    want = (int(pool_mb) << 20) + (256 << 20)
    check("maicached's memory holds the pool and 256Mi more",
          mem >= want, f"{mem >> 20}Mi for a pool of {pool_mb} MiB")
except (KeyError, ValueError) as e:
    check("maicached's memory holds the pool and 256Mi more", False, str(e))

# The daemon: a sidecar, its metrics and probes.
check("maicached is a sidecar (restartPolicy Always): it stops after the agent",
      md.get("restartPolicy") == "Always")
args = md.get("args", [])
listen = next((a.split("=", 1)[1] for a in args if a.startswith("metrics_listen=")), None)
port = listen.rsplit(":", 1)[1] if listen else None
denv = {e["name"]: e for e in md.get("env", [])}
check("metrics_listen is the node's address",
      listen is not None and listen.startswith("$(NODE_IP):") and
      denv.get("NODE_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.hostIP",
      str(args))
for probe in ("startupProbe", "livenessProbe"):
    g = md.get(probe, {}).get("httpGet", {})
    check(f"maicached {probe} GETs /metrics on its port",
          g.get("path") == "/metrics" and str(g.get("port")) == port, str(g))
ann = meta.get("annotations", {})
check("Prometheus scrape annotations name the metrics port and path",
      ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == port and
      ann.get("prometheus.io/path") == "/metrics", str(ann))
conf_arg = arg_after(args, "-c")
conf_mount = mount_of(md, os.path.dirname(conf_arg or "/-"))
conf_vol = volumes.get(conf_mount["name"], {}) if conf_mount else {}
check("maicached.conf comes from the ConfigMap",
      conf_vol.get("configMap", {}).get("name") == cm["metadata"]["name"] and
      any(i["key"] == "maicached.conf" and i["path"] == os.path.basename(conf_arg)
          for i in conf_vol["configMap"].get("items", [])) and "maicached.conf" in data,
      str(conf_vol))
check("maicached keeps its state on the host (/var/lib/maicache)",
      host_path(md, "/var/lib/maicache") == "/var/lib/maicache")

# The agent.
aargs = ag.get("command", []) + ag.get("args", [])
root = arg_after(aargs, "--mount-root")
dfile = arg_after(aargs, "-f")
rm = mount_of(ag, root) if root else None
check("the mount root is the host's, with Bidirectional propagation",
      rm is not None and host_path(ag, root) == root and rm.get("mountPropagation") == "Bidirectional",
      str(rm))
check("the control socket's directory is the daemon's (one hostPath)",
      host_path(ag, "/run/maicache") is not None and
      host_path(ag, "/run/maicache") == host_path(md, "/run/maicache"))
check("the host's /dev in both (devices made after the pod started)",
      host_path(ag, "/dev") == "/dev" and host_path(md, "/dev") == "/dev")
sd = arg_after(aargs, "--state-dir")
check("the agent's record is on the host", sd is not None and host_path(ag, sd) == sd)
dm = mount_of(ag, os.path.dirname(dfile or "/-"))
dvol = volumes.get(dm["name"], {}) if dm else {}
check("the datasets file is the ConfigMap's key, mounted as a directory (no subPath: updates reach it)",
      dm is not None and "subPath" not in dm and
      dvol.get("configMap", {}).get("name") == cm["metadata"]["name"] and
      any(i["key"] == "datasets" and i["path"] == os.path.basename(dfile)
          for i in dvol["configMap"].get("items", [])),
      str(dm))
probe = ag.get("readinessProbe", {}).get("exec", {}).get("command", [])
check("the agent's readiness is maicache-agent --check on its own file and root",
      probe[:2] == ["maicache-agent", "--check"] and arg_after(probe, "-f") == dfile and
      arg_after(probe, "--mount-root") == root, str(probe))
live = ag.get("livenessProbe", {}).get("exec", {}).get("command", [])
check("the agent's liveness is maicache-agent --alive on its own record and interval",
      live[:2] == ["maicache-agent", "--alive"] and arg_after(live, "--state-dir") == sd and
      arg_after(live, "--interval") == (arg_after(aargs, "--interval") or "30s"), str(live))
grace = arg_after(aargs, "--grace") or "20s"
grace_s = int(grace[:-1]) if grace.endswith("s") and not grace.endswith("ms") else int(grace) / 1000
check("terminationGracePeriodSeconds covers the agent's grace and the daemon's shutdown",
      pod.get("terminationGracePeriodSeconds", 30) >= grace_s + 10 + 5,
      f"{pod.get('terminationGracePeriodSeconds', 30)} s for --grace {grace}")
images = {c.get("image") for c in inits + containers}
check("one image for every container", len(images) == 1, str(images))

# The datasets, as the agent reads them.
with tempfile.NamedTemporaryFile("w", suffix=".datasets", delete=False) as t:
    t.write(data.get("datasets", ""))
try:
    r = subprocess.run([agent_bin, "--check-file", "-f", t.name, "--mount-root", root or "/"],
                       capture_output=True, text=True)
    check("maicache-agent --check-file accepts the ConfigMap's datasets", r.returncode == 0,
          (r.stderr or r.stdout).strip().replace(t.name, "datasets"))
    if r.returncode == 0:
        print(f"  {label}: {r.stdout.strip().replace(t.name, 'datasets')}")
finally:
    os.unlink(t.name)
sys.exit(1 if failed else 0)
