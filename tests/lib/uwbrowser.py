"""Headless Chromium for page tests: Debian's /usr/bin/chromium driven by
playwright-core (npm, installed into build/node_modules when missing or
of another release).

    from uwbrowser import node_env
    node, env = node_env(t, "browser chat")     # fails the test when a piece is missing
    subprocess.run([node, "tests/integration/browser_chat.js", ...], env=env)

node, npm and chromium are declared Debian packages (DEB_PACKAGES): one
that is missing, a failed npm install or a Chromium that does not launch
is a failure.  Debian's /usr/bin/node and /usr/bin/npm are preferred over
others on PATH; playwright-core is pinned to a release that still runs on
Debian 12's Node.js 18.

firefox_env does the same for Debian's firefox-esr with puppeteer-core
(WebDriver BiDi), in build/firefox-node; without firefox-esr the test is
skipped with the reason.
"""
import json
import os
import shutil
import subprocess

from uwtest import BUILD

PLAYWRIGHT = "1.61"          # 1.62 and later need Node.js 20; Debian 12 has 18
PUPPETEER = "24.9.0"         # puppeteer-core for Firefox (WebDriver BiDi); 25 needs Node.js 22
FIREFOX = "/usr/bin/firefox-esr"


def _tool(t, name, package, label):
    path = f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else shutil.which(name)
    if not path:
        t.check(f"{label}: {name} is installed", False, f"Debian package {package} is declared in DEB_PACKAGES (make)")
        t.done()
    return path


def _playwright_version(modules):
    return _package_version(modules, "playwright-core")


def node_env(t, label):
    """(node, env) to run a playwright-core script with: NODE_PATH set to
    build/node_modules.  Ends the test with a failure when node, npm,
    chromium or playwright-core cannot be had."""
    node, npm = _tool(t, "node", "nodejs", label), _tool(t, "npm", "npm", label)
    if not os.access("/usr/bin/chromium", os.X_OK):
        t.check(f"{label}: /usr/bin/chromium is installed", False, "Debian package chromium is declared in DEB_PACKAGES (make)")
        t.done()
    modules = os.path.join(BUILD, "node_modules")
    if not _playwright_version(modules).startswith(PLAYWRIGHT + "."):
        p = subprocess.run([npm, "install", "--prefix", BUILD, "--no-audit", "--no-fund", f"playwright-core@{PLAYWRIGHT}"],
                           capture_output=True, timeout=300,
                           env={**os.environ, "PATH": os.path.dirname(node) + os.pathsep + os.environ.get("PATH", "")})
        if not t.check(f"{label}: npm installs playwright-core@{PLAYWRIGHT} into build/node_modules",
                       p.returncode == 0 and _playwright_version(modules).startswith(PLAYWRIGHT + "."),
                       f"{npm} exited {p.returncode}: "
                       + " | ".join(p.stderr.decode(errors="replace").strip().splitlines()[-3:])):
            t.done()
    return node, {**os.environ, "NODE_PATH": modules}


def run_script(t, label, node, env, argv, timeout=240):
    """Runs a node script that prints the runner's lines; its output is
    passed on, a crash without a "not ok" line is one."""
    import sys
    p = subprocess.run([node, *argv], capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode(errors="replace")
    sys.stdout.write(out)
    sys.stdout.flush()
    if p.returncode != 0 and "not ok - " not in out:
        t.check(label, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    elif p.returncode != 0:
        t.failed += 1
    return out


def _package_version(modules, name):
    try:
        with open(os.path.join(modules, name, "package.json")) as f:
            return json.load(f).get("version", "")
    except (OSError, ValueError):
        return ""


def firefox_env(t, label):
    """(node, env) to run a puppeteer-core script driving Debian's
    firefox-esr over WebDriver BiDi: NODE_PATH set to
    build/firefox-node/node_modules (its own prefix: an npm install there
    does not touch playwright-core's).  Ends the test with a skip when
    firefox-esr is not installed (a declared package: make installs it),
    with a failure when npm cannot install puppeteer-core."""
    node, npm = _tool(t, "node", "nodejs", label), _tool(t, "npm", "npm", label)
    if not os.access(FIREFOX, os.X_OK):
        t.skip(label, f"{FIREFOX} is not installed (Debian package firefox-esr, declared in DEB_PACKAGES)")
        t.done()
    prefix = os.path.join(BUILD, "firefox-node")
    modules = os.path.join(prefix, "node_modules")
    if _package_version(modules, "puppeteer-core") != PUPPETEER:
        os.makedirs(prefix, exist_ok=True)
        p = subprocess.run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", f"puppeteer-core@{PUPPETEER}"],
                           capture_output=True, timeout=300,
                           env={**os.environ, "PATH": os.path.dirname(node) + os.pathsep + os.environ.get("PATH", "")})
        if not t.check(f"{label}: npm installs puppeteer-core@{PUPPETEER} into build/firefox-node",
                       p.returncode == 0 and _package_version(modules, "puppeteer-core") == PUPPETEER,
                       f"{npm} exited {p.returncode}: "
                       + " | ".join(p.stderr.decode(errors="replace").strip().splitlines()[-3:])):
            t.done()
    return node, {**os.environ, "NODE_PATH": modules, "UWEB_FIREFOX": FIREFOX}


def run_with_secrets(t, label, node, env, argv, timeout=300):
    """Runs a node script whose "# secret X" lines (JSON strings: the
    plaintexts and keys a page handled) are returned; its other lines are
    passed on, a crash without a "not ok" line is one."""
    import sys
    p = subprocess.run([node, *argv], capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode(errors="replace")
    secrets = []
    for line in out.splitlines():
        if line.startswith("# secret "):
            secrets.append(json.loads(line[len("# secret "):]))
        elif not line.startswith("# "):
            print(line, flush=True)
    if p.returncode != 0 and "not ok - " not in out:
        t.check(label, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    elif p.returncode != 0:
        t.failed += 1
    return secrets
