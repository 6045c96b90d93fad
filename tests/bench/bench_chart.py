"""The chart of `make bench`: throughput of each kernel against the batch
size, with PyTorch and the stream ceiling of the same run as reference lines.

Usage: python3 bench_chart.py OUT.svg FILE...

Reads the lines `make bench` writes (any order, any other lines ignored):
  BENCH kernel=<k> n=<n> mpairs_s=<x> ...          (tests/bench/bench.c)
  CEILING kernel=<stream> n=<n> mpairs_s=<x> ... vs_torch=<k>:<r>,...
  TORCH kernel=<k> n=<n> mpairs_s=<x>              (tests/bench/torch_bench.py)
(PyTorch's throughput is BENCH's mpairs_s / vs_torch where no TORCH line
gives it) and draws one panel per kernel, in the order of its first BENCH line: the
kernel (solid, with its speed over PyTorch's at each point), PyTorch on the
same inputs (dashed) and the ceiling whose CEILING line names the kernel
(dotted): a loop with the same memory traffic and one addition per output.
Every panel has the same log-log axes. Plain SVG, no script, font or image
dependencies, in the style of the bandit chart. Standard library only.
"""
import math
import os
import re
import sys

LINE = re.compile(r"^(BENCH|CEILING|TORCH) (.*)$")
PANEL_W, PANEL_H, GAP_X, GAP_Y = 230.0, 170.0, 40.0, 62.0
MARGIN_L, MARGIN_T, MARGIN_B = 70.0, 96.0, 50.0
COLUMNS = 4
BLUE, ORANGE, GREY = "#1f77b4", "#e6550d", "#555"


def parse(paths):
    bench, torch, implied, ceilings, order = {}, {}, {}, [], []
    for path in paths:
        if not os.path.exists(path):  # no torch_bench.txt without PyTorch
            continue
        with open(path, encoding="utf-8") as f:
            for raw in f:
                m = LINE.match(raw.strip())
                if not m:
                    continue
                fields = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
                try:
                    k, n, x = fields["kernel"], int(fields["n"]), float(fields["mpairs_s"])
                except (KeyError, ValueError):
                    continue
                if not (x > 0 and math.isfinite(x)):
                    continue
                if m.group(1) == "BENCH":
                    if k not in bench:
                        bench[k] = {}
                        order.append(k)
                    bench[k][n] = x
                    try:  # PyTorch's throughput, when no TORCH line gives it
                        implied.setdefault(k, {})[n] = x / float(fields.get("vs_torch", "na"))
                    except (ValueError, ZeroDivisionError):
                        pass
                elif m.group(1) == "TORCH":
                    torch.setdefault(k, {})[n] = x
                else:
                    names = [p.split(":")[0] for p in fields.get("vs_torch", "").split(",") if p]
                    ceilings.append((k, n, x, names))
    for k, pts in implied.items():
        for n, x in pts.items():
            if x > 0 and math.isfinite(x):
                torch.setdefault(k, {}).setdefault(n, x)
    return bench, torch, ceilings, order


