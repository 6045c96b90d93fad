"""Open every page of the built HTML documentation in headless Chromium,
offline, and fail on what a reader would see broken:

  * unrendered TeX in the page's text (\\[ \\( \\f$ \\f[ $$ \\frac ...),
    outside code (<pre>, <code>, source listings), or a formula MathJax
    reports as an error;
  * an image that does not load, or any file the page asks for that is
    missing (scripts, style sheets, MathJax's own files);
  * a link to a file of the documentation that does not exist, or to an
    anchor that no element of the target page has, or to a file outside
    the documentation folder;
  * any request to the network (the folder must work as it is, offline).

Usage: python3 browser_check.py HTML_DIR SCREENSHOT_DIR [CHROMIUM]

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: fd 3 in, fd 4 out, messages ending in NUL),
with a fresh profile, network name resolution switched off and http(s)
requests blocked. For each page it waits for the load event and for
MathJax's queue to drain, then reads the page, and saves a full-page
screenshot as SCREENSHOT_DIR/<page>.png. Prints one line per page and
exits 1 if any page failed. Standard library only.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--remote-debugging-pipe", "--window-size=1280,900"]
WIDTH = 1280
MAX_HEIGHT = 16000  # Chromium's largest screenshot side is 16384
PAGE_TIMEOUT = 60.0

# TeX that a reader should never see: MathJax/Doxygen delimiters and common
# commands left in the text.
TEX = re.compile(r"\\[\[\]()]|\\f[$\[\]{}]|\$\$|\$\\[A-Za-z]|\\(?:frac|tfrac|dfrac|sqrt|sum|prod"
                 r"|log|exp|mathbb|mathcal|mathrm|operatorname|text|left|right|begin|end|cdot"
                 r"|quad|beta|sigma|pi|le|ge)(?![A-Za-z])")

# Runs in every page before its own scripts: MathJax 2 reads window.MathJax
# as its configuration, and AuthorInit registers hooks that record TeX
# errors, processing errors and files MathJax fails to load.
HOOKS = r"""
window.__mathErrors = [];
window.MathJax = {AuthorInit: function () {
  const note = what => m => window.__mathErrors.push(what + ': ' + String(m[1]).slice(0, 200)
      + (m[2] ? ' in ' + String(m[2]).slice(0, 120) : ''));
  MathJax.Hub.Register.MessageHook('TeX Jax - parse error', note('TeX error'));
  MathJax.Hub.Register.MessageHook('Math Processing Error', note('MathJax processing error'));
  MathJax.Hub.Register.MessageHook('file load error', note('MathJax file not loaded'));
}};
"""

# Runs in the page after load: waits for MathJax (version 2) to finish,
# then returns what the checks need.
PROBE = r"""
(async () => {
  const wait = new Promise(resolve => {
    if (window.MathJax && MathJax.Hub && MathJax.Hub.Queue) MathJax.Hub.Queue(() => resolve('done'));
    else resolve('absent');
  });
  const timeout = new Promise(resolve => setTimeout(() => resolve('timeout'), 30000));
  const mathjax = await Promise.race([wait, timeout]);
  await document.fonts.ready;
  for (let i = 0; i < 40; i++) {  // MathJax hides its progress box shortly after
    const m = document.getElementById('MathJax_Message');
    if (!m || m.style.display === 'none' || !m.textContent) break;
    await new Promise(r => setTimeout(r, 100));
  }
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, noscript, pre, code, .fragment, #MathJax_Message')
      .forEach(e => e.remove());
  const errors = window.__mathErrors || [];
  const images = [...document.images].map(i => ({src: i.currentSrc || i.src,
      ok: i.complete && i.naturalWidth > 0}));
  const objects = [...document.querySelectorAll('object[data], embed[src]')].map(o => ({
      src: o.data || o.src, w: o.getBoundingClientRect().width,
      h: o.getBoundingClientRect().height}));
  // pictures cut off by the content pane (wider than the element holding them)
  const clipped = [...document.querySelectorAll('.contents img, .contents object')]
      .filter(e => e.getBoundingClientRect().width > e.parentElement.clientWidth + 1)
      .map(e => e.currentSrc || e.src || e.data);
  const ids = [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'));
  const links = [...document.querySelectorAll('a[href], area[href]')].map(a => a.href);
  const content = document.getElementById('doc-content');
  const height = Math.max(document.documentElement.scrollHeight,
      content ? content.scrollHeight + content.getBoundingClientRect().top + 40 : 0);
  return {mathjax, text: body.textContent, errors, images, objects, clipped, ids, links, height,
          formulas: document.querySelectorAll('.MathJax_SVG, .MathJax, .MathJax_CHTML').length};
})()
"""


class Browser:
    """Chromium over --remote-debugging-pipe."""

    def __init__(self, exe, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():  # in the child: the pipes become fds 3 and 4
            a = os.dup(to_child_r)
            b = os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([exe] + FLAGS + ["--user-data-dir=" + profile, "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=PAGE_TIMEOUT):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self.read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self.events.append(m)

    def read(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, name, timeout=PAGE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    del self.events[i]
                    return e
            self.events.append(self.read(deadline))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def local_path(url):
    p = urllib.parse.urlsplit(url)
    return os.path.realpath(urllib.parse.unquote(p.path))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    html = os.path.realpath(sys.argv[1])
    shots = sys.argv[2]
    exe = sys.argv[3] if len(sys.argv) > 3 else (shutil.which("chromium") or "chromium")
    pages = sorted(f for f in os.listdir(html) if f.endswith(".html"))
    if not pages:
        sys.exit(f"browser_check: no pages in {html}")
    os.makedirs(shots, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="prefloss-docs-chromium-")
    b = Browser(exe, profile)
    failed = {}
    seen = {}  # page path -> its ids
    outgoing = []  # (page, url)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"}, session=False)
        att = b.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                     session=False)
        b.session = att["sessionId"]
        b.send("Page.enable")
        b.send("Page.addScriptToEvaluateOnNewDocument", {"source": HOOKS})
        b.send("Network.enable")
        b.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
        for page in pages:
            problems = []
            b.send("Emulation.setDeviceMetricsOverride",
                   {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False})
            b.events.clear()
            url = "file://" + urllib.parse.quote(os.path.join(html, page))
            nav = b.send("Page.navigate", {"url": url})
            if nav.get("errorText"):
                problems.append(f"does not load: {nav['errorText']}")
            b.wait_event("Page.loadEventFired")
            r = b.send("Runtime.evaluate", {"expression": PROBE, "awaitPromise": True,
                                            "returnByValue": True})
            if "exceptionDetails" in r:
                raise RuntimeError(f"{page}: probe failed: {r['exceptionDetails']}")
            v = r["result"]["value"]
            # requests: anything not local, and local files that failed
            urls = {}
            for e in b.events:
                m, p = e.get("method"), e.get("params", {})
                if m == "Network.requestWillBeSent":
                    u = urls[p["requestId"]] = p["request"]["url"]
                    if not u.startswith(("file:", "data:", "blob:", "about:")):
                        problems.append(f"requests the network: {u}")
                elif m == "Network.loadingFailed" and not p.get("blockedReason"):
                    u = urls.get(p.get("requestId"), "?")
                    problems.append(f"missing file ({p.get('errorText')}): {u}")
            if v["mathjax"] == "timeout":
                problems.append("MathJax did not finish within 30 s")
            tex = list(TEX.finditer(v["text"]))
            shown = -1
            for mm in tex:
                if mm.start() > shown:  # up to 3 places, not overlapping
                    s = v["text"][max(0, mm.start() - 30):mm.end() + 40]
                    problems.append(f"unrendered TeX ({len(tex)} matches): ..."
                                    + " ".join(s.split()) + "...")
                    shown = mm.end() + 40
                    if sum(x.startswith("unrendered") for x in problems) == 3:
                        break
            for x in v["errors"]:
                problems.append(" ".join(x.split()))
            for im in v["images"]:
                if not im["ok"]:
                    problems.append(f"image does not load: {im['src']}")
            for o in v["objects"]:
                if not os.path.exists(local_path(o["src"])) or o["w"] == 0 or o["h"] == 0:
                    problems.append(f"embedded image does not show: {o['src']}")
            for src in v["clipped"]:
                problems.append(f"image wider than the page, cut off: {src}")
            seen[os.path.join(html, page)] = set(v["ids"])
            for link in v["links"]:
                outgoing.append((page, link))
            # full-page screenshot: the content pane scrolls inside the window
            h = min(MAX_HEIGHT, max(900, int(v["height"])))
            b.send("Emulation.setDeviceMetricsOverride",
                   {"width": WIDTH, "height": h, "deviceScaleFactor": 1, "mobile": False})
            b.send("Runtime.evaluate", {"expression": "new Promise(r => requestAnimationFrame("
                                        "() => requestAnimationFrame(r)))", "awaitPromise": True})
            shot = b.send("Page.captureScreenshot", {"format": "png"})
            with open(os.path.join(shots, page[:-5] + ".png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            failed[page] = problems
            print(f"{'FAIL' if problems else 'ok  '} {page}: {v['formulas']} formulas, "
                  f"{len(v['images']) + len(v['objects'])} images, {len(v['links'])} links",
                  flush=True)
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)

    # links, once every page's anchors are known
    for page, link in outgoing:
        p = urllib.parse.urlsplit(link)
        if p.scheme != "file":
            continue  # external (not followed offline) or javascript:
        path = local_path(link)
        if not (path == html or path.startswith(html + os.sep)):
            failed[page].append(f"link leaves the documentation folder: {link}")
        elif not os.path.exists(path):
            failed[page].append(f"broken link: {link}")
        elif p.fragment and path in seen and urllib.parse.unquote(p.fragment) not in seen[path]:
            failed[page].append(f"link to a missing anchor: {link}")

    bad = 0
    for page in pages:
        probs = list(dict.fromkeys(failed[page]))
        if probs:
            bad += 1
            print(f"FAILED {page}:")
            for x in probs[:12]:
                print(f"    {x}")
            if len(probs) > 12:
                print(f"    ... and {len(probs) - 12} more")
    print(f"check-docs-browser: {len(pages)} pages, {bad} failed; screenshots in {shots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
