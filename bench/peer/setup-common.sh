# Steps 1-3 of a benchmark peer's setup, shared by bench/peer/setup.sh and
# bench/peer/tipg/setup.sh: the Debian packages APT_PKGS (only those missing), a venv VENV on
# BASE_PY, and the pinned requirements.txt beside the calling script (HERE). Sourced, not run:
# the caller sets HERE, VENV, BASE_PY, APT_PKGS and SAY_AS, and goes on with its own checks.

say() { printf '[%s] %s\n' "$SAY_AS" "$*"; }

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "apt: installing ${missing[*]}"
    # Wait for a concurrent apt/dpkg run instead of failing on its lock.
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}"
else
    say "apt: ${APT_PKGS[*]} already installed"
fi

# --- 2. venv on Debian's python3 ----------------------------------------------------------
if [[ -x "$VENV/bin/python" ]] && grep -q "^home = /usr/bin$" "$VENV/pyvenv.cfg" 2>/dev/null; then
    say "venv: $VENV exists ($("$VENV/bin/python" -V))"
else
    [[ -e "$VENV" ]] && { say "venv: $VENV is not based on $BASE_PY, recreating"; rm -rf "$VENV"; }
    say "venv: creating $VENV on $BASE_PY ($($BASE_PY -V))"
    "$BASE_PY" -m venv "$VENV"
fi

# --- 3. pinned Python packages ------------------------------------------------------------
if "$VENV/bin/python" - "$HERE/requirements.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            bad.append(line)
    except PackageNotFoundError:
        bad.append(line)
sys.exit(1 if bad else 0)
EOF
then
    say "pip: requirements.txt already satisfied"
else
    say "pip: installing requirements.txt"
    # pip's own noise about local find-links that do not exist here is filtered out.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
fi
