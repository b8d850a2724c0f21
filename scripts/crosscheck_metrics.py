#!/usr/bin/env python3
"""Independent cross-check of mattegate's stored per-frame metrics.

Decodes a run's outputs and ground truth with the ffmpeg CLI (not mattegate's decoder), recomputes
SAD, MAD, MSE, Grad, Conn, dtSSD and MESSDdt from the published definitions (docs/metrics.md) with
numpy/scipy, and compares them with the frame_metrics rows mattegate stored in SQLite, for the
regions (frame, transition, hair, glass, motion, derived independently) of every clip, arm and frame.

usage: crosscheck_metrics.py DB RUN_ID CLIPSET_FOLDER
"""
import io
import os
import zipfile
import sqlite3
import subprocess
import sys

import numpy as np
import scipy.ndimage as ndi

SIGMA = 1.4


def decode(path, pix_fmt, dtype, decoder=None, vf=None):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
         "-of", "csv=p=0", path], capture_output=True, check=True, text=True).stdout.strip()
    w, h = (int(v) for v in probe.split(",")[:2])
    cmd = ["ffmpeg", "-v", "error"] + (["-c:v", decoder] if decoder else []) + ["-i", path]
    cmd += (["-vf", vf] if vf else []) + ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=dtype).reshape(-1, h, w).astype(np.int64)


def grad_filters():
    half = int(np.ceil(SIGMA * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * SIGMA * 1e-2))))
    xs = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-xs**2 / (2 * SIGMA**2)) / (SIGMA * np.sqrt(2 * np.pi))
    dg = -xs * g / SIGMA**2
    fx = np.outer(g, dg)  # rows (y) smooth, columns (x) differentiate
    fx /= np.sqrt((fx**2).sum())
    return fx, fx.T


FX, FY = grad_filters()


def grad_magnitude(values):
    lo, hi = values.min(), values.max()
    normed = np.zeros_like(values) if hi == lo else (values - lo) / (hi - lo)
    gx = ndi.correlate(normed, FX, mode="nearest")
    gy = ndi.correlate(normed, FY, mode="nearest")
    return np.sqrt(gx**2 + gy**2)


def conn_map(p, pmax, g, gmax):
    level = np.full(p.shape, -1, dtype=np.int64)
    for i in range(1, 11):
        both = (10 * g >= i * gmax) & (10 * p >= i * pmax)
        labels, n = ndi.label(both)  # 4-connected; labels in raster order
        omega = np.zeros(p.shape, dtype=bool)
        if n:
            sizes = np.bincount(labels.ravel())[1:]
            omega = labels == (int(np.argmax(sizes)) + 1)
        level[(level == -1) & ~omega] = i - 1
    level[level == -1] = 10

    def phi(code, maxval):
        passes = 20 * code >= (2 * level + 3) * maxval
        return np.where(passes, 1 - (code / maxval - level / 10), 1.0)

    return np.abs(phi(g, gmax) - phi(p, pmax))


def dilate(mask, radius):
    # Square window, in-frame part (replicate border).
    return ndi.maximum_filter(mask.astype(np.uint8), size=2 * radius + 1, mode="nearest") > 0


def erode(mask, radius):
    return ndi.minimum_filter(mask.astype(np.uint8), size=2 * radius + 1, mode="nearest") > 0


def regions(g, g_before, own):
    """The regions of docs/metrics.md with mattegate-regions/3's constants; a clip's own masks
    (8-bit codes: 64 = hair, 128 = glass) win over derived ones."""
    soft = (g > 0) & (g < 65535)
    plateau = (g > 0.05 * 65535) & (g < 0.95 * 65535)
    g32 = g.astype(np.int64)
    spread = ndi.maximum_filter(g32, size=5, mode="nearest") - ndi.minimum_filter(g32, size=5, mode="nearest")
    flat = plateau & (spread <= int(0.1 * 65535))
    glass = (dilate(erode(flat, 2), 5) & (g > 0)) if own is None else (own & 128) != 0
    if own is None:
        seeds = soft & ~dilate(erode(soft, 1), 1) & ~glass
        hair = dilate(seeds, 1) & ~glass
    else:
        hair = ((own & 64) != 0) & ~glass
    out = {"frame": np.ones_like(soft), "transition": dilate(soft, 2), "hair": hair, "glass": glass}
    if g_before is not None:
        out["motion"] = dilate(g != g_before, 2)
    return {k: v for k, v in out.items() if v.any()}


