#!/usr/bin/env python3
"""uweb used from another project: `make install` into a temporary prefix,
then, in an empty temporary directory and with nothing but that prefix
(pkg-config modules uweb, uweb-spt, uweb-hvt; strace shows no file of the
uweb tree is touched), the README's handler example and the `uweb new`
template built for unix, spt and hvt and run: unix answered by curl, spt
by curl through a tap in a network namespace, hvt a smoke run (boots,
listens, answers one request).  Then the man pages render, uninstall
leaves the prefix empty, and `make deb`'s package is inspected
(dpkg-deb --contents, its fields, apt-get's simulated install),
installed by dpkg into a temporary root (dpkg --root) and used the same way,
then removed.

Needs the tree built for the three targets (make; make TARGET=spt and
TARGET=hvt: pkg/build.mk lists the parts in EXTRA_TEST_DEPS).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, ROOT, BUILD, free_port, wait_port, curl  # noqa: E402

t = T()
ROOT = os.path.realpath(ROOT)
BUILD = os.path.realpath(BUILD)
VERSION = re.search(r'#define UW_VERSION "([^"]+)"',
                    open(os.path.join(ROOT, "include/uweb/version.h")).read()).group(1)
PARTS = [os.path.join(BUILD, p) for p in (
    "libuweb.a", "tools/uweb-crunch", "tools/uweb-bench", "tools/uweb-image", "uweb-spt", "uweb-hvt",
    "spt/libuweb.a", "spt/lwip/liblwip.a", "spt/mbedtls/libmbedtls.a", "spt/zlib/libz.a", "spt/libuwc.a",
    "spt/platform/spt/bindings.o", "hvt/libuweb.a", "hvt/platform/hvt/start.o", "hvt/platform/hvt/bindings.o")]
t.require_built(*PARTS)
# make's B as the tree's build was made (relative under the tree): the guest
# objects' flags name B, and another spelling would rebuild them all.
B = os.path.relpath(BUILD, ROOT) if BUILD.startswith(ROOT + "/") else BUILD

TMP = tempfile.mkdtemp(prefix="uwinstall")
ENV_BASE = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": TMP, "LC_ALL": "C"}


def run(argv, cwd=None, env=None, timeout=300):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def tail(s, n=600):
    return s[-n:].replace("\n", " | ")


def readme_example():
    """The first C block of README.md's "## A handler"."""
    text = open(os.path.join(ROOT, "README.md")).read()
    sec = text[text.index("## A handler"):]
    return re.search(r"```c\n(.*?)```", sec, re.S).group(1)


