#!/usr/bin/env python3
"""demo-gen.py - the ciscope demo data set.

    python3 tools/demo-gen.py OUTDIR

writes, for the fictional project tidewater/orrery (an n-body simulation with
a TypeScript reference engine and a Rust/WASM port that must agree step by
step):

    OUTDIR/repo/            a git repository, ~60 commits on main in Oct 2026
    OUTDIR/runs/<run_id>/   ~150 run folders in the GitHub REST API formats
    OUTDIR/MANIFEST.json    what was planted where

Standard library only, no network.  Everything derives from one fixed seed
and fixed dates, so two runs give byte-identical files and identical git
SHAs (tests/demo/check-demo.py verifies that).
"""

import calendar
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

SEED = 20261001
SLUG = "tidewater/orrery"
OWNER, REPO_NAME = SLUG.split("/")
HTML = "https://github.com/" + SLUG
API = "https://api.github.com/repos/" + SLUG
REPO_ID = 712004417
OWNER_ID = 148221907
WORK = "/home/runner/work/orrery/orrery"
RUNNER_VERSION = "2.320.0"
T0 = calendar.timegm((2026, 10, 1, 0, 0, 0))
TICK = 10_000_000          # log time unit: 100 ns, the runner's 7 digits
SNAPSHOT = calendar.timegm((2026, 11, 1, 9, 47, 30))  # when the set was "fetched"

# login, name, email, utc offset (minutes), user id
AUTHORS = {
    "maren": ("mholt", "Maren Holt", "maren.holt@tidewater.dev", 120, 41022871),
    "tomasz": ("twierzbicki", "Tomasz Wierzbicki", "tomasz@tidewater.dev", 120, 8815230),
    "priya": ("priyaraman", "Priya Raman", "priya.raman@tidewater.dev", 330, 60311942),
    "jonah": ("jekwueme", "Jonah Ekwueme", "jonah@tidewater.dev", 60, 23987704),
}

WORKFLOWS = {
    "ci": {"id": 118203344, "path": ".github/workflows/ci.yml", "first_number": 412},
    "parity": {"id": 118203371, "path": ".github/workflows/parity.yml", "first_number": 187},
    "bench": {"id": 121558902, "path": ".github/workflows/bench.yml", "first_number": 58},
}

ACTION_SHAS = {
    "actions/checkout@v4": "11bd71901bbe5b1630ceea73d27597364c9af683",
    "actions/setup-node@v4": "39370e3970a6d050c480ffad4ff0ed4d3fdee5af",
    "actions/cache@v4": "1bd1e32a3bdc45362d1e726936510720a7c30a57",
    "actions/upload-artifact@v4": "b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882",
    "dtolnay/rust-toolchain@stable": "315e265cd78dad1e1dcf3a5074f6d6c47029d5aa",
    "taiki-e/install-action@nextest": "e8bd2e1e0d9a7e5b8a1c9d0f2b3c4d5e6f708192",
}


# --- small helpers --------------------------------------------------------------------

def at(day, hhmm, sec=0):
    """Epoch seconds of 2026-10-<day> <hh:mm:sec> UTC (day 32 = Nov 1)."""
    h, m = (int(x) for x in hhmm.split(":"))
    return T0 + (day - 1) * 86400 + h * 3600 + m * 60 + sec


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


def iso_off(t, off_min):
    """A commit timestamp as GitHub shows it: local time with its offset."""
    lt = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t) + off_min * 60))
    sign = "+" if off_min >= 0 else "-"
    a = abs(off_min)
    return "%s%s%02d:%02d" % (lt, sign, a // 60, a % 60)


_sec_cache = {}


def stamp(ticks):
    """The runner's line prefix: 28 chars, .NET round-trip format."""
    s, frac = divmod(ticks, TICK)
    base = _sec_cache.get(s)
    if base is None:
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
        _sec_cache[s] = base
    return "%s.%07dZ" % (base, frac)


def sub_rng(*parts):
    """An independent, stable random stream per named thing, so adding a run
    or a line somewhere does not reshuffle everything after it."""
    h = hashlib.sha256(("%d:" % SEED + "/".join(str(p) for p in parts)).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def hexid(*parts, n=40):
    return hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()[:n]


def uuid_of(*parts):
    h = hashlib.md5("/".join(str(p) for p in parts).encode()).hexdigest()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], "4" + h[13:16], "a" + h[17:20], h[20:32])


def node_id(prefix, n):
    import base64
    raw = b"\x93\x00\xce" + (n & 0xFFFFFFFF).to_bytes(4, "big") + (n >> 32).to_bytes(4, "big")
    return prefix + "_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_json(path, obj):
    write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def user_obj(key):
    login, _name, _mail, _off, uid = AUTHORS[key]
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("U", uid),
        "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % uid,
        "gravatar_id": "",
        "url": "https://api.github.com/users/" + login,
        "html_url": "https://github.com/" + login,
        "type": "User",
        "site_admin": False,
    }


def repo_obj():
    return {
        "id": REPO_ID,
        "node_id": node_id("R", REPO_ID),
        "name": REPO_NAME,
        "full_name": SLUG,
        "private": False,
        "owner": {
            "login": OWNER,
            "id": OWNER_ID,
            "node_id": node_id("O", OWNER_ID),
            "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % OWNER_ID,
            "gravatar_id": "",
            "url": "https://api.github.com/users/" + OWNER,
            "html_url": "https://github.com/" + OWNER,
            "type": "Organization",
            "site_admin": False,
        },
        "html_url": HTML,
        "description": "N-body simulation: a TypeScript reference engine and its Rust/WASM port, "
                       "kept in lockstep",
        "fork": False,
        "url": API,
    }


# --- the repository's files -----------------------------------------------------------
# Small but plausible.  A few files have their lines pinned because the planted
# failures quote them (integrator.rs:41/88, integrator.test.ts:42, bench_report.py).