def size_label(n):
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return f"{n:,}"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart(bench, torch, ceilings, order):
    # the ceiling of each kernel: the CEILING lines (per size) naming it
    ceil = {}
    for name, n, x, names in ceilings:
        for k in names:
            ceil.setdefault(k, {"name": name, "pts": {}})["pts"][n] = x
    values = [x for k in order for x in bench[k].values()]
    values += [x for k in order for x in torch.get(k, {}).values()]
    values += [x for k in order if k in ceil for x in ceil[k]["pts"].values()]
    sizes = sorted({n for k in order for n in bench[k]})
    y_lo = math.floor(math.log10(min(values)))
    y_hi = math.ceil(math.log10(max(values)))
    if y_hi == y_lo:
        y_hi += 1
    x_lo = math.log10(sizes[0]) - 0.5
    x_hi = math.log10(sizes[-1]) + 0.5

    rows = (len(order) + COLUMNS - 1) // COLUMNS
    cols = min(COLUMNS, len(order))
    width = MARGIN_L + cols * PANEL_W + (cols - 1) * GAP_X + 20.0
    height = MARGIN_T + rows * PANEL_H + (rows - 1) * GAP_Y + MARGIN_B
    out = []
    w = out.append
    w("<?xml version='1.0' encoding='UTF-8'?>\n"
      f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
      f"viewBox='0 0 {width:.0f} {height:.0f}' "
      "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'>\n")
    w("<style>.title{font-size:15px;font-weight:bold}.legend{font-size:12px}"
      ".col{font-size:13px;font-weight:bold}.sub{font-size:11px;fill:#444}"
      ".tick{font-size:10px;fill:#333}.axis{font-size:11px;fill:#333}"
      ".ratio{font-size:10px;fill:#1f77b4;stroke:white;stroke-width:3px;paint-order:stroke}</style>\n")
    w("<rect width='100%' height='100%' fill='white'/>\n")
    w(f"<text x='{width / 2:.1f}' y='24' text-anchor='middle' class='title'>make bench: "
      "throughput against batch size (one thread, median of 9 runs, log&#8211;log)</text>\n")
    legend = [(BLUE, "2.2", None, "libprefloss (&#215; = its speed over PyTorch's)"),
              (ORANGE, "1.8", "6 3", "PyTorch, same formula and inputs"),
              (GREY, "2.4", "1.5 3", "stream ceiling: same memory traffic, one add per output")]
    x = MARGIN_L
    for color, sw, dash, label in legend:
        d = f" stroke-dasharray='{dash}'" if dash else ""
        w(f"<line x1='{x:.1f}' y1='46' x2='{x + 30:.1f}' y2='46' stroke='{color}' "
          f"stroke-width='{sw}'{d}/>\n")
        w(f"<text x='{x + 36:.1f}' y='50' class='legend'>{label}</text>\n")
        x += 36 + 6.2 * len(re.sub(r"&[^;]*;", "x", label)) + 24
    w(f"<text x='{MARGIN_L:.1f}' y='68' class='sub'>all numbers from one run; every "
      "panel has the same axes: million pairs per second (tokens for seq_logps) against "
      "the batch size in pairs (tokens)</text>\n")

    for i, k in enumerate(order):
        left = MARGIN_L + (i % COLUMNS) * (PANEL_W + GAP_X)
        top = MARGIN_T + (i // COLUMNS) * (PANEL_H + GAP_Y)

        def px(n):
            return left + PANEL_W * (math.log10(n) - x_lo) / (x_hi - x_lo)

        def py(v):
            return top + PANEL_H * (1.0 - (math.log10(v) - y_lo) / (y_hi - y_lo))

        w(f"<text x='{left + PANEL_W / 2:.1f}' y='{top - 8:.1f}' text-anchor='middle' "
          f"class='col'>{esc(k)}</text>\n")
        for e in range(y_lo, y_hi + 1):
            y = py(10.0 ** e)
            w(f"<line x1='{left:.1f}' y1='{y:.1f}' x2='{left + PANEL_W:.1f}' y2='{y:.1f}' "
              "stroke='#e4e4e4'/>\n")
            if i % COLUMNS == 0:
                w(f"<text x='{left - 5:.1f}' y='{y + 4:.1f}' text-anchor='end' "
                  f"class='tick'>{10 ** e:g}</text>\n")
        bottom = top + PANEL_H
        for n in sizes:
            x = px(n)
            w(f"<line x1='{x:.1f}' y1='{top:.1f}' x2='{x:.1f}' y2='{bottom:.1f}' "
              "stroke='#e4e4e4'/>\n")
            w(f"<line x1='{x:.1f}' y1='{bottom:.1f}' x2='{x:.1f}' y2='{bottom + 4:.1f}' "
              "stroke='#333'/>\n")
            w(f"<text x='{x:.1f}' y='{bottom + 16:.1f}' text-anchor='middle' "
              f"class='tick'>{size_label(n)}</text>\n")
        w(f"<rect x='{left:.1f}' y='{top:.1f}' width='{PANEL_W:.1f}' height='{PANEL_H:.1f}' "
          "fill='none' stroke='#333'/>\n")
        if i % COLUMNS == 0:
            w(f"<text transform='translate({left - 42:.1f},{top + PANEL_H / 2:.1f}) rotate(-90)' "
              "text-anchor='middle' class='axis'>M pairs/s</text>\n")
        if i // COLUMNS == rows - 1 or i + COLUMNS >= len(order):
            w(f"<text x='{left + PANEL_W / 2:.1f}' y='{bottom + 32:.1f}' text-anchor='middle' "
              "class='axis'>batch size</text>\n")

        def series(pts, color, sw, dash):
            ns = sorted(pts)
            d = f" stroke-dasharray='{dash}'" if dash else ""
            if len(ns) > 1:
                coords = " ".join(f"{px(n):.1f},{py(pts[n]):.1f}" for n in ns)
                w(f"<polyline fill='none' stroke='{color}' stroke-width='{sw}'{d} "
                  f"points='{coords}'/>\n")
            for n in ns:
                w(f"<circle cx='{px(n):.1f}' cy='{py(pts[n]):.1f}' r='3' fill='{color}'/>\n")

        if k in ceil:
            series(ceil[k]["pts"], GREY, "2.4", "1.5 3")
            pts = ceil[k]["pts"]
            n0, n1 = min(pts), max(pts)  # the label above the middle of the line
            xm = (px(n0) + px(n1)) / 2
            ym = (py(pts[n0]) + py(pts[n1])) / 2
            w(f"<text x='{xm:.1f}' y='{ym - 7:.1f}' text-anchor='middle' class='tick' "
              f"fill='{GREY}'>{esc(ceil[k]['name'])}</text>\n")
        if k in torch:
            series(torch[k], ORANGE, "1.8", "6 3")
        series(bench[k], BLUE, "2.2", None)
        for n, v in sorted(bench[k].items()):
            t = torch.get(k, {}).get(n)
            if t:
                r = v / t
                ratio = f"{r:.0f}" if r >= 10 else f"{r:.2g}"
                last = n == sizes[-1]  # beside the point, inside the panel
                dy = 15 if py(v) < top + 16 else -6  # above the point, unless at the top
                w(f"<text x='{px(n) + (-6 if last else 6):.1f}' y='{py(v) + dy:.1f}' "
                  f"text-anchor='{'end' if last else 'start'}' class='ratio'>"
                  f"&#215;{ratio}</text>\n")
    w("</svg>\n")
    return "".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    bench, torch, ceilings, order = parse(sys.argv[2:])
    if not order:
        sys.exit("bench_chart: no BENCH lines in " + " ".join(sys.argv[2:]))
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write(chart(bench, torch, ceilings, order))
    print(f"bench: chart of {len(order)} kernels in {sys.argv[1]}")


if __name__ == "__main__":
    main()
