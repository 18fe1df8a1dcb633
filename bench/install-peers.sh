#!/usr/bin/env bash
# Installs the peers `relay-bench --peer ...` compares cc-relay with, under
# bench/peers/ (gitignored):
#   bench/peers/.venv          LiteLLM's proxy (PyPI `litellm[proxy]`)
#   bench/peers/node_modules   claude-code-router (npm `@musistudio/claude-code-router`)
#   /usr/sbin/nginx            nginx (Debian's `nginx` package, through apt-get;
#                              relay-bench runs it with its own config, never the system's)
# Each install is independent: one failing is reported and the other still runs.
# Versions can be pinned with LITELLM_VERSION / CCR_VERSION (default: latest).
set -u
cd "$(dirname "$0")"
mkdir -p peers
status=0

echo "== litellm[proxy] into bench/peers/.venv"
if python3 -m venv peers/.venv \
    && peers/.venv/bin/pip install --quiet --upgrade pip \
    && peers/.venv/bin/pip install --quiet "litellm[proxy]${LITELLM_VERSION:+==$LITELLM_VERSION}"; then
    peers/.venv/bin/pip show litellm | grep -E '^(Name|Version):'
else
    echo "litellm install FAILED" >&2
    status=1
fi

echo "== @musistudio/claude-code-router into bench/peers/node_modules"
if (cd peers && { [ -f package.json ] || echo '{"private": true}' > package.json; } \
    && npm install --no-audit --no-fund --silent \
        "@musistudio/claude-code-router${CCR_VERSION:+@$CCR_VERSION}"); then
    (cd peers && npm ls --depth=0 2>/dev/null | grep claude-code-router)
else
    echo "claude-code-router install FAILED" >&2
    status=1
fi
echo "== nginx (Debian package) for --peer nginx"
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    :
elif [ "$(id -u)" -eq 0 ]; then
    apt-get install -y --no-install-recommends nginx >/dev/null || true
elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get install -y --no-install-recommends nginx >/dev/null || true
fi
if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; then
    "$(command -v nginx || echo /usr/sbin/nginx)" -v
else
    echo "nginx install FAILED: apt-get install nginx" >&2
    status=1
fi
exit $status
