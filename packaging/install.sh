#!/usr/bin/env bash
# Install Stocky as an appliance: the `stocky` system user, a virtual
# environment in /opt/stocky/venv, the systemd units, the udev rule for USB
# barcode scanners and /etc/stocky/stocky.env; then enable the kiosk (or, with
# --headless, the API without a screen).
#
#   sudo packaging/install.sh                      # from this source tree
#   sudo packaging/install.sh dist/stocky-*.whl    # from a built wheel
#   packaging/install.sh --root /mnt/image ...     # into an image or staging
#                                                  # directory; the host is not touched
#
# Running it again is harmless: it updates what changed, keeps
# /etc/stocky/stocky.env as it is and reports everything else as unchanged.
set -euo pipefail

PROG=stocky-install
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")

usage() {
  cat <<EOF
Usage: $0 [options] [WHEEL | SOURCE_DIR]

Installs Stocky from WHEEL (a stocky-*.whl) or SOURCE_DIR (default: $REPO).

Options:
  --headless     enable stocky.service (API, MQTT, scanners; no screen)
                 instead of stocky-kiosk.service (touch screen on tty1)
  --cage         run the kiosk inside the cage Wayland compositor
                 (installs the stocky-kiosk.service drop-in; needs cage)
  --root DIR     install into DIR instead of /: create no user, reload and
                 start nothing (what would run on the host is printed)
  --python PATH  the Python 3.11-3.13 for the virtual environment
                 (default: /usr/bin/python3)
  --apt-deps     apt-get install the libraries the touch screen needs and
                 the compiler the evdev package builds with
  -h, --help     this text
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ROOT=""
HEADLESS=0
CAGE=0
APT_DEPS=0
PYTHON=""
SOURCE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    --python) [ $# -ge 2 ] || die "--python needs a path"; PYTHON=$2; shift 2 ;;
    --python=*) PYTHON=${1#--python=}; shift ;;
    --headless) HEADLESS=1; shift ;;
    --cage) CAGE=1; shift ;;
    --apt-deps) APT_DEPS=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$SOURCE" ] || die "only one wheel or source directory"; SOURCE=$1; shift ;;
  esac
done
[ "$HEADLESS" = 1 ] && [ "$CAGE" = 1 ] && die "--cage is for the kiosk, not --headless"

if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
REAL=0
[ -n "$ROOT" ] || REAL=1
if [ "$REAL" = 1 ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0 ...), or use --root DIR to install into a directory"
fi

# What runs on the host; with --root it is only printed.
host() {
  if [ "$REAL" = 1 ]; then
    say "running: $*"
    "$@"
  else
    say "would run on the target: $*"
  fi
}
# The same for steps that only tell running daemons (systemd, udev) about the
# new files: without them (a chroot, a container) the files still take effect
# at the next boot.
host_notify() {
  if [ "$REAL" = 1 ]; then
    say "running: $*"
    "$@" || say "warning: '$*' failed; the change takes effect at the next boot"
  else
    say "would run on the target: $*"
  fi
}

# --- what to install ---------------------------------------------------------
SOURCE=${SOURCE:-$REPO}
if [ -f "$SOURCE" ]; then
  case "$SOURCE" in *.whl) ;; *) die "$SOURCE is not a wheel (.whl)" ;; esac
elif [ -d "$SOURCE" ]; then
  [ -f "$SOURCE/pyproject.toml" ] || die "$SOURCE has no pyproject.toml"
else
  die "no such wheel or directory: $SOURCE"
fi
SOURCE=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")
UNITS=$REPO/systemd
for file in stocky.service stocky-kiosk.service stocky-kiosk-cage.conf \
  70-stocky-scanners.rules stocky.sysusers.conf stocky.tmpfiles.conf; do
  [ -f "$UNITS/$file" ] || die "missing $UNITS/$file"
done
[ -f "$REPO/.env.example" ] || die "missing $REPO/.env.example"
# The versions the tests ran with (uv.lock, exported): the installed
# dependencies are held to them.
CONSTRAINTS=$REPO/requirements.txt

