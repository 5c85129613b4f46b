"""Checks what the schemas cannot: that the deployment files agree with each other and that the
services accept the settings each file gives them.

  python3 deploy/check_config.py BIN_DIR     (BIN_DIR holds invite-service and notify-service)

Each service is started as each file configures it, with a clean environment. Only the listening
addresses and the database are replaced, by loopback ones (nothing answers on port 1), and the
wait for the database is cut short, so each start passes the configuration and ends at once on
the unreachable database, with exit status 1. A setting the service refuses ends it with status
2 and a line naming the setting. Each health check is run the same way: with nothing serving,
it must end with status 1 and say that the service is not healthy.
"""
import base64
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent
NOWHERE_DB = "postgres://beckon@127.0.0.1:1/beckon"
failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}", file=sys.stderr)


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


# What a deployment fills in: the compose file's .env, and the Secret's placeholders.
COMPOSE_ENV = {name: new_key() for name in ("LINK_SECRET", "SEAL_KEYS", "NOTIFY_TOKEN", "POSTGRES_PASSWORD")}
SECRET_VALUES = {"link-secret": new_key(), "seal-keys": new_key(), "notify-token": new_key()}

# The variables each binary reads its listening addresses and its database from.
VARIABLES = {
    "invite-service": ("BECKON_LISTEN_ADDR", "BECKON_METRICS_ADDR", "BECKON_DATABASE_URL"),
    "notify-service": ("BECKON_NOTIFY_LISTEN_ADDR", "BECKON_NOTIFY_METRICS_ADDR", "BECKON_NOTIFY_DATABASE_URL"),
}
PREFIX = {"invite-service": "BECKON_", "notify-service": "BECKON_NOTIFY_"}


def run(bin_dir, where, binary, args, env, listen_addr):
    """Runs `binary` as configured by `env`, listening on `listen_addr`, against no database."""
    listen, metrics, database = VARIABLES[binary]
    # Give up on the database at once rather than after db_acquire_timeout_ms.
    env = dict(env, **{
        listen: listen_addr,
        database: NOWHERE_DB,
        PREFIX[binary] + "DB_ACQUIRE_TIMEOUT_MS": "100",
    })
    if metrics in env:
        env[metrics] = "127.0.0.1:0"
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    with tempfile.TemporaryDirectory() as cwd:
        try:
            done = subprocess.run(
                [str(bin_dir / binary), *args], env=env, cwd=cwd,
                capture_output=True, text=True, timeout=60,
            )
        except subprocess.TimeoutExpired:
            fail(f"{where}: `{' '.join([binary, *args])}` did not end within 60 s")
            return None
    return done.returncode, (done.stdout + done.stderr).strip()


def start(bin_dir, where, binary, args, env):
    """Starts `binary` as configured by `env`; it must get past its configuration."""
    done = run(bin_dir, where, binary, args, env, "127.0.0.1:0")
    command = " ".join([binary, *args])
    if done is None:
        return
    if done[0] != 1 or "PostgreSQL" not in done[1]:
        fail(f"{where}: `{command}` exited {done[0]}, not on the database:\n{done[1]}")
    else:
        print(f"ok   {where}: `{command}` accepts its settings")


def ask_health(bin_dir, where, binary, args, env):
    """Runs a health check with nothing serving: it must read its settings and report it."""
    done = run(bin_dir, where, binary, args, env, "127.0.0.1:1")
    command = " ".join([binary, *args])
    if done is None:
        return
    if done[0] != 1 or "not healthy" not in done[1]:
        fail(f"{where}: `{command}` exited {done[0]} with nothing serving:\n{done[1]}")
    else:
        print(f"ok   {where}: `{command}` accepts its settings, fails with nothing serving")