def integrator_rs(f32_half=False, fma=False, fma_gated=False):
    if fma and fma_gated:
        drift = ['        #[cfg(feature = "fast-math")]',
                 "        { b.pos = b.vel.mul_add(h, b.pos); }",
                 '        #[cfg(not(feature = "fast-math"))]',
                 "        { b.pos = b.pos + b.vel * h; }"]
    elif fma:
        drift = ["        // one rounding instead of two: faster and slightly more accurate",
                 "        // (the reference engine rounds twice; see docs/parity.md)",
                 "        b.pos = b.vel.mul_add(h, b.pos);",
                 "        debug_assert!(b.pos.is_finite());"]
    else:
        drift = ["        // x += v*h: two roundings, exactly what engine-ts does",
                 "        let step = b.vel * h;",
                 "        b.pos = b.pos + step;",
                 "        debug_assert!(b.pos.is_finite());"]
    half = ("        let half_dt: f32 = (0.5 * self.dt) as f32; // f32 lanes, see forces.rs"
            if f32_half else "        let half_dt = 0.5 * self.dt;")
    lines = [
        "//! Time integration for the n-body system.",
        "//!",
        "//! engine-ts/src/integrator.ts is the specification: every change here must",
        "//! keep `node tools/parity.mjs` green, step by step, for the whole scenario.",
        "",
        "use crate::body::Body;",
        "use crate::quadtree::QuadTree;",
        "use crate::vec3::Vec3;",
        "",
        "/// Gravitational constant in AU^3 / (M_sun day^2).",
        "pub const G: f64 = 2.959_122_082_855_911e-4;",
        "",
        "#[derive(Clone, Debug)]",
        "pub struct Integrator {",
        "    pub dt: f64,",
        "    pub softening: f64,",
        "    pub theta: f64,",
        "    steps: u64,",
        "}",
        "",
        "impl Default for Integrator {",
        "    fn default() -> Self {",
        "        Self { dt: 1.0 / 24.0, softening: 1.0e-6, theta: 0.5, steps: 0 }",
        "    }",
        "}",
        "",
        "/// Accelerations of every body; far field from the quadtree (Barnes-Hut).",
        "fn accelerations(bodies: &[Body], softening: f64, theta: f64) -> Vec<Vec3> {",
        "    let tree = QuadTree::build(bodies);",
        "    let eps2 = softening * softening;",
        "    bodies",
        "        .iter()",
        "        .map(|b| tree.field_at(b.pos, eps2, theta) * G)",
        "        .collect()",
        "}",
        "",
        "/// Velocity update (\"kick\").  `h` stays f64: the reference engine has",
        "/// no other float type, and parity is bit-for-bit until step 1000 of the",
        "/// solar-system scenario.",
        "#[inline]",
        "fn kick(b: &mut Body, h: f64, a: Vec3) {",
        "    b.vel = b.vel + a * h;",
        "}",
        "",
        "impl Integrator {",
        "    pub fn new(dt: f64) -> Self {",
        "        Self { dt, ..Self::default() }",
        "    }",
        "",
        "    pub fn steps(&self) -> u64 {",
        "        self.steps",
        "    }",
        "",
        "    /// One velocity-Verlet step: kick, drift, kick.",
        "    ///",
        "    /// The order of the loops matters for parity: the reference engine",
        "    /// kicks every body before drifting any, and so do we.",
        "    pub fn step(&mut self, bodies: &mut [Body]) {",
        "        let acc = accelerations(bodies, self.softening, self.theta);",
        "        for (b, a) in bodies.iter_mut().zip(acc).filter(|(b, _)| !b.fixed) {",
        "            self.half_kick(b, a);",
        "        }",
        "        for b in bodies.iter_mut().filter(|b| !b.fixed) {",
        "            self.drift(b, self.dt);",
        "        }",
        "        let acc = accelerations(bodies, self.softening, self.theta);",
        "        for (b, a) in bodies.iter_mut().zip(acc).filter(|(b, _)| !b.fixed) {",
        "            self.half_kick(b, a);",
        "        }",
        "        self.steps += 1;",
        "    }",
        "",
        "    /// Position update (\"drift\") of one body over `h`.",
        "    #[inline]",
        "    fn drift(&self, b: &mut Body, h: f64) {",
    ] + drift + [
        "    }",
        "",
        "    /// Half a kick; both halves of a step go through here so that the",
        "    /// rounding of `0.5 * dt` happens once, like in engine-ts.  `a` is the",
        "    /// acceleration at the current positions.",
        "    #[inline]",
        "    fn half_kick(&self, b: &mut Body, a: Vec3) {",
        half,
        "        kick(b, half_dt, a);",
        "    }",
        "}",
        "",
        "#[cfg(test)]",
        "mod tests {",
        "    use super::*;",
        "",
        "    #[test]",
        "    fn fixed_bodies_do_not_move() {",
        "        let mut bodies = vec![Body::fixed(1.0, Vec3::ZERO), Body::at(3.0e-6, Vec3::X)];",
        "        Integrator::default().step(&mut bodies);",
        "        assert_eq!(bodies[0].pos, Vec3::ZERO);",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _check_integrator():
    ls = integrator_rs(f32_half=True).split("\n")
    assert ls[40].startswith("fn kick(b: &mut Body, h: f64"), ls[40]
    assert ls[87] == "        kick(b, half_dt, a);", ls[87]


def integrator_test_ts(tol="1e-6"):
    lines = [
        'import { describe, expect, it } from "@jest/globals";',
        'import { Integrator } from "../src/integrator";',
        'import { totalEnergy } from "../src/energy";',
        'import { solarSystem, twoBody } from "../src/scenarios";',
        "",
        'describe("integrator", () => {',
        '  it("advances positions", () => {',
        "    const sim = new Integrator(twoBody(), { dt: 0.01 });",
        "    const x0 = sim.bodies[1].pos.x;",
        "    sim.step();",
        "    expect(sim.bodies[1].pos.x).not.toBe(x0);",
        "  });",
        "",
        '  it("keeps fixed bodies in place", () => {',
        "    const sim = new Integrator(solarSystem(), { dt: 1 / 24 });",
        "    sim.run(100);",
        "    expect(sim.bodies[0].pos).toEqual({ x: 0, y: 0, z: 0 });",
        "  });",
        "",
        '  it("is time-reversible", () => {',
        "    const sim = new Integrator(twoBody(), { dt: 0.01 });",
        "    const start = structuredClone(sim.bodies);",
        "    sim.run(500);",
        "    sim.reverse();",
        "    sim.run(500);",
        "    for (const [i, b] of sim.bodies.entries()) {",
        "      expect(b.pos.x).toBeCloseTo(start[i].pos.x, 9);",
        "      expect(b.pos.y).toBeCloseTo(start[i].pos.y, 9);",
        "    }",
        "  });",
        "",
        '  it("conserves energy", () => {',
        "    // 10k steps of the 9-body scenario: velocity Verlet keeps the",
        "    // energy error bounded (it oscillates, it does not drift).",
        "    const tol = %s;" % tol,
        "    const sim = new Integrator(solarSystem(), { dt: 1 / 24 });",
        "    const e0 = totalEnergy(sim.bodies);",
        "",
        "    sim.run(10_000);",
        "    const e1 = totalEnergy(sim.bodies);",
        "",
        "    expect(Math.abs(e1 - e0)).toBeLessThan(tol);",
        "  });",
        "",
        '  it("reports the step count", () => {',
        "    const sim = new Integrator(twoBody(), { dt: 0.01 });",
        "    sim.run(7);",
        "    expect(sim.steps).toBe(7);",
        "  });",
        "});",
    ]
    assert lines[41] == "    expect(Math.abs(e1 - e0)).toBeLessThan(tol);"
    return "\n".join(lines) + "\n"


def bench_report_py():
    return '''#!/usr/bin/env python3
"""Turn bench/bench.json into the job summary table (markdown)."""

import json
import sys

BASELINE = {
    "startup_ms": 38.0,
    "peak_rss_mb": 215.0,
    "steps_per_sec": 41000.0,
    "wasm_size_kb": 186.0,
}


def fmt_ms(v):
    return "%.1f ms" % v


def fmt_mb(v):
    return "%.1f MB" % v


def fmt_kb(v):
    return "%.0f KB" % v


def fmt_rate(v):
    return "%.0f steps/s" % v


def delta(v, base):
    if not base:
        return ""
    d = (v - base) / base * 100.0
    return "%+.1f%%" % d


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    report = load(argv[0] if argv else "bench/bench.json")
    rows = []
    rows.append(("startup", fmt_ms(report["startup_ms"]),
                 delta(report["startup_ms"], BASELINE["startup_ms"])))
    rows.append(("peak RSS", fmt_mb(report["memory"]["peak_rss_mb"]),
                 delta(report["memory"]["peak_rss_mb"], BASELINE["peak_rss_mb"])))
    rows.append(("throughput", fmt_rate(report["throughput"]["steps_per_sec"]),
                 delta(report["throughput"]["steps_per_sec"], BASELINE["steps_per_sec"])))
    rows.append(("wasm size", fmt_kb(report["wasm_size_kb"]),
                 delta(report["wasm_size_kb"], BASELINE["wasm_size_kb"])))
    print("| metric | value | vs baseline |")
    print("| --- | ---: | ---: |")
    for name, value, d in rows:
        print("| %s | %s | %s |" % (name, value, d))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def bench_mjs(wasm_key_missing=False):
    size = ('  out.wasm = { size_kb: Math.round(statSync(wasmPath).size / 1024) };\n'
            if wasm_key_missing else
            '  out.wasm_size_kb = Math.round(statSync(wasmPath).size / 1024);\n')
    return ('// Nightly benchmark of the wasm engine; writes bench/bench.json.\n'
            'import { mkdirSync, statSync, writeFileSync } from "node:fs";\n'
            'import { performance } from "node:perf_hooks";\n'
            'import { solarSystem } from "../engine-ts/src/scenarios.js";\n'
            'import init, { Simulation } from "../engine-rs/pkg/orrery_engine.js";\n\n'
            'const wasmPath = "engine-rs/pkg/orrery_engine_bg.wasm";\n'
            'const STEPS = 200_000;\n\n'
            'async function main() {\n'
            '  const t0 = performance.now();\n'
            '  await init();\n'
            '  const sim = new Simulation(solarSystem());\n'
            '  const out = { startup_ms: performance.now() - t0 };\n'
            '  const t1 = performance.now();\n'
            '  for (let i = 0; i < STEPS; i += 1000) sim.run(1000);\n'
            '  out.throughput = { steps_per_sec: STEPS / ((performance.now() - t1) / 1000) };\n'
            '  out.memory = { peak_rss_mb: process.resourceUsage().maxRSS / 1024 };\n'
            + size +
            '  mkdirSync("bench", { recursive: true });\n'
            '  writeFileSync("bench/bench.json", JSON.stringify(out, null, 2));\n'
            '}\n\nmain();\n')


def ci_yml(cache=False, lto_note=False):
    cache_step = ('      - uses: actions/cache@v4\n'
                  '        with:\n'
                  '          path: |\n'
                  '            ~/.cargo/registry/index/\n'
                  '            ~/.cargo/registry/cache/\n'
                  '            target/\n'
                  "          key: cargo-${{ runner.os }}-${{ hashFiles('Cargo.lock') }}\n") if cache else ""
    return ('name: ci\n\non:\n  push:\n    branches: [main, "feature/**"]\n  pull_request:\n\n'
            'concurrency:\n  group: ci-${{ github.ref }}\n  cancel-in-progress: true\n\n'
            'env:\n  CARGO_TERM_COLOR: always\n\n'
            'jobs:\n'
            '  lint:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
            '      - uses: actions/checkout@v4\n'
            '      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n'
            '          cache: npm\n'
            '      - run: npm ci\n      - run: npm run lint\n      - run: cargo fmt --all --check\n\n'
            '  test-ts:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
            '      - uses: actions/checkout@v4\n'
            '      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n'
            '          cache: npm\n'
            '      - run: npm ci\n      - run: npm test\n'
            '      - uses: actions/upload-artifact@v4\n        if: always()\n        with:\n'
            '          name: junit-ts\n          path: reports/junit-ts.xml\n\n'
            '  test-rust:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
            '      - uses: actions/checkout@v4\n'
            '      - uses: dtolnay/rust-toolchain@stable\n'
            + cache_step +
            '      - uses: taiki-e/install-action@nextest\n'
            '      - run: cargo nextest run --workspace --profile ci\n'
            '      - uses: actions/upload-artifact@v4\n        if: always()\n        with:\n'
            '          name: junit-rust\n          path: target/nextest/ci/junit.xml\n\n'
            '  build-wasm:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
            '      - uses: actions/checkout@v4\n'
            '      - uses: dtolnay/rust-toolchain@stable\n        with:\n          targets: wasm32-unknown-unknown\n'
            '      - run: cargo install wasm-pack --locked --version 0.13.1\n'
            '      - run: wasm-pack build engine-rs --release --target web\n'
            '      - run: ls -l engine-rs/pkg\n')


PARITY_PATHS = ("engine-ts/", "engine-rs/", "tools/parity.mjs", "Cargo.toml", "package.json",
                ".github/workflows/parity.yml")
_PATHS_YML = ('    paths:\n      - "engine-ts/**"\n      - "engine-rs/**"\n      - tools/parity.mjs\n'
              '      - Cargo.toml\n      - package.json\n      - .github/workflows/parity.yml\n')
PARITY_YML = ('name: parity\n\non:\n  push:\n    branches: [main]\n' + _PATHS_YML +
              '  pull_request:\n' + _PATHS_YML + '\nenv:\n  CARGO_TERM_COLOR: always\n\n'
              'jobs:\n  parity:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
              '      - uses: actions/checkout@v4\n'
              '      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n'
              '          cache: npm\n'
              '      - uses: dtolnay/rust-toolchain@stable\n        with:\n          targets: wasm32-unknown-unknown\n'
              '      - run: npm ci\n'
              '      - run: npx wasm-pack build engine-rs --dev --target nodejs\n'
              '      - run: node tools/parity.mjs --steps 1000 --out parity\n'
              '      - uses: actions/upload-artifact@v4\n        if: always()\n        with:\n'
              '          name: parity\n          path: parity/\n')

BENCH_YML = ('name: bench\n\non:\n  schedule:\n    - cron: "17 3 * * *"\n  workflow_dispatch:\n\n'
             'env:\n  CARGO_TERM_COLOR: always\n\n'
             'jobs:\n  bench:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n'
             '      - uses: actions/checkout@v4\n'
             '      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n'
             '          cache: npm\n'
             '      - uses: dtolnay/rust-toolchain@stable\n        with:\n          targets: wasm32-unknown-unknown\n'
             '      - run: npm ci\n'
             '      - run: npx wasm-pack build engine-rs --release --target nodejs\n'
             '      - run: node tools/bench.mjs\n'
             '      - run: python3 tools/bench_report.py bench/bench.json >> "$GITHUB_STEP_SUMMARY"\n'
             '      - uses: actions/upload-artifact@v4\n        if: always()\n        with:\n'
             '          name: bench\n          path: bench/bench.json\n')


def initial_files():
    f = {}
    f["README.md"] = (
        "# orrery\n\nAn n-body simulation with two engines that must agree step by step:\n\n"
        "* `engine-ts/`: the TypeScript reference engine (readable, slow, the specification);\n"
        "* `engine-rs/`: the Rust port, compiled to WebAssembly for the browser.\n\n"
        "`node tools/parity.mjs` runs both on the same scenario and compares positions,\n"
        "energy and resources after every step; CI fails when they drift apart.\n\n"
        "## Development\n\n    npm ci\n    npm test\n    cargo nextest run --workspace\n"
        "    wasm-pack build engine-rs --release --target web\n")
    f[".gitignore"] = "node_modules/\ntarget/\nengine-rs/pkg/\nreports/\nparity/\nbench/\n"
    f["package.json"] = json.dumps({
        "name": "orrery", "version": "0.4.0", "private": True, "type": "module",
        "scripts": {"lint": "eslint engine-ts tools && prettier --check engine-ts",
                    "test": "jest --ci --verbose"},
        "devDependencies": {"@jest/globals": "^29.7.0", "eslint": "^9.12.0", "jest": "^29.7.0",
                            "jest-junit": "^16.0.0", "prettier": "^3.3.3", "ts-jest": "^29.2.5",
                            "typescript": "^5.6.3", "wasm-pack": "^0.13.1"},
        "jest-junit": {"outputDirectory": "reports", "outputName": "junit-ts.xml",
                       "suiteNameTemplate": "{filepath}", "classNameTemplate": "{classname}",
                       "titleTemplate": "{title}", "ancestorSeparator": " › "},
    }, indent=2) + "\n"
    f["tsconfig.json"] = ('{\n  "compilerOptions": {\n    "target": "ES2022",\n    "module": "ESNext",\n'
                          '    "moduleResolution": "bundler",\n    "strict": true,\n'
                          '    "outDir": "dist"\n  },\n  "include": ["engine-ts"]\n}\n')
    f["jest.config.js"] = ('export default {\n  preset: "ts-jest",\n  testMatch: ["**/engine-ts/test/**/*.test.ts"],\n'
                           '  reporters: ["default", "jest-junit"],\n};\n')
    f["engine-ts/src/vec3.ts"] = (
        "export interface Vec3 {\n  x: number;\n  y: number;\n  z: number;\n}\n\n"
        "export const vec3 = (x = 0, y = 0, z = 0): Vec3 => ({ x, y, z });\n"
        "export const add = (a: Vec3, b: Vec3): Vec3 => vec3(a.x + b.x, a.y + b.y, a.z + b.z);\n"
        "export const sub = (a: Vec3, b: Vec3): Vec3 => vec3(a.x - b.x, a.y - b.y, a.z - b.z);\n"
        "export const scale = (a: Vec3, k: number): Vec3 => vec3(a.x * k, a.y * k, a.z * k);\n"
        "export const dot = (a: Vec3, b: Vec3): number => a.x * b.x + a.y * b.y + a.z * b.z;\n")
    f["engine-ts/src/body.ts"] = (
        'import type { Vec3 } from "./vec3";\n\n'
        "export interface Body {\n  name: string;\n  mass: number;\n  pos: Vec3;\n  vel: Vec3;\n"
        "  fixed: boolean;\n}\n")
    f["engine-ts/src/integrator.ts"] = (
        'import type { Body } from "./body";\nimport { add, scale } from "./vec3";\n'
        'import { accelerations } from "./forces";\n\n'
        "export interface Options {\n  dt: number;\n  softening?: number;\n  theta?: number;\n}\n\n"
        "/** Velocity Verlet (kick-drift-kick).  This is the specification. */\n"
        "export class Integrator {\n  steps = 0;\n  constructor(public bodies: Body[], private opts: Options) {}\n\n"
        "  step(): void {\n    const h = 0.5 * this.opts.dt;\n"
        "    this.kick(h);\n    for (const b of this.bodies) if (!b.fixed) b.pos = add(b.pos, scale(b.vel, this.opts.dt));\n"
        "    this.kick(h);\n    this.steps++;\n  }\n\n"
        "  run(n: number): void {\n    for (let i = 0; i < n; i++) this.step();\n  }\n\n"
        "  reverse(): void {\n    for (const b of this.bodies) b.vel = scale(b.vel, -1);\n  }\n\n"
        "  private kick(h: number): void {\n    const acc = accelerations(this.bodies, this.opts);\n"
        "    this.bodies.forEach((b, i) => {\n      if (!b.fixed) b.vel = add(b.vel, scale(acc[i], h));\n    });\n  }\n}\n")
    f["engine-ts/src/energy.ts"] = (
        'import type { Body } from "./body";\nimport { dot, sub } from "./vec3";\n\n'
        "export const G = 2.959122082855911e-4;\n\n"
        "export function totalEnergy(bodies: Body[]): number {\n  let e = 0;\n"
        "  for (let i = 0; i < bodies.length; i++) {\n    const a = bodies[i];\n"
        "    e += 0.5 * a.mass * dot(a.vel, a.vel);\n"
        "    for (let j = i + 1; j < bodies.length; j++) {\n      const d = sub(a.pos, bodies[j].pos);\n"
        "      e -= (G * a.mass * bodies[j].mass) / Math.sqrt(dot(d, d));\n    }\n  }\n  return e;\n}\n")
    f["engine-ts/test/integrator.test.ts"] = integrator_test_ts()
    f["engine-ts/test/vec3.test.ts"] = (
        'import { describe, expect, it } from "@jest/globals";\nimport { add, dot, vec3 } from "../src/vec3";\n\n'
        'describe("vec3", () => {\n  it("adds componentwise", () => {\n'
        "    expect(add(vec3(1, 2, 3), vec3(4, 5, 6))).toEqual(vec3(5, 7, 9));\n  });\n"
        '  it("has a dot product", () => {\n    expect(dot(vec3(1, 0, 0), vec3(0, 1, 0))).toBe(0);\n  });\n});\n')
    f["Cargo.toml"] = '[workspace]\nmembers = ["engine-rs"]\nresolver = "2"\n\n[profile.release]\nopt-level = 3\n'
    f["engine-rs/Cargo.toml"] = (
        '[package]\nname = "orrery-engine"\nversion = "0.4.0"\nedition = "2021"\n\n'
        '[lib]\ncrate-type = ["cdylib", "rlib"]\n\n[features]\nfast-math = []\n\n'
        '[dependencies]\nwasm-bindgen = "0.2.93"\nserde = { version = "1", features = ["derive"] }\n'
        'serde-wasm-bindgen = "0.6"\n\n[dev-dependencies]\nproptest = "1.5"\napprox = "0.5"\n')
    f["engine-rs/src/lib.rs"] = (
        "//! orrery-engine: the Rust/WASM port of engine-ts.\n\n"
        "pub mod body;\npub mod energy;\npub mod integrator;\npub mod quadtree;\npub mod vec3;\nmod wasm;\n\n"
        "pub use integrator::Integrator;\n")
    f["engine-rs/src/integrator.rs"] = integrator_rs()
    f["engine-rs/src/vec3.rs"] = (
        "use std::ops::{Add, Mul, Sub};\n\n#[derive(Clone, Copy, Debug, Default, PartialEq)]\n"
        "pub struct Vec3 {\n    pub x: f64,\n    pub y: f64,\n    pub z: f64,\n}\n\n"
        "impl Vec3 {\n    pub const ZERO: Vec3 = Vec3 { x: 0.0, y: 0.0, z: 0.0 };\n"
        "    pub const X: Vec3 = Vec3 { x: 1.0, y: 0.0, z: 0.0 };\n\n"
        "    pub fn dot(self, o: Vec3) -> f64 {\n        self.x * o.x + self.y * o.y + self.z * o.z\n    }\n\n"
        "    pub fn mul_add(self, k: f64, o: Vec3) -> Vec3 {\n"
        "        Vec3 { x: self.x.mul_add(k, o.x), y: self.y.mul_add(k, o.y), z: self.z.mul_add(k, o.z) }\n    }\n\n"
        "    pub fn is_finite(self) -> bool {\n        self.x.is_finite() && self.y.is_finite() && self.z.is_finite()\n    }\n}\n\n"
        "impl Add for Vec3 {\n    type Output = Vec3;\n    fn add(self, o: Vec3) -> Vec3 {\n"
        "        Vec3 { x: self.x + o.x, y: self.y + o.y, z: self.z + o.z }\n    }\n}\n\n"
        "impl Sub for Vec3 {\n    type Output = Vec3;\n    fn sub(self, o: Vec3) -> Vec3 {\n"
        "        Vec3 { x: self.x - o.x, y: self.y - o.y, z: self.z - o.z }\n    }\n}\n\n"
        "impl Mul<f64> for Vec3 {\n    type Output = Vec3;\n    fn mul(self, k: f64) -> Vec3 {\n"
        "        Vec3 { x: self.x * k, y: self.y * k, z: self.z * k }\n    }\n}\n")
    f["engine-rs/src/body.rs"] = (
        "use crate::vec3::Vec3;\n\n#[derive(Clone, Debug)]\npub struct Body {\n    pub mass: f64,\n"
        "    pub pos: Vec3,\n    pub vel: Vec3,\n    pub fixed: bool,\n}\n\n"
        "impl Body {\n    pub fn at(mass: f64, pos: Vec3) -> Self {\n"
        "        Body { mass, pos, vel: Vec3::ZERO, fixed: false }\n    }\n\n"
        "    pub fn fixed(mass: f64, pos: Vec3) -> Self {\n        Body { fixed: true, ..Body::at(mass, pos) }\n    }\n}\n")
    f["engine-rs/src/wasm.rs"] = (
        "use wasm_bindgen::prelude::*;\n\nuse crate::{body::Body, Integrator};\n\n"
        "#[wasm_bindgen]\npub struct Simulation {\n    bodies: Vec<Body>,\n    integrator: Integrator,\n}\n")
    f["tools/parity.mjs"] = (
        "// Runs engine-ts and engine-rs (wasm) side by side and compares every step.\n"
        'import { writeFileSync, mkdirSync } from "node:fs";\n\n'
        "const TOL = { atol: 1e-9, rtol: 1e-7 };\n"
        "// usage: node tools/parity.mjs --steps N --out DIR\n")
    f["tools/bench.mjs"] = bench_mjs()
    f["tools/bench_report.py"] = bench_report_py()
    f[".github/workflows/ci.yml"] = ci_yml()
    f[".github/workflows/parity.yml"] = PARITY_YML
    f[".github/workflows/bench.yml"] = BENCH_YML
    return f


# --- the history ----------------------------------------------------------------------
# One line per event, in time order.  C = commit (on main unless br=...), B = a
# branch (a pull request unless pr is None), M = GitHub merging a pull request.
# "flags" are what CI will see in the tree of that commit (and every later one
# until changed): they drive the planted failures.

def _add(text):
    return ("+", text)


def C(day, hhmm, who, msg, edits, br="main", flags=None, tag=None):
    return {"kind": "C", "t": at(day, hhmm), "who": who, "msg": msg, "edits": edits,
            "br": br, "flags": flags or {}, "tag": tag}


def B(day, hhmm, name, who, pr=None, title=None):
    return {"kind": "B", "t": at(day, hhmm), "name": name, "who": who, "pr": pr, "title": title}


def M(day, hhmm, name, who):
    return {"kind": "M", "t": at(day, hhmm), "name": name, "who": who}


def history():
    rs, ts = "engine-rs/src/", "engine-ts/src/"
    ledger = "priyaraman/energy-ledger"
    lock = "jekwueme/npm-ci-lockfile"
    simd = "twierzbicki/f32-simd"
    theta = "mholt/quadtree-theta"
    wbg = "priyaraman/wasm-bindgen-0.2.95"
    bsum = "jekwueme/bench-summary"
    coll = "twierzbicki/collision-merge"
    docs = "priyaraman/docs-site"
    eslint = "jekwueme/eslint-flat-config"
    feat = "feature/adaptive-timestep"
    cargo_fat = initial_files()["Cargo.toml"] + 'lto = "fat"\ncodegen-units = 1\n'
    cargo_thin = initial_files()["Cargo.toml"] + 'lto = "thin"\n'
    return [
        C(1, "09:02", "maren", "Import orrery from the prototype repository\n\n"
          "Both engines, the parity harness and the CI workflows, as they were in\n"
          "the prototype repository at 7d0c1e2.", initial_files()),
        C(1, "11:37", "tomasz", "engine-ts: add Barnes-Hut quadtree for far-field forces",
          {ts + "quadtree.ts": "/** Barnes-Hut quadtree over the xy plane. */\nexport class QuadTree {\n"
           "  static build(bodies: Body[]): QuadTree {\n    return new QuadTree(bodies);\n  }\n}\n",
           ts + "forces.ts": "export { accelerations } from \"./quadtree\";\n"}),
        C(1, "14:51", "priya", "engine-rs: mirror quadtree construction from engine-ts",
          {rs + "quadtree.rs": "//! Barnes-Hut quadtree, built exactly like engine-ts/src/quadtree.ts.\n\n"
           "use crate::body::Body;\nuse crate::vec3::Vec3;\n\npub struct QuadTree {\n    nodes: Vec<Node>,\n}\n"}),
        C(1, "17:20", "jonah", "docs: describe the parity contract between engines",
          {"docs/parity.md": "# Parity\n\nengine-rs must match engine-ts after every step of the\n"
           "solar-system scenario within atol 1e-9 and rtol 1e-7.\n"}),
        C(2, "08:44", "tomasz", "ci: cache cargo registry",
          {".github/workflows/ci.yml": ci_yml(cache=True)}, flags={"cache": True}),
        B(2, "10:05", ledger, "priya", 14, "Track per-body energy in a ledger"),
        C(2, "10:31", "priya", "engine-ts: per-body energy ledger",
          {ts + "ledger.ts": "/** Kinetic and potential energy per body, per step. */\n"
           "export class Ledger {\n  rows: number[][] = [];\n}\n"}, br=ledger),
        C(2, "15:48", "priya", "engine-rs: per-body energy ledger",
          {rs + "ledger.rs": "/// Kinetic and potential energy per body, per step.\n"
           "#[derive(Default)]\npub struct Ledger {\n    pub rows: Vec<Vec<f64>>,\n}\n"},
          br=ledger, flags={"ledger": True}),
        C(2, "16:30", "jonah", "tools: parity harness prints the first divergent step",
          {"tools/parity.mjs": _add("// on failure: print the first step where |delta| > tol\n")}),
        M(3, "09:31", ledger, "maren"),
        C(5, "08:20", "tomasz", "engine-rs: avoid sqrt in softened distance when r2 is zero",
          {rs + "quadtree.rs": _add("\n#[inline]\nfn inv_dist3(r2: f64, eps2: f64) -> f64 {\n"
                                    "    let d2 = r2 + eps2;\n    if d2 == 0.0 { 0.0 } else { 1.0 / (d2 * d2.sqrt()) }\n}\n")}),
        B(5, "09:02", lock, "jonah", 15, "ci: pin npm ci to lockfile v3"),
        C(5, "09:15", "jonah", "ci: commit package-lock.json (lockfile v3)",
          {"package-lock.json": '{\n  "name": "orrery",\n  "version": "0.4.0",\n  "lockfileVersion": 3,\n'
           '  "requires": true,\n  "packages": {}\n}\n'}, br=lock),
        M(5, "14:02", lock, "tomasz"),
        C(5, "15:30", "priya", "engine-ts: validate softening length in Options",
          {ts + "options.ts": "export function checkSoftening(eps: number): number {\n"
           "  if (!(eps >= 0)) throw new RangeError(`softening must be >= 0, got ${eps}`);\n  return eps;\n}\n"}),
        C(6, "09:10", "maren", "engine-ts: scenario loader for JSON body lists",
          {ts + "scenarios.ts": "import type { Body } from \"./body\";\n\n"
           "export function fromJson(text: string): Body[] {\n  return JSON.parse(text).bodies;\n}\n"}),
        C(6, "12:45", "tomasz", "engine-rs: expose Simulation::run to wasm",
          {rs + "wasm.rs": _add("\n#[wasm_bindgen]\nimpl Simulation {\n    pub fn run(&mut self, n: u32) {\n"
                                "        for _ in 0..n {\n            self.integrator.step(&mut self.bodies);\n"
                                "        }\n    }\n}\n")}),
        C(7, "10:22", "priya", "engine-ts: memoise total mass per quadtree node",
          {ts + "quadtree.ts": _add("// node mass is summed once at build time, not per query\n")},
          tag="flaky"),
        C(7, "14:40", "maren", "docs: document the scenario file format",
          {"docs/scenarios.md": "# Scenario files\n\n`{\"bodies\": [{\"name\", \"mass\", \"pos\", \"vel\"}]}`, "
           "units AU, days, solar masses.\n"}),
        B(8, "08:50", simd, "tomasz", 17, "engine-rs: f32 SIMD lanes for force accumulation"),
        C(8, "09:05", "tomasz", "engine-rs: accumulate forces in f32 lanes",
          {rs + "forces.rs": "//! Force accumulation in f32x4 lanes (4 bodies at a time).\n\n"
           "pub(crate) type Lane = [f32; 4];\n",
           rs + "integrator.rs": integrator_rs(f32_half=True)},
          br=simd, flags={"simd_broken": True}, tag="rustc"),
        C(8, "11:30", "jonah", "bench: pin node 20.18 in the nightly job",
          {".github/workflows/bench.yml": _add("# node 20.18: 20.19 changed maxRSS accounting\n")}),
        C(8, "16:55", "tomasz", "engine-rs: widen the half step to f64 before the kick",
          {rs + "integrator.rs": integrator_rs()}, br=simd, flags={"simd_broken": False},
          tag="rustc_fix"),
        M(9, "10:12", simd, "maren"),
        C(9, "13:36", "jonah", "engine-ts: tighten energy tolerance in integrator tests",
          {"engine-ts/test/integrator.test.ts": integrator_test_ts("1e-9")},
          flags={"jest_bad": True}, tag="jest"),
        C(9, "15:02", "maren", "engine-rs: Vec3::length and Vec3::normalize",
          {rs + "vec3.rs": _add("\nimpl Vec3 {\n    pub fn length(self) -> f64 {\n        self.dot(self).sqrt()\n"
                                "    }\n\n    pub fn normalize(self) -> Vec3 {\n        self * (1.0 / self.length())\n"
                                "    }\n}\n")}),
        C(10, "11:20", "jonah", "engine-ts: relax energy tolerance to 5e-7 for 10k-step runs",
          {"engine-ts/test/integrator.test.ts": integrator_test_ts("5e-7")},
          flags={"jest_bad": False}, tag="jest_fix"),
        B(11, "20:00", theta, "maren", 18, "Tunable opening angle for the quadtree"),
        C(12, "08:40", "maren", "engine-ts: make the opening angle theta configurable",
          {ts + "theta.ts": "/** Barnes-Hut opening angle: 0 = exact, 1 = coarse. */\n"
           "export const DEFAULT_THETA = 0.5;\n"}, br=theta),
        C(12, "10:05", "priya", "engine-rs: keep full trajectory history for replay",
          {rs + "history.rs": "//! Every position of every body, for the replay slider.\n\n"
           "pub struct History {\n    frames: Vec<Vec<crate::vec3::Vec3>>,\n}\n"},
          flags={"mem_history": True}, tag="memory"),
        C(12, "13:30", "maren", "engine-rs: honour theta from Options",
          {rs + "theta.rs": "/// Barnes-Hut opening angle, as in engine-ts/src/theta.ts.\n"
           "pub const DEFAULT_THETA: f64 = 0.5;\n"}, br=theta),
        M(13, "09:45", theta, "tomasz"),
        C(13, "11:00", "jonah", "tools: parity harness writes summary.json",
          {"tools/parity.mjs": _add("// writes <out>/parity.csv and <out>/summary.json\n")}),
        C(14, "09:18", "maren", "engine-rs: use fused multiply-add in integrator",
          {rs + "integrator.rs": integrator_rs(fma=True)}, flags={"fma": True}, tag="parity"),
        C(14, "14:22", "priya", "engine-ts: typed arrays for body state",
          {ts + "state.ts": "/** Positions and velocities as one Float64Array (x, y, z, vx, vy, vz). */\n"
           "export const STRIDE = 6;\n"}),
        B(15, "08:30", wbg, "priya", 20, "Bump wasm-bindgen to 0.2.95"),
        C(15, "08:41", "priya", "engine-rs: bump wasm-bindgen to 0.2.95",
          {"engine-rs/Cargo.toml": initial_files()["engine-rs/Cargo.toml"].replace("0.2.93", "0.2.95")},
          br=wbg, tag="cancelled"),
        C(15, "08:43", "priya", "engine-rs: regenerate bindings for wasm-bindgen 0.2.95",
          {rs + "wasm.rs": _add("// bindings regenerated with wasm-bindgen-cli 0.2.95\n")}, br=wbg),
        C(15, "13:05", "tomasz", "engine-rs: fix clippy::needless_range_loop in quadtree",
          {rs + "quadtree.rs": _add("// iterate children directly (clippy::needless_range_loop)\n")}),
        M(16, "10:20", wbg, "maren"),
        C(17, "10:05", "jonah", "bench: move the wasm size probe next to the build",
          {"tools/bench.mjs": bench_mjs(wasm_key_missing=True)},
          flags={"bench_key_missing": True}, tag="traceback"),
        C(19, "08:30", "tomasz", "engine-ts: include softening in the potential energy",
          {ts + "energy.ts": _add("// potential uses sqrt(r^2 + eps^2), like the force\n")}),
        B(19, "09:00", bsum, "jonah", 22, "bench: job summary with deltas against baseline"),
        C(19, "09:40", "jonah", "bench: compare against a stored baseline",
          {"tools/baseline.json": '{\n  "startup_ms": 38.0,\n  "peak_rss_mb": 215.0\n}\n'}, br=bsum),
        C(19, "14:15", "jonah", "bench: write wasm_size_kb in bench.json again",
          {"tools/bench.mjs": bench_mjs()}, flags={"bench_key_missing": False}, tag="traceback_fix"),
        C(19, "16:50", "jonah", "bench: print deltas as percentages",
          {"docs/bench.md": "# Nightly bench\n\nDeltas are relative to tools/baseline.json.\n"}, br=bsum),
        M(20, "09:10", bsum, "priya"),
        C(21, "10:15", "tomasz", "engine-rs: gate mul_add behind the fast-math feature\n\n"
          "FMA rounds once where engine-ts rounds twice; the energy drifted apart\n"
          "after ~600 steps in every parity run since the FMA commit.",
          {rs + "integrator.rs": integrator_rs(fma=True, fma_gated=True)},
          flags={"fma": False}, tag="parity_fix"),
        C(21, "15:00", "maren", "engine-ts: faster scenario parsing",
          {ts + "scenarios.ts": _add("// parse numbers with Number(), not parseFloat()\n")}),
        B(22, "08:15", coll, "tomasz", 23, "Merge bodies on collision"),
        C(22, "08:30", "tomasz", "engine-ts: merge bodies that collide",
          {ts + "collision.ts": "/** Perfectly inelastic merge: momentum and mass conserved. */\n"
           "export function merge(a: Body, b: Body): Body {\n  return a.mass >= b.mass ? a : b;\n}\n"}, br=coll),
        C(22, "11:45", "priya", "ci: dependabot for npm, cargo and actions",
          {".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n"
           "    schedule: { interval: weekly }\n  - package-ecosystem: cargo\n    directory: /\n"
           "    schedule: { interval: weekly }\n  - package-ecosystem: github-actions\n    directory: /\n"
           "    schedule: { interval: weekly }\n"}),
        C(22, "15:20", "tomasz", "engine-rs: merge bodies that collide",
          {rs + "collision.rs": "/// Perfectly inelastic merge, as in engine-ts/src/collision.ts.\n"
           "pub fn merge(a: &Body, b: &Body) -> Body {\n    todo!()\n}\n"}, br=coll),
        M(23, "08:55", coll, "maren"),
        C(23, "10:40", "tomasz", "engine-rs: property tests for collision merging",
          {"engine-rs/tests/collision_props.rs": "use proptest::prelude::*;\n\nproptest! {\n"
           "    #![proptest_config(ProptestConfig::with_cases(100_000))]\n"
           "    #[test]\n    fn merging_conserves_momentum(seed in any::<u64>()) {\n"
           "        prop_assert!(orrery_engine::collision::check(seed));\n    }\n}\n"},
          flags={"proptest_slow": True, "collision": True}, tag="timeout"),
        C(23, "14:10", "priya", "engine-ts: collision tests for grazing encounters",
          {"engine-ts/test/collision.test.ts": "import { describe, it } from \"@jest/globals\";\n\n"
           "describe(\"collision\", () => {\n  it.todo(\"grazing encounters\");\n});\n"}),
        C(23, "17:35", "tomasz", "engine-rs: cap proptest cases at 256 in CI",
          {"engine-rs/tests/collision_props.rs": "use proptest::prelude::*;\n\nproptest! {\n"
           "    #![proptest_config(ProptestConfig::with_cases(256))]\n"
           "    #[test]\n    fn merging_conserves_momentum(seed in any::<u64>()) {\n"
           "        prop_assert!(orrery_engine::collision::check(seed));\n    }\n}\n"},
          flags={"proptest_slow": False}, tag="timeout_fix"),
        B(24, "10:00", feat, "maren"),
        C(24, "10:30", "maren", "engine-ts: adaptive timestep controller (Richardson estimate)",
          {ts + "adaptive.ts": "/** Step doubling: compare one step of h with two of h/2. */\n"
           "export function nextDt(err: number, dt: number, tol: number): number {\n"
           "  return dt * Math.min(2, Math.max(0.2, 0.9 * Math.pow(tol / err, 1 / 3)));\n}\n"}, br=feat),
        C(25, "12:10", "maren", "engine-rs: adaptive step controller",
          {rs + "adaptive.rs": "/// Port of engine-ts/src/adaptive.ts.\npub fn next_dt(err: f64, dt: f64, tol: f64) -> f64 {\n"
           "    dt * (0.9 * (tol / err).cbrt()).clamp(0.2, 2.0)\n}\n"},
          br=feat, flags={"adaptive_broken": True}, tag="feature_fail"),
        C(26, "09:00", "jonah", "bench: warm up the wasm module before timing",
          {"tools/warmup.mjs": "// run 1000 steps before the clock starts: the first calls compile\n"}),
        C(26, "11:20", "priya", "engine-rs: reuse the quadtree allocation between steps",
          {rs + "quadtree.rs": _add("// nodes Vec is cleared, not dropped, between steps\n")}),
        C(26, "15:45", "maren", "engine-rs: clamp adaptive dt to [min_dt, max_dt]",
          {rs + "adaptive.rs": _add("pub const MIN_DT: f64 = 1.0e-4;\npub const MAX_DT: f64 = 1.0;\n")},
          br=feat, flags={"adaptive_broken": False}),
        C(27, "09:50", "maren", "build: fat LTO and one codegen unit for wasm release",
          {"Cargo.toml": cargo_fat}, flags={"fat_lto": True}, tag="oom"),
        C(27, "12:30", "jonah", "docs: release checklist",
          {"docs/release.md": "# Releasing\n\n1. parity green on main\n2. bench within 5% of baseline\n"
           "3. tag vX.Y.Z, CI publishes the wasm package\n"}),
        C(27, "17:05", "tomasz", "build: thin LTO for the wasm release profile\n\n"
          "Fat LTO with one codegen unit needs more than the 7 GB of a hosted\n"
          "runner: build-wasm was OOM-killed (exit 137) three times in a row.",
          {"Cargo.toml": cargo_thin}, flags={"fat_lto": False}, tag="oom_fix"),
        B(28, "08:40", docs, "priya", 25, "Docs site with the parity dashboard"),
        C(28, "09:00", "priya", "docs: mkdocs site skeleton",
          {"mkdocs.yml": "site_name: orrery\nnav:\n  - index.md\n  - parity.md\n  - scenarios.md\n"}, br=docs),
        C(28, "14:30", "priya", "docs: embed the latest parity plot",
          {"docs/index.md": "# orrery\n\n![parity](https://tidewater.github.io/orrery/parity.svg)\n"}, br=docs),
        M(29, "10:00", docs, "maren"),
        C(29, "11:00", "maren", "engine-ts: adaptive step for close encounters only",
          {ts + "adaptive.ts": _add("export const CLOSE_ENCOUNTER_AU = 0.01;\n")}, br=feat),
        C(29, "13:45", "jonah", "engine-ts: reuse scratch vectors in the force loop",
          {ts + "forces.ts": _add("// scratch vectors are allocated once per step\n")}),
        B(30, "08:20", eslint, "jonah", 27, "lint: migrate to the eslint flat config"),
        C(30, "08:35", "jonah", "lint: migrate to eslint.config.js flat config",
          {"eslint.config.js": "import js from \"@eslint/js\";\n\nexport default [js.configs.recommended];\n"},
          br=eslint),
        C(30, "15:25", "jonah", "lint: ignore engine-rs/pkg in eslint",
          {"eslint.config.js": _add("export const ignores = [\"engine-rs/pkg/**\"];\n")}, br=eslint),
        M(31, "10:05", eslint, "tomasz"),
        C(32, "09:38", "priya", "engine-rs: reserve body vectors up front",
          {rs + "body.rs": _add("\npub fn with_capacity(n: usize) -> Vec<Body> {\n    Vec::with_capacity(n)\n}\n")},
          tag="in_progress"),
    ]


# --- building the repository with the git CLI -------------------------------------------

class Git:
    def __init__(self, repo, home):
        self.repo = repo
        self.base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,                       # empty: no user config can leak in
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "TZ": "UTC",
        }

    def __call__(self, *args, who=None, t=None, committer=None):
        env = dict(self.base_env)
        if who is not None:
            _login, name, mail, off, _uid = AUTHORS[who]
            date = "%d %s%02d%02d" % (t, "+" if off >= 0 else "-", abs(off) // 60, abs(off) % 60)
            env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=mail, GIT_AUTHOR_DATE=date,
                       GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=mail, GIT_COMMITTER_DATE=date)
            if committer == "github":
                env.update(GIT_COMMITTER_NAME="GitHub", GIT_COMMITTER_EMAIL="noreply@github.com",
                           GIT_COMMITTER_DATE="%d +0000" % t)
        else:
            # commands that write reflogs still need a stable identity and date
            env.update(GIT_COMMITTER_NAME="orrery", GIT_COMMITTER_EMAIL="orrery@tidewater.dev",
                       GIT_COMMITTER_DATE="%d +0000" % (t or T0))
        cmd = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
               "-c", "core.autocrlf=false", "-c", "user.useConfigOnly=false",
               "-c", "gc.auto=0", "-C", self.repo] + list(args)
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise SystemExit("demo-gen: git %s failed: %s" % (" ".join(args),
                                                             p.stderr.decode(errors="replace")))
        return p.stdout.decode().strip()


def build_repo(outdir):
    """Writes OUTDIR/repo; returns (commits by sha, ordered list, branch table)."""
    repo = os.path.join(outdir, "repo")
    os.makedirs(repo)
    home = tempfile.mkdtemp(prefix="demo-gen-home-")
    try:
        git = Git(repo, home)
        git("init", "-q")
        branches = {"main": {"files": {}, "flags": {}, "changes": {}, "paths": set(),
                             "pr": None, "title": None, "who": None, "base": None, "commits": []}}
        cur = "main"
        commits, order = {}, []

        def checkout(name, t):
            nonlocal cur
            if cur != name:
                git("checkout", "-q", name, t=t)
                cur = name

        def record(sha, ev, br, kind, paths):
            b = branches[br]
            c = {"sha": sha, "t": ev["t"], "who": ev["who"], "kind": kind, "branch": br,
                 "msg": ev.get("msg"), "flags": dict(b["flags"]), "paths": sorted(paths),
                 "tag": ev.get("tag"), "pr": b["pr"]}
            commits[sha] = c
            order.append(c)
            b["commits"].append(sha)
            return c

        for ev in history():
            if ev["kind"] == "B":
                checkout("main", ev["t"])
                git("branch", ev["name"], t=ev["t"])
                m = branches["main"]
                branches[ev["name"]] = {"files": dict(m["files"]), "flags": dict(m["flags"]),
                                        "changes": {}, "paths": set(), "pr": ev["pr"],
                                        "title": ev["title"], "who": ev["who"],
                                        "base": m["commits"][-1], "commits": [], "t": ev["t"]}
            elif ev["kind"] == "C":
                br = ev["br"]
                checkout(br, ev["t"])
                b = branches[br]
                for path, content in ev["edits"].items():
                    if isinstance(content, tuple):
                        content = b["files"][path] + content[1]
                    b["files"][path] = content
                    write_bytes(os.path.join(repo, path), content.encode())
                b["flags"].update(ev["flags"])
                b["changes"].update(ev["flags"])
                b["paths"].update(ev["edits"])
                git("add", "-A", t=ev["t"])
                git("commit", "-q", "-m", ev["msg"], who=ev["who"], t=ev["t"])
                record(git("rev-parse", "HEAD", t=ev["t"]), ev, br, "commit", ev["edits"])
            else:
                name = ev["name"]
                pb = branches[name]
                checkout("main", ev["t"])
                msg = "Merge pull request #%d from %s/%s\n\n%s" % (pb["pr"], OWNER, name, pb["title"])
                git("merge", "--no-ff", "-q", "-m", msg, name, who=ev["who"], t=ev["t"],
                    committer="github")
                m = branches["main"]
                for path in pb["paths"]:
                    m["files"][path] = pb["files"][path]
                m["flags"].update(pb["changes"])
                ev = dict(ev, msg=msg)
                c = record(git("rev-parse", "HEAD", t=ev["t"]), ev, "main", "merge", pb["paths"])
                c["merged_pr"] = pb["pr"]
                c["merged_branch"] = name
                pb["merge_sha"] = c["sha"]
        checkout("main", SNAPSHOT)
        for name, b in branches.items():
            if b["pr"] is not None:
                git("branch", "-q", "-D", name, t=SNAPSHOT)   # deleted after merge, as on GitHub
        git("remote", "add", "origin", HTML + ".git", t=SNAPSHOT)
        trees = git("log", "--all", "--format=%H %T", t=SNAPSHOT).split("\n")
        for line in trees:
            sha, tree = line.split()
            commits[sha]["tree"] = tree
        # the working tree must be what the dicts say (merges are checked here)
        for path, content in branches["main"]["files"].items():
            with open(os.path.join(repo, path), encoding="utf-8") as f:
                if f.read() != content:
                    raise SystemExit("demo-gen: internal error: %s differs after merges" % path)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return commits, order, branches


# --- job logs -------------------------------------------------------------------------
# A job is simulated step by step: each step body writes lines through JobLog,
# which keeps the runner's clock (100 ns ticks) and cuts the job short when a
# deadline (timeout, cancellation, the snapshot of an in-progress run) passes.

ESC = "\x1b"
CYAN = ESC + "[36;1m"
RST = ESC + "[0m"


class Cut(Exception):
    pass


class JobLog:
    def __init__(self, start, rng, deadline=None):
        self.t = int(start * TICK)
        self.rng = rng
        self.recs = []          # [ticks or None, text]; None = continuation line
        self.deadline = int(deadline * TICK) if deadline is not None else None
        self.cut = False

    def _advance(self, ticks):
        t = self.t + max(1000, int(ticks))
        if self.deadline is not None and t >= self.deadline:
            self.t = self.deadline
            self.cut = True
            raise Cut()
        self.t = t

    def line(self, text="", gap=None):
        if gap is None:
            gap = self.rng.randint(2000, 40000)          # 0.2 .. 4 ms
        else:
            gap = gap * TICK
        self._advance(gap)
        self.recs.append([self.t, text])

    def lines(self, texts, gap=None):
        for x in texts:
            self.line(x, gap)

    def cont(self, text):
        self.recs.append([None, text])

    def wait(self, sec):
        self._advance(sec * TICK)

    def now(self):
        return self.t / TICK

    def group(self, title, body=()):
        self.line("##[group]" + title)
        for x in body:
            self.line(x)
        self.line("##[endgroup]")

    def run_header(self, script, env=None):
        """What the runner prints for a `run:` step."""
        first = script.split("\n")[0]
        self.line("##[group]Run " + first)
        for s in script.split("\n"):
            self.line(CYAN + s + RST)
        self.line("shell: /usr/bin/bash -e {0}")
        if env:
            self.line("env:")
            for k, v in env:
                self.line("  %s: %s" % (k, v))
        self.line("##[endgroup]")

    def uses_header(self, action, inputs=(), env=None):
        self.line("##[group]Run " + action)
        if inputs:
            self.line("with:")
            for k, v in inputs:
                if "\n" in v:
                    # a multi-line input is one record: its later lines carry
                    # no timestamp of their own
                    first, *rest = v.split("\n")
                    self.line("  %s: %s" % (k, first))
                    for r in rest:
                        self.cont(r)
                else:
                    self.line("  %s: %s" % (k, v))
        if env:
            self.line("env:")
            for k, v in env:
                self.line("  %s: %s" % (k, v))
        self.line("##[endgroup]")

    def fail(self, code):
        self.line("##[error]Process completed with exit code %d." % code)

    def render(self, crlf=False, bom=False, first=0, last=None):
        out = []
        for t, text in self.recs[first:last]:
            out.append(text if t is None else stamp(t) + " " + text)
        nl = "\r\n" if crlf else "\n"
        body = nl.join(out) + nl if out else ""
        return ("\ufeff" if bom else "") + body


def image_version(t):
    if t < at(12, "00:00"):
        return "20260928.1"
    if t < at(26, "00:00"):
        return "20261012.1"
    return "20261026.1"


def s_setup_job(L, ctx):
    job = ctx["job"]
    L.line("Current runner version: '%s'" % RUNNER_VERSION, gap=0.0004)
    L.line("Runner name: '%s'" % job["runner_name"])
    L.line("Machine name: '%s'" % job["machine"])
    L.group("Runner Image Provisioner", ["Hosted Compute Agent", "Version: 20260915.371",
                                         "Commit: 3f1d0e8b2c5a4d6e9f7a1b2c3d4e5f6a7b8c9d0e",
                                         "Build Date: 2026-09-15T19:02:41Z",
                                         "Worker ID: {%s}" % uuid_of(ctx["run_id"], job["name"])])
    L.group("Operating System", ["Ubuntu", "24.04.3", "LTS"])
    v = image_version(ctx["created"])
    L.group("Runner Image", ["Image: ubuntu-24.04", "Version: " + v,
                             "Included Software: https://github.com/actions/runner-images/blob/"
                             "ubuntu24/%s/images/ubuntu/Ubuntu2404-Readme.md" % v,
                             "Image Release: https://github.com/actions/runner-images/releases/"
                             "tag/ubuntu24%%2F%s" % v])
    L.group("GITHUB_TOKEN Permissions", ["Contents: read", "Metadata: read"])
    L.line("Secret source: Actions")
    L.line("Prepare workflow directory")
    L.line("Prepare all required actions", gap=0.3)
    L.line("Getting action download info")
    L.wait(0.2)
    for a in job["actions"]:
        L.line("Download action repository '%s' (SHA:%s)" % (a, ACTION_SHAS[a]),
               gap=L.rng.uniform(0.1, 0.5))
    L.line("Complete job name: " + job["name"], gap=0.05)
    return "success"


def s_checkout(L, ctx):
    sha = ctx["sha"]
    pr = ctx.get("pr")
    L.uses_header("actions/checkout@v4", [
        ("repository", SLUG), ("token", "***"), ("ssh-strict", "true"), ("ssh-user", "git"),
        ("persist-credentials", "true"), ("clean", "true"), ("sparse-checkout-cone-mode", "true"),
        ("fetch-depth", "1"), ("fetch-tags", "false"), ("show-progress", "true"), ("lfs", "false"),
        ("submodules", "false"), ("set-safe-directory", "true")])
    L.line("Syncing repository: " + SLUG, gap=0.4)
    L.group("Getting Git version info", ["Working directory is '%s'" % WORK,
                                         "[command]/usr/bin/git version", "git version 2.51.0"])
    L.line("Temporarily overriding HOME='/home/runner/work/_temp/%s' before making global git "
           "config changes" % uuid_of(ctx["run_id"], ctx["job"]["name"], "home"))
    L.line("Adding repository directory to the temporary git global config as a safe directory")
    L.line("[command]/usr/bin/git config --global --add safe.directory " + WORK)
    L.line("Deleting the contents of '%s'" % WORK)
    L.group("Initializing the repository", [
        "[command]/usr/bin/git init " + WORK,
        "hint: Using 'master' as the name for the initial branch. This default branch name",
        "hint: is subject to change. To configure the initial branch name to use in all",
        "hint: of your new repositories, which will suppress this warning, call:",
        "hint:", "hint: \tgit config --global init.defaultBranch <name>", "hint:",
        "hint: Names commonly chosen instead of 'master' are 'main', 'trunk' and",
        "hint: 'development'. The just-created branch can be renamed via this command:",
        "hint:", "hint: \tgit branch -m <name>",
        "Initialized empty Git repository in %s/.git/" % WORK,
        "[command]/usr/bin/git remote add origin " + HTML])
    L.group("Disabling automatic garbage collection", ["[command]/usr/bin/git config --local gc.auto 0"])
    L.group("Setting up auth", [
        "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
        "[command]/usr/bin/git submodule foreach --recursive sh -c \"git config --local --name-only "
        "--get-regexp 'core\\.sshCommand' && git config --local --unset-all 'core.sshCommand' || :\"",
        "[command]/usr/bin/git config --local --name-only --get-regexp http\\.https\\:\\/\\/github\\.com\\/\\.extraheader",
        "[command]/usr/bin/git submodule foreach --recursive sh -c \"git config --local --name-only "
        "--get-regexp 'http\\.https\\:\\/\\/github\\.com\\/\\.extraheader' && git config --local "
        "--unset-all 'http.https://github.com/.extraheader' || :\"",
        "[command]/usr/bin/git config --local http.https://github.com/.extraheader AUTHORIZATION: basic ***"])
    if pr:
        ref, local = "refs/pull/%d/merge" % pr["number"], "refs/remotes/pull/%d/merge" % pr["number"]
        merge_sha = hexid("prmerge", sha)
    else:
        ref, local = "refs/heads/" + ctx["branch"], "refs/remotes/origin/" + ctx["branch"]
        merge_sha = sha
    L.line("##[group]Fetching the repository")
    L.line("[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules "
           "--depth=1 origin +%s:%s" % (merge_sha, local))
    L.wait(L.rng.uniform(0.4, 1.2))
    L.line("From https://github.com/" + SLUG)
    L.line(" * [new ref]         %s -> %s" % (merge_sha, local[len("refs/remotes/"):]))
    L.line("##[endgroup]")
    L.group("Determining the checkout info", [])
    L.line("[command]/usr/bin/git sparse-checkout disable")
    L.line("[command]/usr/bin/git config --local --unset-all extensions.worktreeConfig")
    L.line("##[group]Checking out the ref")
    if pr:
        L.line("[command]/usr/bin/git checkout --progress --force " + local)
        L.line("Note: switching to '%s'." % local)
        L.line("")
        L.line("You are in 'detached HEAD' state. You can look around, make experimental")
        L.line("changes and commit them, and you can discard any commits you make in this")
        L.line("state without impacting any branches by switching back to a branch.")
        L.line("")
        L.line("HEAD is now at %s Merge %s into %s" % (merge_sha[:7], sha, pr["base_sha"]))
    else:
        L.line("[command]/usr/bin/git checkout --progress --force -B %s %s" % (ctx["branch"], local))
        L.line("Switched to a new branch '%s'" % ctx["branch"])
        L.line("branch '%s' set up to track 'origin/%s'." % (ctx["branch"], ctx["branch"]))
    L.line("##[endgroup]")
    L.line("[command]/usr/bin/git log -1 --format=%H")
    L.line(merge_sha)
    return "success"


def s_post_checkout(L, ctx):
    L.line("Post job cleanup.", gap=0.02)
    L.lines(["[command]/usr/bin/git version", "git version 2.51.0",
             "Temporarily overriding HOME='/home/runner/work/_temp/%s' before making global git "
             "config changes" % uuid_of(ctx["run_id"], ctx["job"]["name"], "posthome"),
             "Adding repository directory to the temporary git global config as a safe directory",
             "[command]/usr/bin/git config --global --add safe.directory " + WORK,
             "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
             "[command]/usr/bin/git config --local --name-only --get-regexp "
             "http\\.https\\:\\/\\/github\\.com\\/\\.extraheader",
             "http.https://github.com/.extraheader",
             "[command]/usr/bin/git config --local --unset-all http.https://github.com/.extraheader"])
    return "success"


def s_complete(L, ctx):
    L.line("Cleaning up orphan processes", gap=0.2)
    if L.rng.random() < 0.3:
        L.line("Terminate orphan process: pid (%d) (node)" % L.rng.randint(1900, 2600))
    return "success"


# --- node steps: setup-node, npm ci, lint, jest -------------------------------------------

NODE_VER = "20.18.0"

TS_SUITES = [
    ("vec3", None, ["adds componentwise", "subtracts componentwise", "scales by a scalar",
                    "has a dot product", "dot product is commutative", "zero vector is the identity",
                    "keeps negative zero", "serialises to JSON"]),
    ("body", None, ["requires a positive mass", "copies position and velocity",
                    "fixed bodies have zero velocity", "round-trips through JSON"]),
    ("quadtree", None, ["puts one body in the root", "splits a full node into four",
                        "sums node masses", "computes the centre of mass",
                        "opens close nodes (theta 0.5)", "treats far nodes as one mass",
                        "matches direct summation for theta 0", "handles coincident bodies",
                        "handles an empty body list", "is deterministic across builds",
                        "bounds the tree depth", "ignores massless bodies"]),
    ("integrator", None, ["advances positions", "keeps fixed bodies in place", "is time-reversible",
                          "conserves energy", "reports the step count"]),
    ("energy", None, ["kinetic energy of a single body", "potential energy is negative",
                      "is symmetric in body order", "is finite for softened close pairs",
                      "matches the two-body closed form"]),
    ("scenarios", None, ["loads the solar-system scenario", "rejects bodies without mass",
                         "parses scientific notation", "keeps body order", "two-body is circular"]),
    ("options", None, ["defaults dt to one hour", "rejects negative softening",
                       "rejects NaN softening", "accepts theta in [0, 1]"]),
    ("ledger", "ledger", ["records one row per step", "sums to the total energy",
                          "exports CSV with a header"]),
    ("collision", "collision", ["merges bodies closer than the sum of radii",
                                "conserves momentum when merging", "keeps the heavier name"]),
]


def ts_tests(flags):
    out = []
    for suite, flag, names in TS_SUITES:
        if flag and not flags.get(flag):
            continue
        out.append((suite, "engine-ts/test/%s.test.ts" % suite, names))
    return out


def s_setup_node(L, ctx):
    L.uses_header("actions/setup-node@v4", [("node-version", "20"), ("cache", "npm"),
                                           ("always-auth", "false"), ("check-latest", "false"),
                                           ("token", "***")])
    L.line("Found in cache @ /opt/hostedtoolcache/node/%s/x64" % NODE_VER, gap=0.08)
    L.group("Environment details", ["node: v" + NODE_VER, "npm: 10.8.2", "yarn: 1.22.22"])
    L.line("[command]/opt/hostedtoolcache/node/%s/x64/bin/npm config get cache" % NODE_VER)
    L.line("/home/runner/.npm", gap=0.3)
    key = hexid("npm-cache", ctx["flags"].get("lockfile", 0), n=64)
    size = 48213551 + (len(ctx["tests_ts"]) * 1711)
    L.wait(0.4)
    L.line("Cache hit for: node-cache-Linux-x64-npm-" + key)
    got = 0
    while got < size:
        got = min(size, got + L.rng.randint(14, 34) * 1048576)
        L.line("Received %d of %d (%.1f%%), %.1f MBs/sec" % (got, size, got * 100.0 / size,
                                                            L.rng.uniform(24, 60)), gap=L.rng.uniform(0.5, 1.0))
    L.line("Cache Size: ~%d MB (%d B)" % (size // 1048576, size))
    L.line("[command]/usr/bin/tar -xf /home/runner/work/_temp/%s/cache.tzst -P -C %s "
           "--use-compress-program unzstd" % (uuid_of(ctx["run_id"], ctx["job"]["name"], "npm"), WORK))
    L.wait(0.8)
    L.line("Cache restored successfully")
    L.line("Cache restored from key: node-cache-Linux-x64-npm-" + key)
    return "success"


def s_post_setup_node(L, ctx):
    L.line("Post job cleanup.", gap=0.02)
    L.line("Cache hit occurred on the primary key node-cache-Linux-x64-npm-%s, not saving cache."
           % hexid("npm-cache", ctx["flags"].get("lockfile", 0), n=64))
    return "success"


NPM_DEPRECATED = [
    "inflight@1.0.6: This module is not supported, and leaks memory. Do not use it. Check out "
    "lru-cache if you want a good and tested way to coalesce async requests by a key value, "
    "which is much more comprehensive and powerful.",
    "glob@7.2.3: Glob versions prior to v9 are no longer supported",
]


def s_npm_ci(L, ctx):
    L.run_header("npm ci")
    if ctx["scenario"].get("econnreset") and ctx["job"]["name"] == "test-ts":
        L.wait(L.rng.uniform(20, 40))
        L.line("npm ERR! code ECONNRESET")
        L.line("npm ERR! network aborted")
        L.line("npm ERR! network This is a problem related to network connectivity.")
        L.line("npm ERR! network In most cases you are behind a proxy or have bad network settings.")
        L.line("npm ERR! network")
        L.line("npm ERR! network If you are behind a proxy, please make sure that the")
        L.line("npm ERR! network 'proxy' config is set properly.  See: 'npm help config'")
        L.line("")
        L.line("npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/"
               "%s-debug-0.log" % time.strftime("%Y-%m-%dT%H_%M_%S_412Z", time.gmtime(int(L.now()))))
        L.fail(1)
        return "failure"
    L.wait(L.rng.uniform(5, 9))
    for d in NPM_DEPRECATED:
        L.line("npm warn deprecated " + d, gap=L.rng.uniform(0.2, 0.9))
    L.wait(L.rng.uniform(3, 6))
    L.line("")
    n = 412 + len(ctx["tests_ts"])
    L.line("added %d packages, and audited %d packages in %ds" % (n, n + 1, L.rng.randint(7, 12)))
    L.line("")
    L.line("87 packages are looking for funding")
    L.line("  run `npm fund` for details")
    L.line("")
    L.line("found %s0%s vulnerabilities" % (ESC + "[32m" + ESC + "[1m", ESC + "[22m" + ESC + "[39m"))
    return "success"


def s_npm_lint(L, ctx):
    L.run_header("npm run lint")
    L.line("")
    L.line("> orrery@0.4.0 lint")
    L.line("> eslint engine-ts tools && prettier --check engine-ts")
    L.line("")
    L.wait(L.rng.uniform(4, 8))
    L.line("")
    L.line(ESC + "[4m/home/runner/work/orrery/orrery/engine-ts/src/quadtree.ts" + RST)
    L.line("  %s41:9%s  %swarning%s  'depth' is assigned a value but never used  %s@typescript-eslint/"
           "no-unused-vars%s" % (ESC + "[2m", ESC + "[22m", ESC + "[33m", ESC + "[39m", ESC + "[2m", ESC + "[22m"))
    L.line("")
    L.line(ESC + "[33m" + ESC + "[1m✖ 1 problem (0 errors, 1 warning)" + ESC + "[22m" + ESC + "[39m")
    L.line(ESC + "[33m" + ESC + "[1m" + ESC + "[22m" + ESC + "[39m")
    L.line("Checking formatting...", gap=0.5)
    L.wait(L.rng.uniform(1, 2))
    L.line("All matched files use Prettier code style!")
    return "success"


def s_cargo_fmt(L, ctx):
    L.run_header("cargo fmt --all --check")
    L.wait(L.rng.uniform(0.5, 1.5))
    L.line("info: syncing channel updates for 'stable-x86_64-unknown-linux-gnu'", gap=0.1)
    L.line("info: component 'rustfmt' for target 'x86_64-unknown-linux-gnu' is up to date")
    return "success"


def jest_ms(rng, name):
    return 41 if name == "conserves energy" else rng.choice([1, 1, 2, 2, 3, 4, 6, 9, 14, 27])


def s_npm_test(L, ctx):
    L.run_header("npm test")
    L.line("")
    L.line("> orrery@0.4.0 test")
    L.line("> jest --ci --verbose")
    L.line("")
    L.wait(L.rng.uniform(2, 4))
    bad = ctx["flags"].get("jest_bad")
    suites = list(ctx["tests_ts"])
    L.rng.shuffle(suites)
    results = []            # (suite, file, name, ms, failed) for the JUnit report
    n_fail = 0
    t_start = L.now()
    for suite, path, names in suites:
        failed_here = bool(bad) and suite == "integrator"
        lab = (ESC + "[0m" + ESC + "[7m" + ESC + "[1m" + (ESC + "[31m FAIL " if failed_here else ESC + "[32m PASS ")
               + ESC + "[39m" + ESC + "[22m" + ESC + "[27m" + ESC + "[0m")
        L.line("%s %sengine-ts/test/%s%s%s%s.test.ts%s" % (lab, ESC + "[2m", ESC + "[22m", ESC + "[1m", suite,
                                                           "", ESC + "[22m"), gap=L.rng.uniform(0.2, 1.2))
        L.line("  " + suite)
        for name in names:
            ms = jest_ms(L.rng, name)
            fail = failed_here and name == "conserves energy"
            mark = ESC + "[31m✕" if fail else ESC + "[32m✓"
            L.line("    %s%s %s%s (%d ms)%s" % (mark, ESC + "[39m", ESC + "[2m", name, ms, ESC + "[22m"))
            results.append((suite, path, name, ms, fail))
            n_fail += fail
        if failed_here:
            L.line("")
            for x in JEST_FAILURE:
                L.line(x)
        L.line("")
    total = len(results)
    ns = len(suites)
    elapsed = L.now() - t_start + 1.7
    B, R, G, X = ESC + "[1m", ESC + "[31m", ESC + "[32m", ESC + "[39m" + ESC + "[22m"
    if n_fail:
        L.line("%sTest Suites: %s%s%s1 failed%s, %s%s%d passed%s, %d total" % (B, ESC + "[22m", B, R, X, B, G, ns - 1, X, ns))
        L.line("%sTests:       %s%s%s%d failed%s, %s%s%d passed%s, %d total" % (B, ESC + "[22m", B, R, n_fail, X, B, G, total - n_fail, X, total))
    else:
        L.line("%sTest Suites: %s%s%s%d passed%s, %d total" % (B, ESC + "[22m", B, G, ns, X, ns))
        L.line("%sTests:       %s%s%s%d passed%s, %d total" % (B, ESC + "[22m", B, G, total, X, total))
    L.line("%sSnapshots:   %s0 total" % (B, ESC + "[22m"))
    L.line("%sTime:%s        %.3f s" % (B, ESC + "[22m", elapsed))
    L.line(ESC + "[2mRan all test suites" + ESC + "[22m" + ESC + "[2m." + ESC + "[22m")
    ctx["junit_ts"] = {"results": results, "elapsed": elapsed, "t": t_start}
    if n_fail:
        L.fail(1)
        return "failure"
    return "success"


JEST_TOL_LINE = "    expect(Math.abs(e1 - e0)).toBeLessThan(tol);"
JEST_FAILURE = [
    ESC + "[1m" + ESC + "[31m  " + ESC + "[1m● " + ESC + "[22m" + ESC + "[1mintegrator › conserves energy"
    + ESC + "[39m" + ESC + "[22m",
    "",
    "    " + ESC + "[2mexpect(" + ESC + "[22m" + ESC + "[31mreceived" + ESC + "[39m" + ESC + "[2m)." + ESC
    + "[22mtoBeLessThan" + ESC + "[2m(" + ESC + "[22m" + ESC + "[32mexpected" + ESC + "[39m" + ESC + "[2m)"
    + ESC + "[22m",
    "",
    "    Expected: < " + ESC + "[32m1e-9" + ESC + "[39m",
    "    Received:   " + ESC + "[31m4.127371029e-7" + ESC + "[39m",
    "",
    "    " + ESC + "[0m " + ESC + "[90m 40 |" + ESC + "[39m     " + "const e1 = totalEnergy(sim.bodies);",
    "     " + ESC + "[90m 41 |" + ESC + "[39m",
    "    " + ESC + "[31m" + ESC + "[1m>" + ESC + "[22m" + ESC + "[39m" + ESC + "[90m 42 |" + ESC + "[39m " + JEST_TOL_LINE,
    "     " + ESC + "[90m    |" + ESC + "[39m " + " " * 30 + ESC + "[31m" + ESC + "[1m^" + ESC + "[22m" + ESC + "[39m",
    "     " + ESC + "[90m 43 |" + ESC + "[39m   });",
    "     " + ESC + "[90m 44 |" + ESC + "[39m",
    "     " + ESC + "[90m 45 |" + ESC + "[39m   it(\"reports the step count\", () => {" + ESC + "[0m",
    "",
    "      at Object.<anonymous> (engine-ts/test/integrator.test.ts:42:31)",
]


# --- rust steps: toolchain, cache, nextest, wasm-pack -------------------------------------

RUSTC = "rustc 1.91.0 (f8297e351 2026-10-28)"
ENGINE = "orrery-engine v0.4.0 (%s/engine-rs)" % WORK

ENGINE_DEPS = ("unicode-ident v1.0.13|proc-macro2 v1.0.89|once_cell v1.20.2|bumpalo v3.16.0|"
               "log v0.4.22|cfg-if v1.0.0|wasm-bindgen-shared v0.2.93|autocfg v1.4.0|libc v0.2.161|"
               "quote v1.0.37|syn v2.0.85|serde v1.0.210|num-traits v0.2.19|wasm-bindgen-backend v0.2.93|"
               "serde_derive v1.0.210|wasm-bindgen-macro-support v0.2.93|wasm-bindgen-macro v0.2.93|"
               "wasm-bindgen v0.2.93|js-sys v0.3.70|serde-wasm-bindgen v0.6.5|approx v0.5.1|"
               "bitflags v2.6.0|zerocopy v0.7.35|ppv-lite86 v0.2.20|getrandom v0.2.15|rand_core v0.6.4|"
               "rand_chacha v0.3.1|rand v0.8.5|rand_xorshift v0.3.0|regex-syntax v0.8.5|fastrand v2.1.1|"
               "linux-raw-sys v0.4.14|rustix v0.38.37|tempfile v3.13.0|lazy_static v1.5.0|bit-vec v0.6.3|"
               "bit-set v0.5.3|quick-error v1.2.3|fnv v1.0.7|wait-timeout v0.2.0|unarray v0.1.4|"
               "rusty-fork v0.3.0|proptest v1.5.0").split("|")

WASM_PACK_DEPS = ("memchr v2.7.4|libc v0.2.161|cfg-if v1.0.0|itoa v1.0.11|serde v1.0.210|ryu v1.0.18|"
                  "proc-macro2 v1.0.89|unicode-ident v1.0.13|quote v1.0.37|syn v2.0.85|serde_derive v1.0.210|"
                  "serde_json v1.0.132|autocfg v1.4.0|log v0.4.22|bitflags v2.6.0|once_cell v1.20.2|"
                  "pin-project-lite v0.2.14|bytes v1.7.2|smallvec v1.13.2|stable_deref_trait v1.2.0|"
                  "writeable v0.5.5|litemap v0.7.3|icu_locid_transform_data v1.5.0|icu_properties_data v1.5.0|"
                  "icu_normalizer_data v1.5.0|utf16_iter v1.0.5|utf8_iter v1.0.4|write16 v1.0.0|"
                  "percent-encoding v2.3.1|form_urlencoded v1.2.1|synstructure v0.13.1|zerofrom-derive v0.1.4|"
                  "yoke-derive v0.7.4|zerovec-derive v0.10.3|displaydoc v0.2.5|icu_provider_macros v1.5.0|"
                  "zerofrom v0.1.4|yoke v0.7.4|zerovec v0.10.4|tinystr v0.7.6|icu_locid v1.5.0|"
                  "icu_provider v1.5.0|icu_locid_transform v1.5.0|icu_collections v1.5.0|icu_properties v1.5.1|"
                  "icu_normalizer v1.5.0|idna_adapter v1.2.0|idna v1.0.3|url v2.5.2|rustix v0.38.37|"
                  "linux-raw-sys v0.4.14|errno v0.3.9|fastrand v2.1.1|tempfile v3.13.0|crc32fast v1.4.2|"
                  "adler2 v2.0.0|miniz_oxide v0.8.0|flate2 v1.0.34|filetime v0.2.25|xattr v1.3.1|"
                  "tar v0.4.42|either v1.13.0|home v0.5.9|which v6.0.3|utf8parse v0.2.2|anstyle-parse v0.2.6|"
                  "anstyle v1.0.9|anstyle-query v1.1.2|colorchoice v1.0.3|is_terminal_polyfill v1.70.1|"
                  "anstream v0.6.17|strsim v0.11.1|heck v0.5.0|clap_lex v0.7.2|clap_builder v4.5.20|"
                  "clap_derive v4.5.18|clap v4.5.20|thiserror-impl v1.0.65|thiserror v1.0.65|anyhow v1.0.91|"
                  "semver v1.0.23|camino v1.1.9|cargo-platform v0.1.8|cargo_metadata v0.18.1|"
                  "hashbrown v0.15.0|equivalent v1.0.1|indexmap v2.6.0|toml_datetime v0.6.8|"
                  "serde_spanned v0.6.8|winnow v0.6.20|toml_edit v0.22.22|toml v0.8.19|"
                  "console v0.15.8|unicode-width v0.1.14|dialoguer v0.11.0|env_logger v0.11.5|"
                  "glob v0.3.1|path-clean v1.0.1|siphasher v1.0.1|base64 v0.22.1|ring v0.17.8|"
                  "untrusted v0.9.0|spin v0.9.8|rustls-pki-types v1.10.0|webpki-roots v0.26.6|"
                  "rustls-webpki v0.102.8|subtle v2.6.1|zeroize v1.8.1|rustls v0.23.15|ureq v2.10.1|"
                  "binary-install v0.4.1|human-panic v2.0.2|parking_lot_core v0.9.10|scopeguard v1.2.0|"
                  "lock_api v0.4.12|parking_lot v0.12.3|walkdir v2.5.0|same-file v1.0.6|wasm-pack v0.13.1").split("|")

RS_TESTS = [
    ("vec3::tests", None, ["add_is_componentwise", "sub_is_componentwise", "mul_scales", "dot_product",
                           "dot_is_commutative", "mul_add_matches_two_roundings_for_exact_inputs",
                           "is_finite_rejects_nan", "zero_is_identity"]),
    ("body::tests", None, ["at_has_zero_velocity", "fixed_is_fixed", "mass_must_be_positive"]),
    ("quadtree::tests", None, ["single_body_root", "splits_full_node", "node_mass_is_sum",
                               "centre_of_mass", "theta_zero_is_direct_sum", "far_nodes_collapse",
                               "coincident_bodies", "empty_input", "deterministic_build",
                               "depth_is_bounded", "inv_dist3_zero_distance",
                               "matches_engine_ts_fixture"]),
    ("integrator::tests", None, ["fixed_bodies_do_not_move", "advances_positions", "time_reversible",
                                 "energy_error_is_bounded", "step_count", "half_kick_rounding_once"]),
    ("energy::tests", None, ["kinetic_single_body", "potential_is_negative", "symmetric_in_order",
                             "two_body_closed_form"]),
    ("wasm::tests", None, ["simulation_runs", "bodies_round_trip_through_js_value"]),
    ("ledger::tests", "ledger", ["one_row_per_step", "rows_sum_to_total", "csv_header"]),
    ("history::tests", "mem_history", ["records_every_frame", "replay_reproduces_positions"]),
    ("collision::tests", "collision", ["merge_conserves_mass", "merge_conserves_momentum",
                                       "heavier_keeps_name"]),
    ("adaptive::tests", "adaptive_broken", ["shrinks_on_large_error", "grows_on_small_error",
                                            "respects_min_dt", "respects_max_dt"]),
]


def rs_tests(flags):
    out = []
    for mod, flag, names in RS_TESTS:
        if flag and flag not in flags:
            continue
        for n in names:
            out.append(("orrery-engine", mod + "::", n))
    if flags.get("collision"):
        out.append(("orrery-engine::collision_props", "", "merging_conserves_momentum"))
    return out


def s_rust_toolchain(L, ctx, wasm=False):
    inputs = [("toolchain", "stable")] + ([("targets", "wasm32-unknown-unknown")] if wasm else [])
    L.uses_header("dtolnay/rust-toolchain@stable", inputs)
    L.line("##[group]Run : parse toolchain version")
    L.line(CYAN + ": parse toolchain version" + RST)
    L.line("shell: /usr/bin/bash --noprofile --norc -e -o pipefail {0}")
    L.line("##[endgroup]")
    L.line("##[group]Run rustup toolchain install stable --profile minimal --no-self-update"
           + (" --target wasm32-unknown-unknown" if wasm else ""))
    L.line("info: syncing channel updates for 'stable-x86_64-unknown-linux-gnu'", gap=0.6)
    L.line("info: latest update on 2026-10-28, rust version 1.91.0 (f8297e351 2026-10-28)")
    if wasm:
        L.line("info: downloading component 'rust-std' for 'wasm32-unknown-unknown'", gap=0.4)
        L.line("info: installing component 'rust-std' for 'wasm32-unknown-unknown'", gap=1.1)
    L.line("")
    L.line("  stable-x86_64-unknown-linux-gnu unchanged - " + RUSTC)
    L.line("")
    L.line("##[endgroup]")
    L.line("[command]/home/runner/.cargo/bin/rustc --version --verbose", gap=0.1)
    L.lines([RUSTC, "binary: rustc", "commit-hash: f8297e351a40c1439a467bbbb6879088047f50b3",
             "commit-date: 2026-10-28", "host: x86_64-unknown-linux-gnu", "release: 1.91.0",
             "LLVM version: 21.1.2"])
    return "success"


def s_cargo_cache(L, ctx):
    L.uses_header("actions/cache@v4", [
        ("path", "~/.cargo/registry/index/\n~/.cargo/registry/cache/\ntarget/\n"),
        ("key", "cargo-Linux-" + hexid("lock", ctx["sha"][:2], n=64)),
        ("enableCrossOsArchive", "false"), ("fail-on-cache-miss", "false"), ("lookup-only", "false"),
        ("save-always", "false")])
    L.wait(L.rng.uniform(0.3, 0.9))
    key = "cargo-Linux-" + hexid("lock", ctx["sha"][:2], n=64)
    if ctx["cache_hit"]:
        size = L.rng.randint(380, 460) * 1048576 + L.rng.randint(0, 999999)
        L.line("Cache hit for: " + key)
        got = 0
        while got < size:
            got = min(size, got + L.rng.randint(60, 140) * 1048576)
            L.line("Received %d of %d (%.1f%%), %.1f MBs/sec" % (got, size, got * 100.0 / size,
                                                                L.rng.uniform(70, 140)), gap=L.rng.uniform(0.8, 1.0))
        L.line("Cache Size: ~%d MB (%d B)" % (size // 1048576, size))
        L.line("[command]/usr/bin/tar -xf /home/runner/work/_temp/%s/cache.tzst -P -C %s "
               "--use-compress-program unzstd" % (uuid_of(ctx["run_id"], "cargo"), WORK))
        L.wait(L.rng.uniform(2, 4))
        L.line("Cache restored successfully")
        L.line("Cache restored from key: " + key)
    else:
        L.line("Cache not found for input keys: " + key)
    return "success"


def s_post_cargo_cache(L, ctx):
    L.line("Post job cleanup.", gap=0.02)
    key = "cargo-Linux-" + hexid("lock", ctx["sha"][:2], n=64)
    if ctx["cache_hit"]:
        L.line("Cache hit occurred on the primary key %s, not saving cache." % key)
    elif ctx["job_failed"]:
        L.line("##[warning]Cache save failed: the job failed, not saving cache for key " + key)
    elif L.rng.random() < 0.5:
        L.line("##[warning]Failed to save: Unable to reserve cache with key %s, another job may be "
               "creating this cache." % key)
    else:
        L.line("[command]/usr/bin/tar --posix -cf cache.tzst --exclude cache.tzst -P -C %s --files-from "
               "manifest.txt --use-compress-program zstdmt" % WORK)
        L.wait(L.rng.uniform(6, 12))
        L.line("Cache Size: ~%d MB (%d B)" % (421, 441720115))
        L.line("Cache saved successfully")
        L.line("Cache saved with key: " + key)
    return "success"


def s_install_nextest(L, ctx):
    L.uses_header("taiki-e/install-action@nextest", [("tool", "nextest"), ("checksum", "true"),
                                                    ("fallback", "cargo-binstall")])
    L.line("##[group]Run bash --noprofile --norc \"${GITHUB_ACTION_PATH:?}/main.sh\"")
    L.line(CYAN + "bash --noprofile --norc \"${GITHUB_ACTION_PATH:?}/main.sh\"" + RST)
    L.line("shell: /usr/bin/bash --noprofile --norc -e -o pipefail {0}")
    L.line("##[endgroup]")
    L.line("info: host platform: x86_64_linux", gap=0.3)
    L.line("info: installing cargo-nextest@latest")
    L.line("info: downloading https://get.nexte.st/0.9.85/x86_64-unknown-linux-gnu.tar.gz", gap=0.4)
    L.line("info: verifying sha256 checksum for cargo-nextest-0.9.85-x86_64-unknown-linux-gnu.tar.gz", gap=0.9)
    L.line("info: cargo-nextest installed at /home/runner/.cargo/bin/cargo-nextest")
    L.line("+ cargo-nextest nextest --version")
    L.line("cargo-nextest 0.9.85 (a7e6bd4a5 2026-10-06)")
    return "success"


def compile_lines(L, crates, per=(0.3, 2.5), download=False):
    G = ESC + "[1m" + ESC + "[92m"
    if download:
        L.line("%s    Updating%s crates.io index" % (G, RST), gap=0.5)
        L.line("%s Downloading%s crates ..." % (G, RST), gap=L.rng.uniform(0.5, 1.5))
        for c in crates:
            if c.startswith("orrery") or c.startswith("wasm-pack"):
                continue
            L.line("%s  Downloaded%s %s" % (G, RST, c), gap=L.rng.uniform(0.01, 0.06))
    for c in crates:
        L.line("%s   Compiling%s %s" % (G, RST, c), gap=L.rng.uniform(*per))


RUSTC_ERROR = [
    ESC + "[0m" + ESC + "[1m" + ESC + "[38;5;9merror[E0308]" + ESC + "[0m" + ESC + "[0m" + ESC + "[1m: mismatched types" + ESC + "[0m",
    ESC + "[0m  " + ESC + "[0m" + ESC + "[0m" + ESC + "[1m" + ESC + "[38;5;12m--> " + ESC + "[0m" + ESC + "[0mengine-rs/src/integrator.rs:88:17" + ESC + "[0m",
    "   |",
    "88 |         kick(b, half_dt, a);",
    "   |         ----    ^^^^^^^ expected `f64`, found `f32`",
    "   |         |",
    "   |         arguments to this function are incorrect",
    "   |",
    ESC + "[0m" + ESC + "[1mnote" + ESC + "[0m: function defined here",
    "  --> engine-rs/src/integrator.rs:41:4",
    "   |",
    "41 | fn kick(b: &mut Body, h: f64, a: Vec3) {",
    "   |    ^^^^               ------",
    ESC + "[0m" + ESC + "[1m" + ESC + "[38;5;14mhelp" + ESC + "[0m: you can convert an `f32` to an `f64`",
    "   |",
    "88 |         kick(b, half_dt.into(), a);",
    "   |                        +++++++",
    "",
    ESC + "[0m" + ESC + "[1mFor more information about this error, try `rustc --explain E0308`." + ESC + "[0m",
    ESC + "[1m" + ESC + "[91merror" + ESC + "[0m" + ESC + "[1m:" + ESC + "[0m could not compile `orrery-engine` (lib) due to 1 previous error",
]


def rustc_error(L):
    L.wait(L.rng.uniform(1.5, 3))
    for x in RUSTC_ERROR:
        L.line(x, gap=0.0007)


def nextest_name(binary, mod, name):
    return "%s%s%s %s%s%s%s%s" % (ESC + "[35;1m", binary, RST, ESC + "[36m", mod, RST,
                                  ESC + "[34;1m" + name, RST)


def s_nextest(L, ctx):
    L.run_header("cargo nextest run --workspace --profile ci", env=[("CARGO_TERM_COLOR", "always")])
    flags = ctx["flags"]
    full = not ctx["cache_hit"]
    t_build = L.now()
    compile_lines(L, ENGINE_DEPS if full else [], per=(0.5, 3.0), download=full)
    L.line("%s   Compiling%s %s" % (ESC + "[1m" + ESC + "[92m", RST, ENGINE), gap=L.rng.uniform(0.5, 2))
    L.wait(L.rng.uniform(40, 80) if full else L.rng.uniform(25, 55))
    if flags.get("simd_broken"):
        rustc_error(L)
        L.line("%serror%s: command `/home/runner/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo "
               "test --no-run --message-format json-render-diagnostics --workspace` exited with code 101"
               % (ESC + "[31;1m", RST))
        L.fail(101)
        return "failure"
    L.line("%s    Finished%s `test` profile [unoptimized + debuginfo] target(s) in %.2fs"
           % (ESC + "[1m" + ESC + "[92m", RST, L.now() - t_build))
    tests = ctx["tests_rs"]
    L.line("%s────────────%s" % (ESC + "[2m", RST))
    L.line("%s Nextest run%s ID %s%s%s with nextest profile: %sci%s"
           % (ESC + "[32;1m", RST, ESC + "[34;1m", uuid_of(ctx["run_id"], ctx["attempt"], "nextest"), RST,
              ESC + "[1m", RST))
    nbin = 2 if flags.get("collision") else 1
    L.line("%s    Starting%s %s%d%s tests across %s%d%s binar%s" % (ESC + "[32;1m", RST, ESC + "[1m", len(tests), RST,
                                                                     ESC + "[1m", nbin, RST, "ies" if nbin > 1 else "y"))
    results = []
    t_start = L.now()
    slow = flags.get("proptest_slow")
    order = list(tests)
    L.rng.shuffle(order)
    if slow:
        order = [x for x in order if x[2] != "merging_conserves_momentum"] + [x for x in order if x[2] == "merging_conserves_momentum"]
    n_fail = 0
    for binary, mod, name in order:
        if slow and name == "merging_conserves_momentum":
            # never finishes: nextest reports it as slow every 60 s until the
            # job's timeout-minutes kills it (Cut is raised by the deadline)
            k = 1
            while True:
                L.wait(60)
                L.line("%s        SLOW%s [>%4d.000s] %s" % (ESC + "[33;1m", RST, 60 * k, nextest_name(binary, mod, name)))
                k += 1
        dur = L.rng.choice([0.003, 0.004, 0.006, 0.011, 0.018, 0.032, 0.071, 0.140])
        if name == "merging_conserves_momentum":
            dur = L.rng.uniform(38, 52)
        L.wait(dur * 0.6)
        fail = flags.get("adaptive_broken") is True and name == "respects_min_dt"
        n_fail += fail
        lab = ESC + "[31;1m        FAIL" if fail else ESC + "[32;1m        PASS"
        L.line("%s%s [%8.3fs] %s" % (lab, RST, dur, nextest_name(binary, mod, name)))
        results.append((binary, mod, name, dur, fail))
        if fail:
            for x in ADAPTIVE_FAILURE:
                L.line(x)
    elapsed = L.now() - t_start
    L.line("%s────────────%s" % (ESC + "[2m", RST))
    if n_fail:
        L.line("%s     Summary%s [%8.3fs] %s%d%s tests run: %s%d passed%s, %s%d failed%s, %s0 skipped%s"
               % (ESC + "[31;1m", RST, elapsed, ESC + "[1m", len(results), RST, ESC + "[32;1m", len(results) - n_fail,
                  RST, ESC + "[31;1m", n_fail, RST, ESC + "[33;1m", RST))
        for binary, mod, name, dur, fail in results:
            if fail:
                L.line("%s        FAIL%s [%8.3fs] %s" % (ESC + "[31;1m", RST, dur, nextest_name(binary, mod, name)))
        L.line("%serror%s: test run failed" % (ESC + "[31;1m", RST))
    else:
        L.line("%s     Summary%s [%8.3fs] %s%d%s tests run: %s%d passed%s, %s0 skipped%s"
               % (ESC + "[32;1m", RST, elapsed, ESC + "[1m", len(results), RST, ESC + "[32;1m", len(results), RST,
                  ESC + "[33;1m", RST))
    ctx["junit_rust"] = {"results": results, "elapsed": elapsed, "t": t_start}
    if n_fail:
        L.fail(100)
        return "failure"
    return "success"


ADAPTIVE_FAILURE = [
    ESC + "[35;1m──── STDOUT:" + RST + "             orrery-engine adaptive::tests::respects_min_dt",
    "",
    "running 1 test",
    "test adaptive::tests::respects_min_dt ... FAILED",
    "",
    "failures:",
    "",
    "failures:",
    "    adaptive::tests::respects_min_dt",
    "",
    "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 41 filtered out; finished in 0.00s",
    "",
    ESC + "[35;1m──── STDERR:" + RST + "             orrery-engine adaptive::tests::respects_min_dt",
    "thread 'adaptive::tests::respects_min_dt' panicked at engine-rs/src/adaptive.rs:4:5:",
    "assertion failed: next_dt(1.0e3, 1.0e-4, 1.0e-9) >= MIN_DT",
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
    "",
]


def s_install_wasm_pack(L, ctx):
    L.run_header("cargo install wasm-pack --locked --version 0.13.1", env=[("CARGO_TERM_COLOR", "always")])
    G = ESC + "[1m" + ESC + "[92m"
    L.line("%s    Updating%s crates.io index" % (G, RST), gap=0.6)
    L.line("%s Downloading%s crates ..." % (G, RST), gap=0.4)
    L.line("%s  Downloaded%s wasm-pack v0.13.1" % (G, RST), gap=0.3)
    L.line("%s  Installing%s wasm-pack v0.13.1" % (G, RST))
    t_inst = L.now()
    L.line("%s    Updating%s crates.io index" % (G, RST), gap=0.5)
    compile_lines(L, WASM_PACK_DEPS[:-1], per=(0.3, 1.3), download=True)
    L.line("%s   Compiling%s wasm-pack v0.13.1" % (G, RST), gap=0.5)
    L.wait(L.rng.uniform(10, 20))
    L.line("%s    Finished%s `release` profile [optimized] target(s) in %.2fs" % (G, RST, L.now() - t_inst))
    L.line("%s  Installing%s /home/runner/.cargo/bin/wasm-pack" % (G, RST))
    L.line("%s   Installed%s package `wasm-pack v0.13.1` (executable `wasm-pack`)" % (G, RST))
    return "success"


def s_wasm_pack(L, ctx, script, release=True, cancel_ok=False):
    L.run_header(script, env=[("CARGO_TERM_COLOR", "always")])
    flags = ctx["flags"]
    L.line("[INFO]: 🎯  Checking for the Wasm target...", gap=0.4)
    L.line("[INFO]: 🌀  Compiling to Wasm...", gap=0.3)
    G = ESC + "[1m" + ESC + "[92m"
    deps = [d for d in ENGINE_DEPS if d.split()[0] not in ("approx", "proptest") and not d.startswith("r")]
    compile_lines(L, deps, per=(0.2, 1.4) if release else (0.1, 0.6), download=True)
    L.line("%s   Compiling%s %s" % (G, RST, ENGINE), gap=0.3)
    if flags.get("simd_broken"):
        rustc_error(L)
        L.line("Error: Compiling your crate to WebAssembly failed")
        L.line("Caused by: Compiling your crate to WebAssembly failed")
        L.line("Caused by: failed to execute `cargo build`: exited with exit status: 101")
        L.line("  full command: cd \"engine-rs\" && \"cargo\" \"build\" \"--lib\" %s\"--target\" \"wasm32-unknown-unknown\""
               % ('"--release" ' if release else ""))
        L.fail(1)
        return "failure"
    if release and flags.get("fat_lto"):
        # fat LTO with one codegen unit: rustc's resident set grows until the
        # kernel's OOM killer takes it (and wasm-pack with it)
        L.wait(L.rng.uniform(140, 200))
        L.line("%s: line 1: %5d Killed                  %s" % (
            "/home/runner/work/_temp/%s.sh" % uuid_of(ctx["run_id"], ctx["attempt"], "oom"),
            L.rng.randint(2300, 2900), script))
        L.fail(137)
        return "failure"
    L.wait(L.rng.uniform(25, 45) if release else L.rng.uniform(8, 15))
    prof = "`release` profile [optimized]" if release else "`dev` profile [unoptimized + debuginfo]"
    L.line("%s    Finished%s %s target(s) in %.2fs" % (G, RST, prof, L.rng.uniform(40, 60) if release else L.rng.uniform(14, 24)))
    L.line("[INFO]: ⬇️  Installing wasm-bindgen...", gap=0.6)
    if release:
        L.line("[INFO]: Optimizing wasm binaries with `wasm-opt`...", gap=1.5)
        L.wait(L.rng.uniform(3, 6))
    L.line("[INFO]: Optional fields missing from Cargo.toml: 'description', 'repository', and 'license'. "
           "These are not necessary, but recommended")
    L.line("[INFO]: ✨   Done in %.2fs" % L.rng.uniform(45, 70))
    L.line("[INFO]: 📦   Your wasm pkg is ready to publish at %s/engine-rs/pkg." % WORK)
    return "success"


def wasm_size_kb(flags, t):
    kb = 178.0
    if t > at(12, "10:05"):
        kb += 3.4
    if t > at(16, "10:20"):
        kb += 1.8
    if t > at(27, "17:05"):
        kb -= 6.1
    return kb


def s_ls_pkg(L, ctx):
    L.run_header("ls -l engine-rs/pkg")
    kb = wasm_size_kb(ctx["flags"], ctx["created"])
    d = time.strftime("%b %d %H:%M", time.gmtime(int(L.now())))
    L.line("total %d" % (int(kb) + 24))
    L.line("-rw-r--r-- 1 runner docker     1 %s .gitignore" % d)
    L.line("-rw-r--r-- 1 runner docker   371 %s package.json" % d)
    L.line("-rw-r--r-- 1 runner docker  2218 %s orrery_engine.d.ts" % d)
    L.line("-rw-r--r-- 1 runner docker 11734 %s orrery_engine.js" % d)
    L.line("-rw-r--r-- 1 runner docker %d %s orrery_engine_bg.wasm" % (int(kb * 1024), d))
    L.line("-rw-r--r-- 1 runner docker   812 %s orrery_engine_bg.wasm.d.ts" % d)
    return "success"


# --- parity, bench, artifacts ----------------------------------------------------------------

PARITY_TOL = {"atol": 1e-12, "rtol": 1e-9}


def parity_data(sha, flags):
    """1000 steps of engine-ts (ref) vs engine-rs (cand).  With the FMA commit
    in the tree the candidate's energy drifts past tolerance from about step
    600 (the exact step depends on the commit, it is the same on re-runs)."""
    rng = sub_rng("parity", sha)
    d0 = 600 + int(sha[:6], 16) % 57 if flags.get("fma") else None
    rows = []
    mx = {"pos_x": 0.0, "pos_y": 0.0, "energy": 0.0, "resources": 0.0}
    first_bad = None
    for s in range(1, 1001):
        ang = 0.3 + 0.01720209895 * s / 24.0
        x = 0.98329134 * math.cos(ang) - 0.0167 * math.cos(3 * ang) * 1e-3
        y = 0.98329134 * math.sin(ang) * 1.00014
        e_ref = -1.688743012e-4 * (1.0 + 2.1e-10 * math.sin(s / 37.0))
        tol = PARITY_TOL["atol"] + PARITY_TOL["rtol"] * abs(e_ref)
        dx = x * rng.gauss(0, 1.1e-16)
        dy = y * rng.gauss(0, 1.1e-16)
        de = rng.gauss(0, 2.5e-20)
        if d0 is not None:
            if s < d0:
                de += tol * 0.93 * (s / d0) ** 9
            else:
                de += tol * (1.04 + 0.0047 * (s - d0) ** 1.5)
                dx += x * 2.1e-15 * (s - d0)
                dy -= y * 1.7e-15 * (s - d0)
        x_c, y_c, e_c = x + dx, y + dy, e_ref + de
        r_ref = 5120 + (s * 37) % 1400
        r_cand = 1088 + (int(s * 0.9) if flags.get("mem_history") else 0)
        if first_bad is None and abs(e_c - e_ref) > tol:
            first_bad = (s, abs(e_c - e_ref), tol)
        mx["pos_x"] = max(mx["pos_x"], abs(x_c - x))
        mx["pos_y"] = max(mx["pos_y"], abs(y_c - y))
        mx["energy"] = max(mx["energy"], abs(e_c - e_ref))
        mx["resources"] = max(mx["resources"], abs(r_cand - r_ref))
        rows.append((s, x, x_c, y, y_c, e_ref, e_c, r_ref, r_cand))
    csv = ["step,pos_x_ref,pos_x_cand,pos_y_ref,pos_y_cand,energy_ref,energy_cand,resources_ref,resources_cand"]
    for r in rows:
        csv.append("%d,%.15g,%.15g,%.15g,%.15g,%.15g,%.15g,%d,%d" % r)
    summary = {"steps": 1000, "scenario": "solar-system-9",
               "max_abs_delta": {k: float("%.6g" % v) for k, v in mx.items()},
               "tolerance": dict(PARITY_TOL), "passed": first_bad is None}
    if first_bad:
        summary["first_divergence"] = {"step": first_bad[0], "metric": "energy",
                                       "abs_delta": float("%.6g" % first_bad[1])}
    return {"rows": rows, "csv": "\n".join(csv) + "\n", "summary": summary, "first_bad": first_bad}


def s_parity(L, ctx):
    L.run_header("node tools/parity.mjs --steps 1000 --out parity")
    p = parity_data(ctx["sha"], ctx["flags"])
    ctx["parity"] = p
    L.wait(L.rng.uniform(1.0, 2.0))
    L.line("parity: engine-ts 0.4.0 (reference) vs engine-rs 0.4.0 (wasm32, dev)")
    L.line("parity: scenario solar-system-9: 9 bodies, dt=1/24 day, softening 1e-6 AU, theta 0.5")
    L.line("parity: tolerance atol=%g rtol=%g" % (PARITY_TOL["atol"], PARITY_TOL["rtol"]))
    for r in p["rows"]:
        s, x, xc, y, yc, e, ec = r[:7]
        tol = PARITY_TOL["atol"] + PARITY_TOL["rtol"] * abs(e)
        ok = abs(ec - e) <= tol
        mark = (ESC + "[32mok" + RST) if ok else (ESC + "[31mDIVERGED" + RST)
        L.line("step %04d  |dx|=%.2e  |dy|=%.2e  |dE|=%.3e  %s" % (s, abs(xc - x), abs(yc - y), abs(ec - e), mark),
               gap=L.rng.uniform(0.01, 0.04))
    m = p["summary"]["max_abs_delta"]
    L.line("parity: max |delta|: pos_x=%.3e pos_y=%.3e energy=%.3e" % (m["pos_x"], m["pos_y"], m["energy"]))
    L.line("parity: wrote parity/parity.csv (1000 rows) and parity/summary.json")
    if p["first_bad"]:
        s, d, tol = p["first_bad"]
        L.line("parity: energy diverged at step %d: |\u0394|=%.3e > tol %.3e" % (s, d, tol))
        L.line("##[error]parity check failed")
        L.fail(1)
        return "failure"
    L.line("parity: %s1000/1000 steps within tolerance%s" % (ESC + "[32m", RST))
    return "success"


def bench_data(ctx):
    rng = sub_rng("bench", ctx["created"], ctx["attempt"])
    flags = ctx["flags"]
    rss = rng.gauss(212.4, 1.6) * (1.41 if flags.get("mem_history") else 1.0)
    d = {"startup_ms": round(rng.gauss(37.2, 1.1), 1),
         "memory": {"peak_rss_mb": round(rss, 1)},
         "throughput": {"steps_per_sec": round(rng.gauss(41200, 650))}}
    kb = round(wasm_size_kb(flags, ctx["created"]) + rng.uniform(-0.2, 0.2), 1)
    if flags.get("bench_key_missing"):
        d["wasm"] = {"size_kb": kb}
    else:
        d["wasm_size_kb"] = kb
    d["commit"] = ctx["sha"]
    d["node"] = "v" + NODE_VER
    return d


def s_bench(L, ctx):
    L.run_header("node tools/bench.mjs")
    b = bench_data(ctx)
    ctx["bench"] = b
    L.wait(L.rng.uniform(0.5, 1.0))
    L.line("bench: wasm module instantiated in %.1f ms" % b["startup_ms"])
    L.line("bench: warmup 1000 steps", gap=0.1)
    L.wait(0.3)
    rate = b["throughput"]["steps_per_sec"]
    rss = b["memory"]["peak_rss_mb"]
    for i in range(1, 201):
        r = rate * L.rng.uniform(0.97, 1.03)
        rs = rss * min(1.0, 0.55 + 0.45 * i / 60.0) * L.rng.uniform(0.995, 1.0)
        L.line("bench: batch %03d/200  1000 steps  %6.2f ms  %6.0f steps/s  rss %6.1f MB"
               % (i, 1000.0 / r * 1000, r, rs), gap=1000.0 / r)
    L.line("bench: %d steps/s (median of 200 batches), peak rss %.1f MB" % (rate, rss))
    L.line("bench: wrote bench/bench.json")
    return "success"


def traceback_lines():
    src = bench_report_py().split("\n")
    n_call = next(i for i, l in enumerate(src) if "sys.exit(main(sys.argv[1:]))" in l) + 1
    n_key = next(i for i, l in enumerate(src) if 'fmt_kb(report["wasm_size_kb"])' in l) + 1
    n_main = next(i for i, l in enumerate(src) if l.startswith("def main(")) + 1
    path = WORK + "/tools/bench_report.py"
    l1 = "    sys.exit(main(sys.argv[1:]))"
    l2 = "    " + src[n_key - 1].strip()
    i2 = l2.index('report["wasm_size_kb"]')
    return ["Traceback (most recent call last):",
            '  File "%s", line %d, in <module>' % (path, n_call),
            l1,
            " " * l1.index("main(") + "^" * len("main(sys.argv[1:])"),
            '  File "%s", line %d, in main' % (path, n_key),
            l2,
            " " * i2 + "~" * len("report") + "^" * len('["wasm_size_kb"]'),
            "KeyError: 'wasm_size_kb'"], n_main


def s_bench_report(L, ctx):
    L.run_header('python3 tools/bench_report.py bench/bench.json >> "$GITHUB_STEP_SUMMARY"')
    L.wait(L.rng.uniform(0.05, 0.2))
    if "wasm_size_kb" not in ctx["bench"]:
        for x in traceback_lines()[0]:
            L.line(x, gap=0.0003)
        L.fail(1)
        return "failure"
    return "success"


# --- JUnit reports and uploads ---------------------------------------------------------------

def xml_esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


JEST_STACK = ("Error: expect(received).toBeLessThan(expected)\n\nExpected: < 1e-9\nReceived:   4.127371029e-7\n"
              "    at Object.<anonymous> (%s/engine-ts/test/integrator.test.ts:42:31)\n"
              "    at Promise.then.completed (%s/node_modules/jest-circus/build/utils.js:298:28)\n"
              "    at new Promise (<anonymous>)\n"
              "    at callAsyncCircusFn (%s/node_modules/jest-circus/build/utils.js:231:10)\n"
              "    at _callCircusTest (%s/node_modules/jest-circus/build/run.js:316:40)\n"
              "    at processTicksAndRejections (node:internal/process/task_queues:95:5)" % ((WORK,) * 4))


def junit_ts(j):
    results = j["results"]
    fails = sum(1 for r in results if r[4])
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="jest tests" tests="%d" failures="%d" errors="0" time="%.3f">'
           % (len(results), fails, j["elapsed"])]
    suites = []
    for r in results:
        if not suites or suites[-1][0] != r[1]:
            suites.append((r[1], []))
        suites[-1][1].append(r)
    t = j["t"]
    for path, rs in suites:
        sf = sum(1 for r in rs if r[4])
        dur = sum(r[3] for r in rs) / 1000.0 + 0.35
        out.append('  <testsuite name="%s" errors="0" failures="%d" skipped="0" timestamp="%s" time="%.3f" tests="%d">'
                   % (path, sf, iso(t)[:-1], dur, len(rs)))
        t += dur
        for suite, _p, name, ms, fail in rs:
            out.append('    <testcase classname="%s" name="%s" time="%.3f">' % (xml_esc(suite), xml_esc(name), ms / 1000.0))
            if fail:
                out.append("      <failure>%s</failure>" % xml_esc(JEST_STACK))
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return ("\n".join(out) + "\n").encode()


ADAPTIVE_PANIC = ("thread 'adaptive::tests::respects_min_dt' panicked at engine-rs/src/adaptive.rs:4:5:\n"
                  "assertion failed: next_dt(1.0e3, 1.0e-4, 1.0e-9) >= MIN_DT\n"
                  "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")


def nextest_ts(t):
    s = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03d+00:00" % int((t - s) * 1000)


def junit_rust(j, run_uuid):
    results = j["results"]
    fails = sum(1 for r in results if r[4])
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="nextest-run" tests="%d" failures="%d" errors="0" uuid="%s" timestamp="%s" time="%.3f">'
           % (len(results), fails, run_uuid, nextest_ts(j["t"]), j["elapsed"])]
    bins = []
    for r in sorted(results, key=lambda r: (r[0], r[1], r[2])):
        if not bins or bins[-1][0] != r[0]:
            bins.append((r[0], []))
        bins[-1][1].append(r)
    t = j["t"]
    for binary, rs in bins:
        bf = sum(1 for r in rs if r[4])
        out.append('    <testsuite name="%s" tests="%d" disabled="0" errors="0" failures="%d">' % (binary, len(rs), bf))
        for _b, mod, name, dur, fail in rs:
            full = mod + name
            out.append('        <testcase name="%s" classname="%s" timestamp="%s" time="%.3f">'
                       % (full, binary, nextest_ts(t), dur))
            t += 0.001
            if fail:
                out.append('            <failure type="test failure">%s</failure>' % xml_esc(ADAPTIVE_PANIC))
                out.append("            <system-out>\nrunning 1 test\ntest %s ... FAILED\n\nfailures:\n\nfailures:\n"
                           "    %s\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 41 filtered out; "
                           "finished in 0.00s\n\n</system-out>" % (full, full))
                out.append("            <system-err>%s\n</system-err>" % xml_esc(ADAPTIVE_PANIC))
            else:
                out.append("            <system-out>\nrunning 1 test\ntest %s ... ok\n\ntest result: ok. 1 passed; "
                           "0 failed; 0 ignored; 0 measured; 41 filtered out; finished in %.2fs\n\n</system-out>"
                           % (full, dur))
                out.append("            <system-err></system-err>")
            out.append("        </testcase>")
        out.append("    </testsuite>")
    out.append("</testsuites>")
    return ("\n".join(out) + "\n").encode()


def artifact_files(name, ctx):
    """What the upload step finds on disk, or None ("No files were found")."""
    if name == "junit-ts":
        return {"junit-ts.xml": junit_ts(ctx["junit_ts"])} if "junit_ts" in ctx else None
    if name == "junit-rust":
        if "junit_rust" not in ctx:
            return None
        return {"junit.xml": junit_rust(ctx["junit_rust"], uuid_of(ctx["run_id"], ctx["attempt"], "nextest"))}
    if name == "parity":
        if "parity" not in ctx:
            return None
        p = ctx["parity"]
        return {"parity.csv": p["csv"].encode(),
                "summary.json": (json.dumps(p["summary"], indent=2) + "\n").encode()}
    if name == "bench":
        if "bench" not in ctx:
            return None
        return {"bench.json": (json.dumps(ctx["bench"], indent=2) + "\n").encode()}
    raise KeyError(name)


def zip_bytes(entries, date_time, level=6):
    """A deterministic zip: fixed entry times, no extra fields."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=date_time)
            zi.create_system = 0
            if name.endswith("/"):
                zi.compress_type = zipfile.ZIP_STORED
                z.writestr(zi, b"")
            else:
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data, compresslevel=level)
    return bio.getvalue()


def zip_time(t):
    g = time.gmtime(int(t))
    return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec - g.tm_sec % 2)


ARTIFACT_PATHS = {"junit-ts": "reports/junit-ts.xml", "junit-rust": "target/nextest/ci/junit.xml",
                  "parity": "parity/", "bench": "bench/bench.json"}


def s_upload(L, ctx, name):
    path = ARTIFACT_PATHS[name]
    L.uses_header("actions/upload-artifact@v4", [("name", name), ("path", path), ("if-no-files-found", "warn"),
                                                ("compression-level", "6"), ("overwrite", "false"),
                                                ("include-hidden-files", "false")])
    files = artifact_files(name, ctx)
    if files is None:
        L.line("##[warning]No files were found with the provided path: %s. No artifacts will be uploaded." % path,
               gap=0.3)
        return "success"
    data = zip_bytes(sorted(files.items()), zip_time(L.now()))
    art_id = 2_110_000_000 + (int(L.now()) - T0) * 3 + len(ctx["artifacts"])
    ctx["artifacts"][name] = {"id": art_id, "files": files, "zip": data, "t": L.now()}
    L.line("With the provided path, there will be %d file%s uploaded" % (len(files), "s" if len(files) > 1 else ""),
           gap=0.3)
    L.line("Artifact name is valid!")
    L.line("Root directory input is valid!")
    L.line("Beginning upload of artifact content to blob storage", gap=0.2)
    L.line("Uploaded bytes %d" % len(data), gap=0.4)
    L.line("Finished uploading artifact content to blob storage!")
    L.line("SHA256 hash of uploaded artifact zip is " + hashlib.sha256(data).hexdigest())
    L.line("Finalizing artifact upload")
    L.line("Artifact %s.zip successfully finalized. Artifact ID %d" % (name, art_id), gap=0.2)
    L.line("Artifact %s has been successfully uploaded! Final size is %d bytes. Artifact ID is %d"
           % (name, len(data), art_id))
    L.line("Artifact download URL: %s/actions/runs/%d/artifacts/%d" % (HTML, ctx["run_id"], art_id))
    return "success"


# --- jobs -------------------------------------------------------------------------------------

def _st(name, fn, kind="main", post_of=None):
    return {"name": name, "fn": fn, "kind": kind, "post_of": post_of}


def job_specs(workflow, flags):
    """[(job name, steps, actions downloaded in 'Set up job')] of one workflow."""
    co = _st("Run actions/checkout@v4", s_checkout)
    sn = _st("Run actions/setup-node@v4", s_setup_node)
    tc = _st("Run dtolnay/rust-toolchain@stable", s_rust_toolchain)
    tcw = _st("Run dtolnay/rust-toolchain@stable", lambda L, c: s_rust_toolchain(L, c, wasm=True))
    npm = _st("Run npm ci", s_npm_ci)
    setup = _st("Set up job", s_setup_job, "setup")
    post_sn = _st("Post Run actions/setup-node@v4", s_post_setup_node, "post", sn)
    post_co = _st("Post Run actions/checkout@v4", s_post_checkout, "post", co)
    done = _st("Complete job", s_complete, "complete")
    node_acts = ["actions/checkout@v4", "actions/setup-node@v4"]
    if workflow == "ci":
        jobs = [("lint", [setup, co, sn, npm, _st("Run npm run lint", s_npm_lint),
                          _st("Run cargo fmt --all --check", s_cargo_fmt), post_sn, post_co, done], node_acts),
                ("test-ts", [setup, co, sn, npm, _st("Run npm test", s_npm_test),
                             _st("Run actions/upload-artifact@v4", lambda L, c: s_upload(L, c, "junit-ts"), "always"),
                             post_sn, post_co, done], node_acts + ["actions/upload-artifact@v4"])]
        rust = [setup, co, tc]
        acts = ["actions/checkout@v4", "dtolnay/rust-toolchain@stable"]
        cache = None
        if flags.get("cache"):
            cache = _st("Run actions/cache@v4", s_cargo_cache)
            rust.append(cache)
            acts.append("actions/cache@v4")
        rust += [_st("Run taiki-e/install-action@nextest", s_install_nextest),
                 _st("Run cargo nextest run --workspace --profile ci", s_nextest),
                 _st("Run actions/upload-artifact@v4", lambda L, c: s_upload(L, c, "junit-rust"), "always")]
        if cache:
            rust.append(_st("Post Run actions/cache@v4", s_post_cargo_cache, "post", cache))
        rust += [post_co, done]
        jobs.append(("test-rust", rust, acts + ["taiki-e/install-action@nextest", "actions/upload-artifact@v4"]))
        jobs.append(("build-wasm", [setup, co, tcw,
                                    _st("Run cargo install wasm-pack --locked --version 0.13.1", s_install_wasm_pack),
                                    _st("Run wasm-pack build engine-rs --release --target web",
                                        lambda L, c: s_wasm_pack(L, c, "wasm-pack build engine-rs --release --target web")),
                                    _st("Run ls -l engine-rs/pkg", s_ls_pkg), post_co, done],
                     ["actions/checkout@v4", "dtolnay/rust-toolchain@stable"]))
        return jobs
    acts = node_acts + ["dtolnay/rust-toolchain@stable", "actions/upload-artifact@v4"]
    if workflow == "parity":
        return [("parity", [setup, co, sn, tcw, npm,
                            _st("Run npx wasm-pack build engine-rs --dev --target nodejs",
                                lambda L, c: s_wasm_pack(L, c, "npx wasm-pack build engine-rs --dev --target nodejs",
                                                         release=False)),
                            _st("Run node tools/parity.mjs --steps 1000 --out parity", s_parity),
                            _st("Run actions/upload-artifact@v4", lambda L, c: s_upload(L, c, "parity"), "always"),
                            post_sn, post_co, done], acts)]
    return [("bench", [setup, co, sn, tcw, npm,
                       _st("Run npx wasm-pack build engine-rs --release --target nodejs",
                           lambda L, c: s_wasm_pack(L, c, "npx wasm-pack build engine-rs --release --target nodejs")),
                       _st("Run node tools/bench.mjs", s_bench),
                       _st('Run python3 tools/bench_report.py bench/bench.json >> "$GITHUB_STEP_SUMMARY"',
                           s_bench_report),
                       _st("Run actions/upload-artifact@v4", lambda L, c: s_upload(L, c, "bench"), "always"),
                       post_sn, post_co, done], acts)]


def simulate_job(name, steps, ctx, start, deadlines):
    """Runs one job's steps.  deadlines: [(time, kind)], kind in timeout,
    cancel, snapshot.  Returns the job's log and its step records."""
    rng = sub_rng("job", ctx["run_id"], ctx["attempt"], name)
    dl = min(deadlines) if deadlines else None
    L = JobLog(start, rng, dl[0] if dl else None)
    ctx["job_failed"] = False
    n_main = sum(1 for s in steps if s["kind"] != "post" and s["kind"] != "complete")
    post_no = n_main + 1 + sum(1 for s in steps if s["kind"] == "post")
    recs = []
    ran = set()
    state = None        # None, "failed", or the deadline kind that cut the job
    number = 0
    for st in steps:
        if st["kind"] == "post":
            if id(st["post_of"]) not in ran:
                continue
            post_no += 1
            no = post_no
        elif st["kind"] == "complete":
            no = post_no + 1
        else:
            number += 1
            no = number
        rec = {"number": no, "name": st["name"], "first": len(L.recs)}
        if state == "snapshot":
            rec.update(status="pending", conclusion=None, t0=None, t1=None)
            recs.append(rec)
            continue
        if st["kind"] == "main" and state is not None:
            rec.update(status="completed", conclusion="skipped", t0=L.now(), t1=L.now())
            rec["last"] = rec["first"]
            recs.append(rec)
            continue
        t0 = L.now()
        try:
            if recs:
                L.wait(rng.uniform(0.05, 0.6))
                t0 = L.now()
            concl = st["fn"](L, ctx)
        except Cut:
            kind = dl[1]
            if kind == "snapshot":
                rec.update(status="in_progress", conclusion=None, t0=t0, t1=None, last=len(L.recs))
                recs.append(rec)
                state = "snapshot"
                continue
            L.deadline = None
            if kind == "timeout":
                L.line("##[error]The job running on runner %s has exceeded the maximum execution time of "
                       "30 minutes." % ctx["job"]["runner_name"], gap=0.002)
            L.line("##[error]The operation was canceled.", gap=0.003)
            concl = "cancelled"
            state = kind
        if concl == "failure" and state is None:
            state = "failed"
            ctx["job_failed"] = True
        ran.add(id(st))
        rec.update(status="completed", conclusion=concl, t0=t0, t1=L.now(), last=len(L.recs))
        recs.append(rec)
    if state == "snapshot":
        status, concl, end = "in_progress", None, None
    else:
        status, end = "completed", L.now()
        concl = {"cancel": "cancelled", "timeout": "failure", "failed": "failure", None: "success"}[state]
    return {"name": name, "log": L, "steps": recs, "status": status, "conclusion": concl,
            "start": start, "end": end}


def sanitize_entry(name):
    """What GitHub does to job and step names inside the log archive."""
    out = "".join(ch for ch in name if ch not in '/:"<>|*?\\' and ord(ch) >= 32)
    return out[:90].rstrip()


# --- which runs exist ------------------------------------------------------------------------

WF_ORDER = {"ci": 0, "parity": 1, "bench": 2}


def parity_triggered(paths):
    return any(p == pre or p.startswith(pre) for p in paths for pre in PARITY_PATHS)


def plan_runs(commits, order, branches):
    mains = [c for c in order if c["branch"] == "main"]

    def main_head(t):
        return [c for c in mains if c["t"] <= t][-1]

    runs = []
    pr_paths = {}

    def add(wf, c, created, event, branch, actor, title, pr=None):
        runs.append({"wf": wf, "commit": c, "created": created, "event": event, "branch": branch,
                     "actor": actor, "title": title, "pr": pr, "flags": c["flags"]})

    for c in order:
        rng = sub_rng("push", c["sha"])
        subject = c["msg"].split("\n")[0]
        if c["branch"] == "main":
            created = c["t"] + (rng.randint(3, 8) if c["kind"] == "merge" else rng.randint(25, 300))
            if c["tag"] == "in_progress":
                created = c["t"] + 41
            add("ci", c, created, "push", "main", c["who"], subject)
            if parity_triggered(c["paths"]):
                add("parity", c, created, "push", "main", c["who"], subject)
        elif c["pr"]:
            b = branches[c["branch"]]
            created = c["t"] + rng.randint(15, 90)
            paths = pr_paths.setdefault(c["branch"], set())
            paths.update(c["paths"])
            pr = {"number": c["pr"], "branch": c["branch"], "title": b["title"],
                  "base_sha": main_head(created)["sha"]}
            add("ci", c, created, "pull_request", c["branch"], c["who"], b["title"], pr)
            if parity_triggered(paths):
                add("parity", c, created, "pull_request", c["branch"], c["who"], b["title"], pr)
        else:
            add("ci", c, c["t"] + rng.randint(20, 200), "push", c["branch"], c["who"], subject)
    for day in range(2, 33):
        rng = sub_rng("schedule", day)
        created = at(day, "03:17") + rng.randint(40, 700)
        c = main_head(created)
        add("bench", c, created, "schedule", "main", "maren", "bench")

    runs.sort(key=lambda r: (r["created"], WF_ORDER[r["wf"]]))
    numbers = {wf: WORKFLOWS[wf]["first_number"] for wf in WORKFLOWS}
    seen = set()
    for r in runs:
        r["number"] = numbers[r["wf"]]
        numbers[r["wf"]] += 1
        jitter = sub_rng("runid", r["created"], r["wf"]).randint(0, 1)
        r["id"] = 9_800_000_000 + (r["created"] - T0) * 8 + WF_ORDER[r["wf"]] * 2 + jitter
        assert r["id"] not in seen
        seen.add(r["id"])
        r["attempts"] = [{}]
        r["cancel_at"] = None
        r["snapshot"] = False

    # the planted re-runs, cancellation and the run still in progress
    def first(pred):
        return next(r for r in runs if pred(r))

    tag = lambda r: r["commit"]["tag"]
    first(lambda r: r["wf"] == "ci" and tag(r) == "flaky")["attempts"] = [{"econnreset": True}, {}]
    first(lambda r: r["wf"] == "parity" and tag(r) == "parity")["attempts"] = [{}, {}]
    first(lambda r: r["wf"] == "bench" and r["flags"].get("bench_key_missing"))["attempts"] = [{}, {}]
    first(lambda r: r["wf"] == "ci" and tag(r) == "timeout")["attempts"] = [{}, {}]
    first(lambda r: r["wf"] == "ci" and tag(r) == "oom")["attempts"] = [{}, {}, {}]
    rc = first(lambda r: r["wf"] == "ci" and tag(r) == "cancelled")
    nxt = first(lambda r: r["wf"] == "ci" and r["branch"] == rc["branch"] and r["created"] > rc["created"])
    rc["cancel_at"] = nxt["created"] + 1.3
    first(lambda r: r["wf"] == "ci" and tag(r) == "in_progress")["snapshot"] = True
    return runs


# --- simulating a run's attempts ---------------------------------------------------------------

def simulate_run(r, snapshot_box):
    c = r["commit"]
    flags = c["flags"]
    pr = r["pr"]
    results = []
    start = float(r["created"])
    for a, scen in enumerate(r["attempts"], 1):
        rng = sub_rng("attempt", r["id"], a)
        if a > 1:
            start = results[-1]["end"] + rng.uniform(300, 2400)
        start = float(int(start))
        arts = {}
        base = {"run_id": r["id"], "attempt": a, "sha": c["sha"], "branch": r["branch"], "pr": pr,
                "flags": flags, "created": r["created"], "scenario": scen, "artifacts": arts,
                "tests_ts": ts_tests(flags), "tests_rs": rs_tests(flags),
                "cache_hit": (not r["snapshot"]) and rng.random() > 0.15}
        jobs = []
        specs = job_specs(r["wf"], flags)
        for j, (name, steps, acts) in enumerate(specs):
            jstart = start + rng.uniform(2, 18)
            runner = rng.randint(1, 60)
            if flags.get("proptest_slow") and name == "test-rust":
                runner = 12
            if r["snapshot"] and name == "test-rust":
                jstart += rng.uniform(100, 130)      # waited for a runner
            ctx = dict(base)
            ctx["job"] = {"name": name, "runner_name": "GitHub Actions %d" % runner,
                          "runner_id": 1_000_000 + runner * 7919 % 100_000,
                          "machine": "runnervm" + hexid(r["id"], a, name, n=6), "actions": acts}
            dls = [(jstart + 1800, "timeout")]
            if r["cancel_at"] and a == len(r["attempts"]):
                dls.append((r["cancel_at"], "cancel"))
            res = simulate_job(name, steps, ctx, jstart, dls)
            res.update(id=27_300_000_000 + (int(start) - T0) * 16 + WF_ORDER[r["wf"]] * 5 + j,
                       ctx=ctx, created=start, spec=(steps, jstart, dls))
            jobs.append(res)
        if r["snapshot"]:
            # the set is "fetched" while test-rust still runs and every other
            # job of the run is done: cut test-rust there
            tr = [x for x in jobs if x["name"] == "test-rust"][0]
            snap = max(x["end"] for x in jobs if x is not tr) + rng.uniform(8, 25)
            if snap > tr["end"] - 20:
                raise SystemExit("demo-gen: internal error: test-rust too short for the in-progress run "
                                 "(%s)" % ", ".join("%s %.0f-%.0f" % (x["name"], x["start"] - start, x["end"] - start)
                                                    for x in jobs))
            snapshot_box.append(snap)
            steps, jstart, dls = tr.pop("spec")
            arts.pop("junit-rust", None)
            ctx = dict(base, job=tr["ctx"]["job"])
            res = simulate_job("test-rust", steps, ctx, jstart, dls + [(snap, "snapshot")])
            res.update(id=tr["id"], ctx=ctx, created=start)
            jobs[jobs.index(tr)] = res
        ends = [j["end"] for j in jobs if j["end"] is not None]
        if any(j["status"] != "completed" for j in jobs):
            status, concl = "in_progress", None
            end = max(ends)
        else:
            status = "completed"
            cs = [j["conclusion"] for j in jobs]
            if r["cancel_at"]:
                concl = "cancelled"
            elif "failure" in cs:
                concl = "failure"
            elif "cancelled" in cs:
                concl = "cancelled"
            else:
                concl = "success"
            end = max(ends)
        results.append({"attempt": a, "start": start, "end": end, "status": status, "conclusion": concl,
                        "jobs": jobs, "artifacts": arts, "updated": end + rng.uniform(1.5, 6)})
    return results


# --- run folders -------------------------------------------------------------------------------

def commit_obj(c):
    login, name, mail, off, _uid = AUTHORS[c["who"]]
    committer = ({"name": "GitHub", "email": "noreply@github.com"} if c["kind"] == "merge"
                 else {"name": name, "email": mail})
    return {"id": c["sha"], "tree_id": c["tree"], "message": c["msg"], "timestamp": iso_off(c["t"], off),
            "author": {"name": name, "email": mail}, "committer": committer}


def run_obj(r, att, n_att, snapshot):
    rid = r["id"]
    wf = WORKFLOWS[r["wf"]]
    u = "%s/actions/runs/%d" % (API, rid)
    pulls = []
    if r["pr"]:
        p = r["pr"]
        pulls.append({"url": "%s/pulls/%d" % (API, p["number"]), "id": 2_100_000_000 + p["number"] * 7717,
                      "number": p["number"],
                      "head": {"ref": p["branch"], "sha": r["commit"]["sha"],
                               "repo": {"id": REPO_ID, "url": API, "name": REPO_NAME}},
                      "base": {"ref": "main", "sha": p["base_sha"],
                               "repo": {"id": REPO_ID, "url": API, "name": REPO_NAME}}})
    a = att["attempt"]
    trig = r["actor"] if a == 1 else ("tomasz" if r["actor"] != "tomasz" else "maren")
    return {
        "id": rid, "name": r["wf"], "node_id": node_id("WFR", rid), "head_branch": r["branch"],
        "head_sha": r["commit"]["sha"], "path": wf["path"], "display_title": r["title"],
        "run_number": r["number"], "event": r["event"], "status": att["status"],
        "conclusion": att["conclusion"], "workflow_id": wf["id"],
        "check_suite_id": 31_000_000_000 + (rid - 9_800_000_000) * 3 + a,
        "check_suite_node_id": node_id("CS", 31_000_000_000 + (rid - 9_800_000_000) * 3 + a),
        "url": u, "html_url": "%s/actions/runs/%d" % (HTML, rid), "pull_requests": pulls,
        "created_at": iso(r["created"]),
        "updated_at": iso(snapshot if att["status"] != "completed" else att["updated"]),
        "actor": user_obj(r["actor"]), "run_attempt": a, "referenced_workflows": [],
        "run_started_at": iso(att["start"]), "triggering_actor": user_obj(trig),
        "jobs_url": u + "/jobs", "logs_url": u + "/logs",
        "check_suite_url": "%s/check-suites/%d" % (API, 31_000_000_000 + (rid - 9_800_000_000) * 3 + a),
        "artifacts_url": u + "/artifacts", "cancel_url": u + "/cancel", "rerun_url": u + "/rerun",
        "previous_attempt_url": (u + "/attempts/%d" % (a - 1)) if a > 1 else None,
        "workflow_url": "%s/actions/workflows/%d" % (API, wf["id"]),
        "head_commit": commit_obj(r["commit"]), "repository": repo_obj(), "head_repository": repo_obj(),
    }


def job_obj(r, att, j):
    jid = j["id"]
    jc = j["ctx"]["job"]
    steps = []
    for s in j["steps"]:
        steps.append({"name": s["name"], "status": s["status"], "conclusion": s["conclusion"],
                      "number": s["number"],
                      "started_at": iso(s["t0"]) if s["t0"] is not None else None,
                      "completed_at": iso(s["t1"]) if s["t1"] is not None else None})
    return {
        "id": jid, "run_id": r["id"], "workflow_name": r["wf"], "head_branch": r["branch"],
        "run_url": "%s/actions/runs/%d" % (API, r["id"]), "run_attempt": att["attempt"],
        "node_id": node_id("CR", jid), "head_sha": r["commit"]["sha"],
        "url": "%s/actions/jobs/%d" % (API, jid), "html_url": "%s/actions/runs/%d/job/%d" % (HTML, r["id"], jid),
        "status": j["status"], "conclusion": j["conclusion"], "created_at": iso(j["created"]),
        "started_at": iso(j["start"]), "completed_at": iso(j["end"]) if j["end"] is not None else None,
        "name": j["name"], "steps": steps, "check_run_url": "%s/check-runs/%d" % (API, jid),
        "labels": ["ubuntu-latest"], "runner_id": jc["runner_id"], "runner_name": jc["runner_name"],
        "runner_group_id": 0, "runner_group_name": "GitHub Actions",
    }


def write_run(root, r, atts, snapshot):
    d = os.path.join(root, str(r["id"]))
    last = atts[-1]
    rng = sub_rng("layout", r["id"])
    crlf = r["created"] < at(10, "00:00")
    bom = r["created"] >= at(16, "00:00") and rng.random() < 0.6
    write_json(os.path.join(d, "run.json"), run_obj(r, last, len(atts), snapshot))
    for att in atts[:-1]:
        write_json(os.path.join(d, "attempts", str(att["attempt"]), "run.json"), run_obj(r, att, len(atts), snapshot))
    all_jobs = [job_obj(r, att, j) for att in atts for j in att["jobs"]]
    write_json(os.path.join(d, "jobs.json"), {"total_count": len(all_jobs), "jobs": all_jobs})
    for att in atts[:-1]:
        for j in att["jobs"]:
            write_bytes(os.path.join(d, "logs", "%d.txt" % j["id"]), j["log"].render(crlf, bom).encode())
    if last["status"] != "completed":
        layout = "per-job (run in progress)"
        for j in last["jobs"]:
            if j["status"] == "completed":
                write_bytes(os.path.join(d, "logs", "%d.txt" % j["id"]), j["log"].render(crlf, bom).encode())
    elif rng.random() < 0.15:
        layout = "per-job"
        for j in last["jobs"]:
            write_bytes(os.path.join(d, "logs", "%d.txt" % j["id"]), j["log"].render(crlf, bom).encode())
    else:
        with_steps = r["created"] < at(16, "00:00")
        layout = "zip+steps" if with_steps else "zip"
        entries, tops = [], []
        for k, j in enumerate(last["jobs"]):
            jn = sanitize_entry(j["name"])
            if with_steps:
                entries.append((jn + "/", b""))
                for s in j["steps"]:
                    if s.get("last", s["first"]) > s["first"]:
                        entries.append(("%s/%d_%s.txt" % (jn, s["number"], sanitize_entry(s["name"])),
                                        j["log"].render(crlf, False, s["first"], s["last"]).encode()))
            tops.append(("%d_%s.txt" % (k + 1 if with_steps else k, jn), j["log"].render(crlf, bom).encode()))
        write_bytes(os.path.join(d, "logs.zip"), zip_bytes(entries + tops, zip_time(last["updated"])))
    arts = {}
    for name, a in sorted(last["artifacts"].items()):
        if sub_rng("artifact", r["id"], name).random() < 0.7:
            write_bytes(os.path.join(d, "artifacts", name + ".zip"), a["zip"])
            arts[name] = "zip"
        else:
            for fn, data in sorted(a["files"].items()):
                write_bytes(os.path.join(d, "artifacts", name, fn), data)
            arts[name] = "folder"
    return layout, arts


SIGNALS = [
    ("rustc_error", "error[E0308]: mismatched types"),
    ("jest_failure", "● integrator › conserves energy"),
    ("python_traceback", "KeyError: 'wasm_size_kb'"),
    ("timeout", "has exceeded the maximum execution time of 30 minutes"),
    ("oom_kill", " Killed   "),
    ("flaky_network", "npm ERR! code ECONNRESET"),
    ("parity_regression", "parity: energy diverged at step"),
    ("feature_branch_test_failure", "panicked at engine-rs/src/adaptive.rs"),
]


ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def signals_of(job):
    found = set()
    for t, text in job["log"].recs:
        text = ANSI_RE.sub("", text)
        for key, needle in SIGNALS:
            if needle in text:
                found.add(key)
    return found


# --- the manifest and main -------------------------------------------------------------------

PLANTED_TAGS = {
    "rustc_error": ("rustc", "rustc_fix"),
    "jest_failure": ("jest", "jest_fix"),
    "python_traceback": ("traceback", "traceback_fix"),
    "timeout": ("timeout", "timeout_fix"),
    "oom_kill": ("oom", "oom_fix"),
    "parity_regression": ("parity", "parity_fix"),
    "memory_regression": ("memory", None),
    "feature_branch_test_failure": ("feature_fail", None),
    "flaky_network": ("flaky", None),
}

PLANTED_WHAT = {
    "rustc_error": "rustc E0308 mismatched types at engine-rs/src/integrator.rs:88:17 (test-rust, build-wasm, parity)",
    "jest_failure": "Jest assertion 'integrator › conserves energy' at engine-ts/test/integrator.test.ts:42:31",
    "python_traceback": "KeyError: 'wasm_size_kb' in tools/bench_report.py (bench report step)",
    "timeout": "test-rust exceeds timeout-minutes 30 (proptest with 100000 cases)",
    "oom_kill": "wasm-pack release build OOM-killed (exit code 137) with fat LTO",
    "parity_regression": "energy_cand drifts past tolerance from about step 600 (FMA in engine-rs)",
    "memory_regression": "bench peak_rss_mb +~40% from this commit on (never fixed)",
    "feature_branch_test_failure": "nextest failure adaptive::tests::respects_min_dt on feature/adaptive-timestep",
    "flaky_network": "npm ERR! code ECONNRESET in test-ts, attempt 2 on the same commit is green",
}


def build_manifest(commits, order, branches, runs, summaries, snapshot):
    by_tag = {c["tag"]: c for c in order if c["tag"]}
    planted = {}
    for key, (intro, fix) in PLANTED_TAGS.items():
        ci = by_tag[intro]
        planted[key] = {"what": PLANTED_WHAT[key], "introduced_by": ci["sha"],
                        "introduced_subject": ci["msg"].split("\n")[0], "branch": ci["branch"],
                        "fixed_by": by_tag[fix]["sha"] if fix else None,
                        "fixed_subject": by_tag[fix]["msg"].split("\n")[0] if fix else None,
                        "runs": [], "shows_in": []}
    for s in summaries:
        for key, att, job in s["signals"]:
            p = planted[key]
            if s["id"] not in p["runs"]:
                p["runs"].append(s["id"])
            p["shows_in"].append({"run_id": s["id"], "attempt": att, "job": job})
    mem = planted["memory_regression"]
    for s in summaries:
        if s["workflow"] == "bench" and s.get("peak_rss_mb") is not None:
            (mem["runs"] if s["flags"].get("mem_history") else mem.setdefault("runs_before", [])).append(s["id"])
    mem["peak_rss_mb"] = {str(s["id"]): s["peak_rss_mb"] for s in summaries if s.get("peak_rss_mb") is not None}
    pr = planted["parity_regression"]
    pr["divergence_step"] = {str(s["id"]): s["divergence_step"] for s in summaries if s.get("divergence_step")}
    flaky = [s for s in summaries if any(k == "flaky_network" for k, _a, _j in s["signals"])][0]
    planted["flaky_network"].update(run_id=flaky["id"], failed_attempt=1, passed_attempt=2,
                                    head_sha=flaky["head_sha"])
    per_wf = {}
    for s in summaries:
        per_wf[s["workflow"]] = per_wf.get(s["workflow"], 0) + 1
    prs = []
    for name, b in branches.items():
        if b["pr"]:
            prs.append({"number": b["pr"], "branch": name, "title": b["title"], "author": AUTHORS[b["who"]][0],
                        "head_sha": b["commits"][-1], "merge_sha": b.get("merge_sha")})
    main_commits = [c for c in order if c["branch"] == "main" or c["pr"]]
    return {
        "generator": "tools/demo-gen.py", "seed": SEED, "repository": SLUG, "origin": HTML + ".git",
        "snapshot": iso(snapshot),
        "counts": {"runs": len(summaries), "per_workflow": per_wf,
                   "attempts": sum(s["attempts"] for s in summaries),
                   "jobs": sum(s["jobs"] for s in summaries),
                   "commits_on_main": len(main_commits), "commits_total": len(order),
                   "pull_requests": len(prs)},
        "branches": {"main": [c for c in order if c["branch"] == "main"][-1]["sha"],
                     "feature/adaptive-timestep": branches["feature/adaptive-timestep"]["commits"][-1]},
        "pull_requests": sorted(prs, key=lambda p: p["number"]),
        "planted": planted,
        "cancelled_runs": [s["id"] for s in summaries if s["conclusion"] == "cancelled"],
        "in_progress_runs": [s["id"] for s in summaries if s["status"] != "completed"],
        "rerun_runs": {str(s["id"]): s["attempts"] for s in summaries if s["attempts"] > 1},
        "runs": summaries_public(summaries),
    }


def summaries_public(summaries):
    keep = ("id", "workflow", "event", "head_branch", "head_sha", "run_number", "attempts", "status",
            "conclusion", "created_at", "logs", "artifacts", "jobs")
    return [{k: s[k] for k in keep} for s in summaries]


DEMO_THRESHOLDS = """\
# .ciscope/thresholds.conf - what `ciscope check` holds the history to.

# nightly bench: peak memory was ~212 MB before the trajectory history
threshold memory.peak_rss_mb
\tworkflow bench
\tbranch   main
\twarn <= 230 MB
\tfail <= 260 MB

threshold startup_ms
\tworkflow bench
\tbaseline 10
\twarn +10 %
\tfail +25 %

# parity: a step beyond tolerance is an excess above 1
threshold parity.energy.max_excess
\tworkflow parity
\tfail <= 1

threshold parity.pos_*.max_excess
\tworkflow parity
\tfail <= 1

# local CI: coverage must stay at 85 % or more
threshold checks.coverage.percentage
\twarn <= 100 %
\tfail >= 85 %
"""

DEMO_PARITY = """\
# .ciscope/parity.conf - the resources channel compares two engines' memory
# use, which never agree: shown, never a failure.
channel resources
\tinformational
"""


def write_metrics_extras(outdir, commits, order):
    """The repository's ciscope configuration (left in the checkout, not
    committed, so the planted commits keep their ids) and local-CI results
    files for the last main commits, coverage falling below 85 % on the
    last two. Returns what the manifest records."""
    cdir = os.path.join(outdir, "repo", ".ciscope")
    os.makedirs(cdir, exist_ok=True)
    with open(os.path.join(cdir, "thresholds.conf"), "w", encoding="utf-8") as f:
        f.write(DEMO_THRESHOLDS)
    with open(os.path.join(cdir, "parity.conf"), "w", encoding="utf-8") as f:
        f.write(DEMO_PARITY)
    main = [c["sha"] for c in order if c["branch"] == "main"][-6:]
    ldir = os.path.join(outdir, "local")
    os.makedirs(ldir, exist_ok=True)
    cover = [87.1, 87.4, 86.9, 87.2, 84.3, 84.1]
    out = []
    for i, sha in enumerate(main):
        t = commits[sha]["t"] + 1800
        pct = cover[i]
        doc = {"version": "1.2", "timestamp": iso(t), "commit_sha": sha, "branch": "main",
               "runner": "laptop-%d" % (1 + i % 2),
               "checks": {"coverage": {"passed": pct >= 85, "percentage": pct, "threshold": 85},
                          "tests": {"passed": True, "total": 212 + i, "failed": 0, "skipped": 3},
                          "lint": {"passed": True, "warnings": 2}}}
        name = "results-%02d-%s.json" % (i + 1, sha[:7])
        write_json(os.path.join(ldir, name), doc)
        out.append({"file": "local/" + name, "commit_sha": sha, "coverage": pct})
    return out


def generate(outdir):
    t_start = time.time()
    _check_integrator()
    if os.path.exists(outdir) and os.listdir(outdir):
        raise SystemExit("demo-gen: %s exists and is not empty; remove it first" % outdir)
    os.makedirs(outdir, exist_ok=True)
    commits, order, branches = build_repo(outdir)
    runs = plan_runs(commits, order, branches)
    root = os.path.join(outdir, "runs")
    snap_box = []
    simulated = [(r, simulate_run(r, snap_box)) for r in runs]
    snapshot = snap_box[0]
    summaries = []
    for r, atts in simulated:
        for att in atts:
            if att["status"] == "completed" and att["updated"] > snapshot:
                raise SystemExit("demo-gen: internal error: run %d ends after the snapshot" % r["id"])
        layout, arts = write_run(root, r, atts, snapshot)
        last = atts[-1]
        sig = []
        for att in atts:
            for j in att["jobs"]:
                for key in sorted(signals_of(j)):
                    sig.append((key, att["attempt"], j["name"]))
        s = {"id": r["id"], "workflow": r["wf"], "event": r["event"], "head_branch": r["branch"],
             "head_sha": r["commit"]["sha"], "run_number": r["number"], "attempts": len(atts),
             "status": last["status"], "conclusion": last["conclusion"], "created_at": iso(r["created"]),
             "logs": layout, "artifacts": arts, "jobs": sum(len(a["jobs"]) for a in atts),
             "signals": sig, "flags": r["flags"]}
        for j in last["jobs"]:
            if "bench" in j["ctx"]:
                s["peak_rss_mb"] = j["ctx"]["bench"]["memory"]["peak_rss_mb"]
            if j["ctx"].get("parity") and j["ctx"]["parity"]["first_bad"]:
                s["divergence_step"] = j["ctx"]["parity"]["first_bad"][0]
        summaries.append(s)
    manifest = build_manifest(commits, order, branches, runs, summaries, snapshot)
    manifest["local_results"] = write_metrics_extras(outdir, commits, order)
    write_json(os.path.join(outdir, "MANIFEST.json"), manifest)
    size = 0
    for dp, _dn, fns in os.walk(outdir):
        for fn in fns:
            size += os.path.getsize(os.path.join(dp, fn))
    print("demo-gen: %d commits, %d runs (%s), %d jobs, %.1f MB in %.1f s -> %s" % (
        len(order), len(summaries), ", ".join("%s %d" % kv for kv in sorted(manifest["counts"]["per_workflow"].items())),
        manifest["counts"]["jobs"], size / 1e6, time.time() - t_start, outdir), file=sys.stderr)


def main(argv):
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python3 tools/demo-gen.py OUTDIR", file=sys.stderr)
        return 2
    generate(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