def readme_commands():
    """The shell lines of README.md's "### Your own program" block that
    build main.c (comments and prompts stripped)."""
    text = open(os.path.join(ROOT, "README.md")).read()
    sec = text[text.index("## Use uweb in your own project"):]
    sec = sec[sec.index("### Your own program"):]
    block = re.search(r"```sh\n(.*?)```", sec, re.S).group(1)
    return [ln.split("  #")[0].strip() for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


# ------------------------------------------------------------ network namespace for spt/hvt
NS = None
if os.geteuid() == 0 and os.path.exists("/dev/net/tun") and shutil.which("ip"):
    ns = f"uwinst{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode == 0:
        NS = ns
        cmds = [["ip", "-n", ns, "link", "set", "lo", "up"]]
        for i in range(6):
            cmds += [["ip", "-n", ns, "tuntap", "add", "dev", f"uwtap{i}", "mode", "tap"],
                     ["ip", "-n", ns, "addr", "add", f"10.83.{i}.1/24", "dev", f"uwtap{i}"],
                     ["ip", "-n", ns, "link", "set", f"uwtap{i}", "up"]]
        for c in cmds:
            if subprocess.run(c, capture_output=True).returncode != 0:
                NS = None
                break
NS_WHY = "needs root, /dev/net/tun and ip netns for a tap device"
tap_next = [0]


class Guest:
    """An image run by its tender on the next tap of the namespace, at 10.83.N.2, on
    the unikernels' default port (80, no --port: the tutorial's curl)."""

    def __init__(self, tender, image, timeout):
        n = tap_next[0]
        tap_next[0] += 1
        self.addr = f"10.83.{n}.2"
        argv = ["ip", "netns", "exec", NS, tender, f"--net:service=uwtap{n}", "--", image,
                f"--ipv4={self.addr}/24", "--quiet"]
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err)
        line, done = [], threading.Event()

        def first():
            line.append(self.proc.stdout.readline())
            done.set()
            for _ in self.proc.stdout:
                pass
        threading.Thread(target=first, daemon=True).start()
        done.wait(timeout)
        self.ready = bool(line) and b"listening on" in line[0]
        self.first = line[0].decode(errors="replace") if line else ""

    def get(self, path, timeout=10):
        return run(["ip", "netns", "exec", NS, "curl", "-sS", "-f", "-m", str(timeout),
                    f"http://{self.addr}{path}"], timeout=timeout + 10)

    def log(self):
        self.err.seek(0)
        return tail(self.first + self.err.read().decode(errors="replace"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def serve_unix(name, binary, checks, make_run=None):
    """BINARY --port=N, or with make_run=(DIR, ENV) `make run PORT=N` in DIR."""
    port = free_port()
    if make_run:
        p = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=make_run[0], env=make_run[1],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    else:
        p = subprocess.Popen([binary, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not t.check(f"{name}: listens", wait_port(port, 10), "no listener on its port"):
            return
        for path, want in checks:
            rc, out, err = curl("-f", "-m", "10", f"http://127.0.0.1:{port}{path}")
            out = out.decode(errors="replace")
            t.check(f"{name}: GET {path} answers {want!r}", rc == 0 and want in out, err or out[:200])
    finally:
        if make_run:
            os.killpg(p.pid, 9)
        else:
            p.kill()
        p.wait()


def serve_guest(name, target, prefix, image, checks, timeout=15):
    if NS is None:
        t.skip(f"{name}: runs", NS_WHY)
        return
    if target == "hvt" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        t.skip(f"{name}: runs", "/dev/kvm is not usable")
        return
    g = Guest(os.path.join(prefix, "bin", f"uweb-{target}"), image, timeout)
    try:
        if not t.check(f"{name}: boots and listens", g.ready, g.log()):
            return
        for path, want in checks:
            rc, out, err = g.get(path, timeout=timeout * 4)
            t.check(f"{name}: GET {path} through the tap answers {want!r}",
                    rc == 0 and want in out, tail(err or out, 200))
    finally:
        g.stop()


def strace_build(name, argv, cwd, env):
    """Runs a build under strace; returns True when it succeeded and no
    file under the uweb tree was opened, executed or looked at."""
    log = os.path.join(TMP, "strace.log")
    rc, out, err = run(["strace", "-f", "-qq", "-e", "trace=%file,execve", "-o", log] + argv, cwd=cwd, env=env)
    if not t.check(f"{name}: builds", rc == 0, tail(out + err)):
        return False
    touched = sorted({ln for ln in open(log) if ROOT + "/" in ln or f'"{ROOT}"' in ln})
    return t.check(f"{name}: touches nothing of the uweb tree", not touched,
                   tail("".join(touched[:3]), 400))


def use_prefix(label, prefix, all_targets=True):
    """Build and run the README example and the template against PREFIX."""
    env = dict(ENV_BASE, PATH=f"{prefix}/bin:" + ENV_BASE["PATH"],
               PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    work = tempfile.mkdtemp(prefix="uwproj", dir=TMP)
    targets = ("unix", "spt", "hvt") if all_targets else ("unix", "spt")

    # The README's handler example, built with the README's own commands.
    ex = os.path.join(work, "example")
    os.mkdir(ex)
    open(os.path.join(ex, "main.c"), "w").write(readme_example())
    cmds = readme_commands()
    for tg in targets:
        mine = [c for c in cmds if re.search(rf"\b(uweb-{tg}|-o app\.{tg}|-o {tg}/)", c)] if tg != "unix" else \
               [c for c in cmds if "pkg-config --cflags uweb)" in c or "--libs uweb)" in c]
        if not t.check(f"{label}: README gives the commands for {tg}", bool(mine), f"{cmds}"):
            continue
        script = "set -e\n" + "\n".join(mine) + "\n"
        if strace_build(f"{label}: README example for {tg}", ["sh", "-c", script], ex, env):
            image = os.path.join(ex, {"unix": "app", "spt": "app.spt", "hvt": "app.hvt"}[tg])
            checks = [("/", "Hello World!\n"), ("/users/42", "user 42\n")]
            if tg == "unix":
                serve_unix(f"{label}: README example (unix)", image, checks)
            elif tg == "spt":
                serve_guest(f"{label}: README example (spt)", "spt", prefix, image, checks)

    # uweb new NAME: make, make TARGET=spt, make TARGET=hvt.
    rc, out, err = run(["uweb", "new", "demo"], cwd=work, env=env)
    if not t.check(f"{label}: uweb new demo writes a project", rc == 0 and
                   os.path.isfile(os.path.join(work, "demo", "Makefile")), tail(out + err)):
        return
    proj = os.path.join(work, "demo")
    for tg in targets:
        if not strace_build(f"{label}: template app, make TARGET={tg}", ["make", f"TARGET={tg}"], proj, env):
            continue
        image = os.path.join(proj, "build", tg, "demo" + ("" if tg == "unix" else "." + tg))
        checks = [("/hello/world", "Hello, world!\n"), ("/", "<title>demo</title>")]
        if tg == "unix":
            serve_unix(f"{label}: template app (unix, make run)", image, checks, make_run=(proj, env))
            rc, out, _ = run([image, "--help"])
            t.check(f"{label}: template app (unix) takes --help", rc == 0 and "--port" in out, tail(out))
        elif tg == "spt":
            serve_guest(f"{label}: template app (spt)", "spt", prefix, image, checks)
        else:
            serve_guest(f"{label}: template app (hvt smoke)", "hvt", prefix, image, checks[:1], timeout=90)


try:
    # ------------------------------------------------------------ install
    prefix = os.path.join(TMP, "prefix")
    rc, out, err = run(["make", "-s", "-C", ROOT, f"B={B}", "install", f"PREFIX={prefix}"], timeout=900)
    t.check("make install PREFIX=TMP installs", rc == 0, tail(out + err))
    want = ["bin/uweb", "bin/uweb-crunch", "bin/uweb-bench", "bin/uweb-image", "bin/uweb-spt", "bin/uweb-hvt",
            "include/uweb/web.h", "include/uweb/version.h", "lib/libuweb.a",
            "lib/pkgconfig/uweb.pc", "lib/pkgconfig/uweb-spt.pc", "lib/pkgconfig/uweb-hvt.pc",
            "lib/uweb/spt/libuweb.a", "lib/uweb/spt/guest.ld", "lib/uweb/hvt/start.o",
            "lib/uweb/include/uw_platform.h", "share/man/man1/uweb-crunch.1.gz", "share/man/man1/uweb-image.1.gz",
            "share/doc/uweb/README.md"]
    missing = [w for w in want if not os.path.isfile(os.path.join(prefix, w))]
    t.check("the prefix holds headers, libraries per target, tenders, tools, .pc files, man pages",
            not missing, f"missing {missing}")
    for p in ("uweb", "uweb-crunch", "uweb-bench", "uweb-image", "uweb-spt", "uweb-hvt"):
        rc, out, err = run([os.path.join(prefix, "bin", p), "--version"])
        t.check(f"{p} --version says {VERSION}", rc == 0 and out.strip() == f"{p} {VERSION}",
                tail(out + err, 200))
    env = dict(ENV_BASE, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    rc, out, err = run(["pkg-config", "--modversion", "uweb", "uweb-spt", "uweb-hvt"], env=env)
    t.check("pkg-config knows uweb, uweb-spt and uweb-hvt at the tree's version",
            rc == 0 and out.split() == [VERSION] * 3, tail(out + err))
    rc, out, err = run(["pkg-config", "--libs", "uweb"], env=env)
    t.check("pkg-config --libs uweb names -luweb -lssl -lcrypto -lz",
            rc == 0 and all(x in out.split() for x in ("-luweb", "-lssl", "-lcrypto", "-lz")), out)

    # ------------------------------------------------------------ man pages
    for p in ("uweb", "uweb-crunch", "uweb-bench", "uweb-image", "uweb-spt", "uweb-hvt"):
        page = os.path.join(prefix, "share", "man", "man1", f"{p}.1.gz")
        rc, out, err = run(["man", "-l", page], env=dict(ENV_BASE, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        t.check(f"man -l renders {p}(1)", rc == 0 and "NAME" in out and p in out and not err.strip(),
                tail(err or out, 300))

    # ------------------------------------------------------------ build and run against the prefix
    use_prefix("prefix", prefix)

    # ------------------------------------------------------------ uninstall
    rc, out, err = run(["make", "-s", "-C", ROOT, f"B={B}", "uninstall", f"PREFIX={prefix}"])
    left = [os.path.relpath(os.path.join(d, f), prefix) for d, ds, fs in os.walk(prefix) for f in ds + fs]
    t.check("uninstall leaves the prefix empty", rc == 0 and not left, tail(out + err) + f" left {left[:5]}")

    # ------------------------------------------------------------ the Debian package
    rc, out, err = run(["make", "-s", "-C", ROOT, f"B={B}", "deb"], timeout=900)
    deb = os.path.join(BUILD, f"uweb_{VERSION}_amd64.deb")
    if t.check("make deb builds the package", rc == 0 and os.path.isfile(deb), tail(out + err)):
        if not shutil.which("lintian"):
            t.skip("lintian reports no errors on the .deb", "lintian is not installed")
        else:
            _, out, err = run(["lintian", "--no-tag-display-limit", deb])
            lint = [ln for ln in out.splitlines() if ln.startswith("E:")]
            t.check("lintian reports no errors on the .deb", not lint, tail("\n".join(lint)))
        rc, out, err = run(["dpkg-deb", "--contents", deb])
        names = {ln.split()[-1] for ln in out.splitlines() if ln.strip()}
        want = ["./usr/bin/uweb", "./usr/bin/uweb-spt", "./usr/bin/uweb-hvt", "./usr/bin/uweb-crunch",
                "./usr/bin/uweb-image", "./usr/share/man/man1/uweb-image.1.gz",
                "./usr/lib/pkgconfig/uweb-spt.pc", "./usr/lib/uweb/hvt/libuweb.a", "./usr/include/uweb/web.h",
                "./usr/share/doc/uweb/copyright", "./usr/share/man/man1/uweb.1.gz"]
        t.check("dpkg-deb --contents lists the programs, libraries, headers, docs",
                rc == 0 and all(w in names for w in want), f"missing {[w for w in want if w not in names]}")
        rc, out, err = run(["dpkg-deb", "-f", deb, "Version", "Depends"])
        t.check("the package's version is the tree's and it depends on libssl3 and zlib1g",
                rc == 0 and f"Version: {VERSION}" in out and "libssl3" in out and "zlib1g" in out, out)
        rc, out, err = run(["apt-get", "install", "-s", deb])
        t.check("apt-get install ./uweb_*.deb resolves its dependencies (simulated)",
                rc == 0 and re.search(r"^Inst uweb ", out, re.M) is not None, tail(out + err))
        # Installed by dpkg into a temporary root (its own empty package
        # database, so the dependencies, present on the host, are forced),
        # used there, and removed; without root, only extracted.
        debroot = os.path.join(TMP, "debroot")
        if os.geteuid() == 0:
            for d in ("info", "updates", "triggers"):
                os.makedirs(os.path.join(debroot, "var/lib/dpkg", d))
            open(os.path.join(debroot, "var/lib/dpkg/status"), "w").close()
            rc, out, err = run(["dpkg", f"--root={debroot}", "--force-depends", "-i", deb])
            ok = t.check("dpkg installs the package into a temporary root", rc == 0, tail(out + err))
        else:
            t.skip("dpkg installs the package into a temporary root", "needs root; extracted instead")
            rc, out, err = run(["dpkg-deb", "-x", deb, debroot])
            ok = t.check("the package extracts into a temporary root", rc == 0, err)
        if ok:
            use_prefix("deb", os.path.join(debroot, "usr"), all_targets=False)
            if os.geteuid() == 0:
                rc, out, err = run(["dpkg", f"--root={debroot}", "-r", "uweb"])
                left = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(debroot, "usr")) for f in fs]
                t.check("dpkg -r removes every file of the package", rc == 0 and not left,
                        tail(out + err) + f" left {left[:3]}")
finally:
    if NS:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    shutil.rmtree(TMP, ignore_errors=True)
t.done()