def interpolate(value):
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default}, from COMPOSE_ENV."""
    def one(match):
        name, default = match.group(1), match.group(3)
        if name in COMPOSE_ENV:
            return COMPOSE_ENV[name]
        if default is not None and match.group(2) == ":-":
            return default
        fail(f"compose.yaml: ${{{name}}} is not among the variables deploy/.env is said to hold")
        return ""
    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, str(value))


def check_compose(bin_dir):
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            if needed not in services:
                fail(f"compose.yaml: {name} depends on {needed}, which is no service")
        target = service.get("build", {}).get("target")
        if target is None:
            continue
        where = f"compose.yaml {name}"
        env = {key: interpolate(value) for key, value in service.get("environment", {}).items()}
        args = service.get("command", ["serve"] if target == "invite-service" else [])
        start(bin_dir, where, target, args, env)
        if args == ["migrate"]:
            continue
        # A server waits for its own image's migrations and is checked with its own health.
        if not any(
            services.get(needed, {}).get("build", {}).get("target") == target
            and services[needed].get("command") == ["migrate"]
            and condition.get("condition") == "service_completed_successfully"
            for needed, condition in service.get("depends_on", {}).items()
        ):
            fail(f"{where}: does not wait for a `{target} migrate` to complete")
        test = service.get("healthcheck", {}).get("test", [])
        if test[:3] != ["CMD", target, "health"]:
            fail(f"{where}: the health check is {test}, not `{target} health`")
        else:
            ask_health(bin_dir, where, target, test[2:], env)


def check_kubernetes(bin_dir):
    objects = [
        (path.name, obj)
        for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
        for obj in yaml.safe_load_all(path.read_text())
        if obj
    ]
    by_kind = {}
    for file, obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    secrets = by_kind.get("Secret", {})
    config_maps = by_kind.get("ConfigMap", {})
    deployments = by_kind.get("Deployment", {})

    # The binaries the Deployments serve, and those a Job migrates: the same.
    deployed, migrated = set(), set()

    def pod_labels(name):
        return deployments[name]["spec"]["template"]["metadata"]["labels"] if name in deployments else None

    for file, obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        spec = obj.get("spec", {})
        if kind in ("Service", "PodDisruptionBudget"):
            selector = spec["selector"].get("matchLabels", spec["selector"])
            if not any(selector.items() <= pod_labels(d).items() for d in deployments):
                fail(f"{file}: {kind} {name} selects no Deployment's pods")
        if kind == "HorizontalPodAutoscaler" and spec["scaleTargetRef"]["name"] not in deployments:
            fail(f"{file}: {kind} {name} scales {spec['scaleTargetRef']['name']}, which is no Deployment")
        if kind not in ("Deployment", "Job"):
            continue
        pod = spec["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{file} {kind} {name} {container['name']}"
            env = {}
            for source in container.get("envFrom", []):
                ref = source["configMapRef"]["name"]
                if ref not in config_maps:
                    fail(f"{where}: no ConfigMap {ref}")
                env.update(config_maps.get(ref, {}).get("data", {}))
            for variable in container.get("env", []):
                if "value" in variable:
                    env[variable["name"]] = variable["value"]
                    continue
                ref = variable["valueFrom"]["secretKeyRef"]
                data = secrets.get(ref["name"], {}).get("stringData", {})
                if ref["key"] in data:
                    env[variable["name"]] = SECRET_VALUES.get(ref["key"], data[ref["key"]])
                elif not ref.get("optional"):
                    fail(f"{where}: Secret {ref['name']} has no key {ref['key']}")
            binary = container["image"].rsplit("/", 1)[-1].split(":")[0]
            args = container.get("args", [])
            start(bin_dir, where, binary, args, env)
            if kind == "Job" and args == ["migrate"]:
                migrated.add(binary)
            if kind != "Deployment":
                continue
            deployed.add(binary)
            # Every probe is gRPC health on the port the service listens on: readiness asks the
            # server as a whole (""), the others the process alone ("liveness").
            listen, _, _ = VARIABLES[binary]
            port = int(env[listen].rsplit(":", 1)[1])
            for probe, service in (("startupProbe", "liveness"), ("readinessProbe", ""), ("livenessProbe", "liveness")):
                grpc = container.get(probe, {}).get("grpc")
                if grpc is None:
                    fail(f"{where}: no gRPC {probe}")
                    continue
                if grpc["port"] != port:
                    fail(f"{where}: the {probe} asks port {grpc['port']}, {listen} is {port}")
                if grpc.get("service", "") != service:
                    fail(f"{where}: the {probe} asks service {grpc.get('service', '')!r}, not {service!r}")
            # Kubernetes waits for preStop, then the service's own bound on draining.
            shutdown = int(env.get(listen.replace("LISTEN_ADDR", "SHUTDOWN_TIMEOUT_SECS"), 10))
            pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
            if pod["terminationGracePeriodSeconds"] <= pre_stop + shutdown:
                fail(f"{where}: terminationGracePeriodSeconds is not above preStop ({pre_stop} s) + shutdown_timeout_secs ({shutdown} s)")
    for binary in sorted(deployed - migrated):
        fail(f"kubernetes: no Job runs `{binary} migrate`")


def main():
    bin_dir = pathlib.Path(sys.argv[1]).resolve()
    check_compose(bin_dir)
    check_kubernetes(bin_dir)
    if failures:
        sys.exit(f"{len(failures)} problem(s) in deploy/")


main()