PYTHON=${PYTHON:-/usr/bin/python3}
command -v "$PYTHON" >/dev/null 2>&1 || die "no Python at $PYTHON (use --python PATH)"
"$PYTHON" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' \
  || die "$PYTHON is not Python 3.11 to 3.13 (use --python PATH)"
case "$(command -v "$PYTHON")" in
  /root/* | /home/*)
    say "warning: $PYTHON lives under /root or /home, which the services cannot see (ProtectHome=yes)" ;;
esac

ETC=$ROOT/etc
SYSTEMD_DIR=$ETC/systemd/system
VENV_TARGET=/opt/stocky/venv
VENV=$ROOT$VENV_TARGET
ENV_FILE=$ETC/stocky/stocky.env

# --- Debian packages (optional) ----------------------------------------------
if [ "$APT_DEPS" = 1 ]; then
  packages=(gcc libc6-dev python3-dev python3-venv)  # evdev is built from source
  if [ "$HEADLESS" = 0 ]; then
    packages+=(libegl1 libgl1 libgbm1 libdrm2 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core)
    [ "$CAGE" = 1 ] && packages+=(cage libwayland-client0 libwayland-cursor0 libwayland-egl1)
  fi
  host apt-get update -qq
  host env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# --- files -------------------------------------------------------------------
# install_file SRC DEST MODE: copy only when the content differs.
install_file() {
  local src=$1 dest=$2 mode=$3
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    say "unchanged $dest"
  else
    install -D -m "$mode" "$src" "$dest"
    say "installed $dest"
  fi
}

install_file "$UNITS/stocky.sysusers.conf" "$ETC/sysusers.d/stocky.conf" 0644
install_file "$UNITS/stocky.tmpfiles.conf" "$ETC/tmpfiles.d/stocky.conf" 0644

# --- the stocky user (before the udev rule names its group) ------------------
if [ "$REAL" = 1 ] && ! command -v systemd-sysusers >/dev/null 2>&1; then
  getent group stocky >/dev/null || host groupadd --system stocky
  getent passwd stocky >/dev/null || host useradd --system --gid stocky \
    --home-dir /var/lib/stocky --no-create-home --shell /usr/sbin/nologin \
    --comment "Stocky kitchen inventory" stocky
  for group in input video render; do
    getent group "$group" >/dev/null || host groupadd --system "$group"
  done
  host usermod --append --groups input,video,render stocky
else
  host systemd-sysusers /etc/sysusers.d/stocky.conf
fi

install_file "$UNITS/stocky.service" "$SYSTEMD_DIR/stocky.service" 0644
install_file "$UNITS/stocky-kiosk.service" "$SYSTEMD_DIR/stocky-kiosk.service" 0644
DROP_IN=$SYSTEMD_DIR/stocky-kiosk.service.d/cage.conf
if [ "$CAGE" = 1 ]; then
  install_file "$UNITS/stocky-kiosk-cage.conf" "$DROP_IN" 0644
elif [ -e "$DROP_IN" ]; then
  rm -f "$DROP_IN"
  rmdir "$(dirname "$DROP_IN")" 2>/dev/null || true
  say "removed $DROP_IN (no --cage)"
fi
install_file "$UNITS/70-stocky-scanners.rules" "$ETC/udev/rules.d/70-stocky-scanners.rules" 0644
host_notify systemctl daemon-reload
host_notify udevadm control --reload-rules
host_notify udevadm trigger --subsystem-match=input --action=change

# Settings: made once from .env.example, never overwritten.
if [ -e "$ENV_FILE" ]; then
  say "kept $ENV_FILE (never overwritten)"
else
  generated=$(mktemp)
  trap 'rm -f "$generated"' EXIT
  {
    echo "# Stocky appliance settings, read by stocky.service and stocky-kiosk.service"
    echo "# (made by packaging/install.sh from .env.example; edit freely, a new install"
    echo "# keeps this file). After a change: systemctl restart stocky-kiosk (or stocky)."
    echo
    sed 's|^STOCKY_DATA_DIR=.*|STOCKY_DATA_DIR=/var/lib/stocky|' "$REPO/.env.example"
    cat <<'EOF'

# The touch screen (stocky-kiosk.service; its comments explain each setting).
# QT_QPA_PLATFORM=linuxfb
# QT_QPA_FB_DRM=1
# QT_QPA_EGLFS_KMS_CONFIG=/etc/stocky/kms.json
# QT_QPA_EVDEV_TOUCHSCREEN_PARAMETERS=rotate=90
EOF
  } >"$generated"
  install -D -m 0640 "$generated" "$ENV_FILE"
  say "installed $ENV_FILE (from .env.example)"
fi
host systemd-tmpfiles --create /etc/tmpfiles.d/stocky.conf

# --- the virtual environment -------------------------------------------------
# A virtual environment of another Python (say, after a distribution upgrade)
# is made anew; its packages are reinstalled below.
version='import sys; print(sys.version_info[:2])'
if [ -e "$VENV" ] && [ "$("$VENV/bin/python" -c "$version" 2>/dev/null || true)" != "$("$PYTHON" -c "$version")" ]; then
  rm -rf "$VENV"
  say "removed $VENV (not a virtual environment of $PYTHON)"
fi
constraints=()
[ -f "$CONSTRAINTS" ] && constraints=(--constraint "$CONSTRAINTS")
if command -v uv >/dev/null 2>&1; then
  if [ -e "$VENV" ]; then
    say "unchanged $VENV (virtual environment exists)"
  else
    # Relocatable: the same tree works at $VENV_TARGET when built under --root.
    uv venv --quiet --relocatable --python "$PYTHON" "$VENV"
    say "created $VENV"
  fi
  uv pip install --python "$VENV/bin/python" --compile-bytecode "${constraints[@]}" "$SOURCE"
else
  [ "$REAL" = 1 ] || say "warning: without uv the virtual environment works only at $VENV"
  if [ -e "$VENV" ]; then
    say "unchanged $VENV (virtual environment exists)"
  else
    "$PYTHON" -m venv "$VENV"
    say "created $VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${constraints[@]}" "$SOURCE"
fi
"$VENV/bin/stocky" --help >/dev/null || die "$VENV/bin/stocky does not run"

# --- enable ------------------------------------------------------------------
if [ "$HEADLESS" = 1 ]; then
  ENABLE=stocky.service DISABLE=stocky-kiosk.service
else
  ENABLE=stocky-kiosk.service DISABLE=stocky.service
fi
systemctl_cmd=(systemctl)
[ "$REAL" = 1 ] || systemctl_cmd+=("--root=$ROOT")
WANTS=$SYSTEMD_DIR/multi-user.target.wants
if [ -L "$WANTS/$DISABLE" ]; then
  if command -v systemctl >/dev/null 2>&1; then
    "${systemctl_cmd[@]}" disable "$DISABLE"
  else
    rm -f "$WANTS/$DISABLE"
  fi
  say "disabled $DISABLE"
fi
if [ -L "$WANTS/$ENABLE" ]; then
  say "unchanged: $ENABLE is enabled"
else
  if command -v systemctl >/dev/null 2>&1; then
    "${systemctl_cmd[@]}" enable "$ENABLE"
  else
    mkdir -p "$WANTS"
    ln -s "/etc/systemd/system/$ENABLE" "$WANTS/$ENABLE"
  fi
  say "enabled $ENABLE"
fi
# The kiosk owns tty1: no login prompt there at boot.
GETTY=$ETC/systemd/system/getty.target.wants/getty@tty1.service
if [ "$HEADLESS" = 0 ] && [ -L "$GETTY" ]; then
  if command -v systemctl >/dev/null 2>&1; then
    "${systemctl_cmd[@]}" disable getty@tty1.service
  else
    rm -f "$GETTY"
  fi
  say "disabled getty@tty1.service (the kiosk uses tty1)"
fi

# An update takes effect in a running Stocky now; a fresh install starts at boot.
host_notify systemctl try-restart "$ENABLE"

say "done: $ENABLE is enabled, settings in /etc/stocky/stocky.env"
say "start it now with: systemctl start $ENABLE (or reboot)"
say "first administrator (the kiosk also asks on its screen):"
say "  cd /var/lib/stocky && sudo -u stocky $VENV_TARGET/bin/stocky create-admin --username NAME --password-stdin"