def main():
    db, run_id, clipset = sys.argv[1:4]
    con = sqlite3.connect(db)
    rows = {}
    for clip, arm, frame, region, metric, err, pixels in con.execute(
            "SELECT clip_id, arm, frame, region, metric, error_sum, pixels FROM frame_metrics WHERE run_id = ?",
            (run_id,)):
        rows[(clip, arm, frame, region, metric)] = (err, pixels)
    jobs = con.execute("SELECT clip_id, arm, output_path FROM jobs WHERE run_id = ? AND status = 'completed'",
                       (run_id,)).fetchall()
    if not jobs:
        sys.exit("crosscheck: no completed jobs in run " + run_id)
    checked, bad = 0, []
    for clip, arm, output in jobs:
        truth = decode(f"{clipset}/{clip}/alpha.mkv", "gray16le", "<u2")
        own_path = f"{clipset}/{clip}/regions.mkv"
        own = decode(own_path, "gray", np.uint8) if os.path.exists(own_path) else None
        pred = decode(output, "gray", np.uint8, decoder="libvpx-vp9", vf="alphaextract")
        if len(truth) != len(pred):
            bad.append(f"{clip} {arm}: {len(pred)} output frames, {len(truth)} ground-truth frames")
            continue
        motion_path = f"{clipset}/{clip}/motion.zip"
        fields = zipfile.ZipFile(motion_path) if os.path.exists(motion_path) else None
        previous = None
        for t in range(len(truth)):
            g, p = truth[t], pred[t]
            gv, pv = g / 65535.0, p / 255.0
            diff = pv - gv
            soft = (g > 0) & (g < 65535)
            masks = regions(g, truth[t - 1] if t > 0 else None, own[t] if own is not None else None)
            maps = {
                "SAD": np.abs(diff), "MAD": np.abs(diff), "MSE": diff**2,
                "Grad": (grad_magnitude(pv) - grad_magnitude(gv))**2,
                "Conn": conn_map(p, 255, g, 65535),
            }
            checks = [(region, metric, m, masks[region]) for region in masks for metric, m in maps.items()]
            if previous is not None:
                # dtSSD: the squared change difference, summed over the region mask of frame t - 1.
                pp, gp, masks_before = previous
                dt = ((pv - pp) - (gv - gp))**2
                checks += [(region, "dtSSD", dt, masks_before[region]) for region in masks_before]
                if fields is not None:
                    # MESSDdt: |E_{t-1}(x) - E_t(x + v(x))|, E = (p - g)^2, v the true motion t-1 -> t
                    # rounded half away from zero and clamped to the frame; mask of frame t - 1.
                    v = np.load(io.BytesIO(fields.read(f"{t}.npy"))).astype(np.float64)
                    h, w = g.shape
                    ys, xs = np.mgrid[0:h, 0:w]
                    away = lambda d: np.sign(d) * np.floor(np.abs(d) + 0.5)
                    tx = np.clip(xs + away(v[..., 0]), 0, w - 1).astype(int)
                    ty = np.clip(ys + away(v[..., 1]), 0, h - 1).astype(int)
                    e_before, e_now = (pp - gp)**2, diff**2
                    messd = np.abs(e_before - e_now[ty, tx])
                    checks += [(region, "MESSDdt", messd, masks_before[region]) for region in masks_before]
            previous = (pv, gv, masks)
            for region, metric, m, mask in checks:
                key = (clip, arm, t, region, metric)
                expected = float(m[mask].sum())
                if key not in rows:
                    if mask.sum() > 0:
                        bad.append(f"{key}: missing in SQLite")
                    continue
                got, pixels = rows[key]
                checked += 1
                if pixels != int(mask.sum()) or abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
                    bad.append(f"{key}: mattegate {got!r} over {pixels} px, reference {expected!r} over {int(mask.sum())} px")
    print(f"crosscheck: regions with stored values: {', '.join(sorted({k[3] for k in rows}))}")
    for line in bad[:20]:
        print("crosscheck: MISMATCH " + line)
    print(f"crosscheck: {checked} stored per-frame values compared with an independent numpy/scipy reference, "
          f"{len(bad)} mismatches")
    sys.exit(1 if bad or checked == 0 else 0)


if __name__ == "__main__":
    main()
