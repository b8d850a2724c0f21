#!/usr/bin/env python3
"""Runs the CI recipes shipped in ci/ on this machine, step by step, as their CI engines would.

GitHub Actions workflows: each job's `run:` steps in order, in a scratch git repository with a
base branch, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and `${{ }}` expressions evaluated; the
actions a step `uses:` are played by small stand-ins that check what the real action would
need (a cache restore is always a miss, an upload needs its files, a JUnit reporter needs a
JUnit file). GitLab CI jobs: their `script:` lines with CI_* variables (a parallel job once per
CI_NODE_INDEX). The Kubernetes Indexed Job: its container command once per
JOB_COMPLETION_INDEX, then the merge Job's.

Steps that install packages or build (ids install, swift, build) are skipped: the mattegate
under test is the one `scripts/test` built (MATTEGATE), and the clip set is a small demo set
(SYNTH). Everything else runs as written.

usage: ci_recipes.py MATTEGATE_BINARY
"""

import fnmatch
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPPED_IDS = {"install", "swift", "build"}
SYNTH = "--preset demo --size 96x64 --frames 4 --seed 1"
failures = []
SCRATCH = tempfile.mkdtemp(prefix="mattegate-ci-recipes-")


def check(condition, what):
    print(("  ok   " if condition else "  FAIL ") + what)
    if not condition:
        failures.append(what)


# ---------------------------------------------------------------- GitHub Actions expressions


class Unsupported(Exception):
    pass


def lookup(path, context):
    parts = path.split(".")
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        # A step that did not run, or did not set the output, gives '' as on GitHub; a step id
        # that does not exist is an error here (a typo GitHub would also read as '').
        if parts[1] not in context["__step_ids__"]:
            raise Unsupported(f"no step with id {parts[1]}: {path}")
        return context["steps"].get(parts[1], {}).get("outputs", {}).get(parts[3], "")
    value = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict) and value.get("__lenient__"):
            return ""
        else:
            raise Unsupported(f"unknown context value {path}")
    return value


def evaluate(expr, context):
    expr = expr.strip()
    for op in ("||", "&&"):
        parts = split_top(expr, op)
        if len(parts) > 1:
            values = [evaluate(p, context) for p in parts]
            if op == "&&":
                return next((v for v in values if not truthy(v)), values[-1])
            return next((v for v in values if truthy(v)), values[-1])
    for op in ("==", "!="):
        parts = split_top(expr, op)
        if len(parts) == 2:
            a, b = (str(evaluate(p, context)).lower() for p in parts)
            return (a == b) if op == "==" else (a != b)
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1].replace("''", "'")
    if expr in ("true", "false"):
        return expr == "true"
    if re.fullmatch(r"-?\d+", expr):
        return int(expr)
    if expr == "always()":
        return True
    if expr == "success()":
        return not context["__failed__"]
    if expr == "failure()":
        return context["__failed__"]
    if expr.startswith("hashFiles("):
        return "hash-of-files"
    if re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
        return lookup(expr, context)
    raise Unsupported(f"expression not understood here: {expr}")


def split_top(expr, op):
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(expr):
        c = expr[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        elif not quoted and depth == 0 and expr.startswith(op, i):
            parts.append(expr[start:i])
            start = i + len(op)
            i += len(op)
            continue
        i += 1
    parts.append(expr[start:])
    return parts


def truthy(v):
    return v not in (False, "", 0, None)


def substitute(text, context):
    if not isinstance(text, str):
        return "" if text is None else str(text).lower() if isinstance(text, bool) else str(text)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: fmt(evaluate(m.group(1), context)), text)


def fmt(v):
    return str(v).lower() if isinstance(v, bool) else str(v)


def condition(text, context):
    if text is None:
        return not context["__failed__"]
    text = str(text).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    value = evaluate(text, context)
    uses_status = any(f in text for f in ("always()", "success()", "failure()", "cancelled()"))
    return truthy(value) and (uses_status or not context["__failed__"])


# ---------------------------------------------------------------- GitHub Actions runner


def parse_outputs(path):
    outputs = {}
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, marker = line.split("<<", 1)
            i += 1
            block = []
            while i < len(lines) and lines[i] != marker:
                block.append(lines[i])
                i += 1
            outputs[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
        i += 1
    return outputs


def run_github_job(workflow, job_name, workdir, github, overrides, artifacts, matrix=None, stub_bin=None):
    """Runs one job; returns (ok, step outputs, summary text, [(step, outcome)])."""
    job = workflow["jobs"][job_name]
    context = {
        "github": dict(github, __lenient__=False),
        "runner": {"os": "Linux", "temp": tempfile.mkdtemp(prefix="runner-temp-", dir=SCRATCH)},
        "matrix": matrix or {},
        "inputs": github.get("inputs", {}),
        "steps": {},
        "env": {},
        "__failed__": False,
        "__step_ids__": {s["id"] for s in job["steps"] if "id" in s},
    }
    env = {}
    for layer in (workflow.get("env") or {}, job.get("env") or {}):
        for key, value in layer.items():
            env[key] = substitute(value, context)
    env.update(overrides)
    context["env"] = env
    summary_path = os.path.join(context["runner"]["temp"], "step-summary.md")
    open(summary_path, "w").close()
    log = []
    for index, step in enumerate(job["steps"]):
        name = substitute(step.get("name") or step.get("uses") or f"step {index + 1}", context)
        step_id = step.get("id")
        if step_id in SKIPPED_IDS:
            log.append((name, "skipped here"))
            continue
        if not condition(step.get("if"), context):
            log.append((name, "skipped"))
            continue
        step_env = dict(env)
        for key, value in (step.get("env") or {}).items():
            step_env[key] = substitute(value, context)
        step_env.update({k: v for k, v in overrides.items() if k not in (step.get("env") or {})})
        outputs = {}
        if "run" in step:
            output_path = os.path.join(context["runner"]["temp"], f"output-{index}")
            open(output_path, "w").close()
            script = os.path.join(context["runner"]["temp"], f"step-{index}.sh")
            with open(script, "w", encoding="utf-8") as f:
                f.write(substitute(step["run"], context))
            process_env = dict(os.environ)
            process_env.update(step_env)
            process_env.update(
                {
                    "GITHUB_OUTPUT": output_path,
                    "GITHUB_STEP_SUMMARY": summary_path,
                    "RUNNER_TEMP": context["runner"]["temp"],
                    "CI": "true",
                    "GITHUB_ACTIONS": "true",
                }
            )
            if stub_bin:
                process_env["PATH"] = stub_bin + os.pathsep + process_env["PATH"]
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                cwd=workdir, env=process_env, capture_output=True, text=True,
            )
            ok = result.returncode == 0
            outputs = parse_outputs(output_path)
            detail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        else:
            ok, outputs, detail = play_action(step, context, workdir, artifacts)
        if step_id:
            context["steps"][step_id] = {"outputs": outputs, "outcome": "success" if ok else "failure"}
        if not ok and not step.get("continue-on-error"):
            context["__failed__"] = True
        log.append((name, ("success" if ok else "failure") + ("" if ok else f": {' | '.join(detail)}")))
    summary = open(summary_path, encoding="utf-8").read()
    return not context["__failed__"], context["steps"], summary, log


def play_action(step, context, workdir, artifacts):
    uses = step["uses"]
    action = uses.split("@")[0]
    given = {k: substitute(v, context) for k, v in (step.get("with") or {}).items()}
    paths = [p.strip() for p in given.get("path", "").splitlines() if p.strip()]
    if action in ("actions/checkout", "swift-actions/setup-swift"):
        return True, {}, ["the scratch repository is the checkout"]
    if action in ("actions/cache/restore", "actions/cache"):
        return True, {"cache-hit": ""}, ["a miss"]
    if action == "actions/cache/save":
        # A missing path is a warning on GitHub (nothing is saved), never a failed step.
        missing = [p for p in paths if not os.path.exists(os.path.join(workdir, p))]
        return True, {}, [f"warning: nothing saved, missing {missing}"] if missing else []
    if action == "actions/upload-artifact":
        found = [p for p in paths if os.path.exists(os.path.join(workdir, p))]
        if len(found) != len(paths) and given.get("if-no-files-found", "warn") == "error":
            return False, {}, [f"upload {given.get('name')}: missing {sorted(set(paths) - set(found))}"]
        # The artifact's root is the least common ancestor of the paths (a lone folder: itself).
        full = [os.path.join(workdir, p.rstrip("/")) for p in found]
        if len(full) == 1:
            base = full[0] if os.path.isdir(full[0]) else os.path.dirname(full[0])
        else:
            base = os.path.commonpath(full)
        target = os.path.join(artifacts, given["name"])
        for p in found:
            source = os.path.join(workdir, p.rstrip("/"))
            destination = os.path.normpath(os.path.join(target, os.path.relpath(source, base)))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            if os.path.isdir(source):
                shutil.copytree(source, destination, dirs_exist_ok=True)
            else:
                shutil.copy2(source, destination)
        return True, {}, []
    if action == "actions/download-artifact":
        pattern = given.get("pattern", given.get("name", "*"))
        names = [n for n in sorted(os.listdir(artifacts)) if fnmatch.fnmatch(n, pattern)]
        for n in names:
            shutil.copytree(os.path.join(artifacts, n), os.path.join(workdir, given.get("path", "."), n))
        return bool(names), {}, [f"downloaded {names}"]
    if action == "mikepenz/action-junit-report":
        report = os.path.join(workdir, given["report_paths"])
        try:
            root = ElementTree.parse(report).getroot()
            return root.tag in ("testsuites", "testsuite"), {}, [f"{report}: {root.tag}"]
        except (OSError, ElementTree.ParseError) as e:
            return False, {}, [f"{report}: {e}"]
    raise Unsupported(f"no stand-in for action {uses}")


# ---------------------------------------------------------------- scratch repositories


def git(args, cwd):
    subprocess.run(["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci"] + args, cwd=cwd, check=True,
                   capture_output=True)


def scratch_repository(top, base_files, pr_files=None):
    """An 'origin' with branch main holding base_files, and a clone of it checked out on a pull
    request's branch with pr_files on top (or on main without them)."""
    origin = os.path.join(top, "origin.git")
    seed = os.path.join(top, "seed")
    os.makedirs(seed)
    git(["init", "-q", "-b", "main"], seed)
    for path, text in base_files.items():
        os.makedirs(os.path.join(seed, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(seed, path), "w", encoding="utf-8") as f:
            f.write(text)
    git(["add", "."], seed)
    git(["commit", "-qm", "main"], seed)
    git(["clone", "-q", "--bare", seed, origin], top)
    work = os.path.join(top, "work")
    git(["clone", "-q", origin, work], top)
    if pr_files:
        git(["checkout", "-q", "-b", "pr"], work)
        for path, text in pr_files.items():
            with open(os.path.join(work, path), "w", encoding="utf-8") as f:
                f.write(text)
        git(["commit", "-qam", "pull request"], work)
    return work


def project_file(path):
    return open(os.path.join(ROOT, path), encoding="utf-8").read()


def base_files():
    return {p: project_file(p) for p in
            ["configs/baseline.yaml", "configs/candidate.yaml", "configs/gate.yaml", "configs/gate-alarm.yaml"]}


def gh_stub(top):
    """`gh` for the comment step: records its arguments and checks the body file exists (the
    network call itself is GitHub's)."""
    folder = os.path.join(top, "bin")
    os.makedirs(folder)
    with open(os.path.join(folder, "gh"), "w") as f:
        f.write('#!/bin/bash\nprintf "%s\\n" "$*" >> "$GH_CALLS"\n'
                'while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then test -s "$2" || exit 1; fi; shift; done\n')
    os.chmod(os.path.join(folder, "gh"), 0o755)
    return folder


def stored(db, sql, *args):
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, args).fetchone()
    finally:
        connection.close()


# ---------------------------------------------------------------- scenarios


def pull_request(binary, name, pr_files, expect_ok, seed_reports=None, base=None):
    print(f"github mattegate-pr.yml, pull request: {name}")
    workflow = yaml.safe_load(project_file("ci/github/mattegate-pr.yml"))
    top = tempfile.mkdtemp(prefix="mattegate-ci-", dir=SCRATCH)
    work = scratch_repository(top, base or base_files(), pr_files)
    if seed_reports:
        shutil.copytree(seed_reports, os.path.join(work, "reports"))
    stub = gh_stub(top)
    calls = os.path.join(top, "gh-calls")
    github = {"base_ref": "main", "run_attempt": "1", "token": "t", "sha": "abc",
              "event": {"pull_request": {"number": 7, "head": {"sha": "def"}}}}
    ok, steps, summary, log = run_github_job(
        workflow, "gate", work, github, {"MATTEGATE": binary, "SYNTH": SYNTH, "GH_CALLS": calls},
        os.path.join(top, "artifacts"), stub_bin=stub)
    for step, outcome in log:
        print(f"    {step}: {outcome}")
    check(ok == expect_ok, f"the job {'passes' if expect_ok else 'fails'}")
    return work, top, steps, summary, calls


def github_pull_requests(binary):
    base = base_files()
    candidate = base["configs/candidate.yaml"]
    # B (the pull request's default) is the candidate: the gate passes.
    work, top, steps, summary, calls = pull_request(
        binary, "the default becomes the candidate", {"configs/baseline.yaml": candidate}, True)
    gate = steps["gate"]["outputs"]
    check(gate.get("run_id") == "pr-7-1" and gate.get("exit_code") == "0", f"run pr-7-1 passed: {gate}")
    row = stored(os.path.join(work, "reports/mattegate.sqlite"),
                 "SELECT config_a_yaml, config_b_yaml, gate_text FROM runs WHERE id = 'pr-7-1'")
    check(row is not None and row[0] == base["configs/baseline.yaml"] and row[1] == candidate,
          "arm A is the base branch's default, arm B the pull request's")
    check(summary.startswith(project_file_in(work, "reports/pr-7-1/summary.md")), "the job summary is summary.md")
    check(os.path.isfile(os.path.join(top, "artifacts/mattegate-report-pr-7/index.html")),
          "the artifact holds the report")
    check(os.path.isfile(calls) and "pr comment 7 --edit-last --create-if-none --body-file reports/pr-7-1/summary.md"
          in open(calls).read(), "the summary is posted as a comment")
    passed_reports = os.path.join(work, "reports")

    # B is worse than A, and the pull request also loosens its gate: the base branch's gate
    # decides, the job fails, the report is still uploaded.
    worse_base = dict(base)
    worse_base["configs/baseline.yaml"] = candidate
    loose = base["configs/gate.yaml"].replace("margin: 0.05", "margin: 9.0")
    work, top, steps, summary, _ = pull_request(
        binary, "a worse default with a looser gate",
        {"configs/baseline.yaml": base["configs/baseline.yaml"], "configs/gate.yaml": loose}, False, base=worse_base)
    check(loose != base["configs/gate.yaml"], "the pull request's gate is looser")
    check(steps["gate"]["outputs"].get("exit_code") == "2", "exit 2: regression under the base branch's gate")
    check(os.path.isfile(os.path.join(top, "artifacts/mattegate-report-pr-7/index.html")),
          "the failing run's report is uploaded")
    check("FAIL" in summary or "fail" in summary.lower(), "the job summary says it failed")

    # A broken config, with an earlier passing run already in the database: no verdict, no
    # earlier run's PASS, the job fails.
    work, top, steps, summary, calls = pull_request(
        binary, "a broken default", {"configs/baseline.yaml": "name: broken\noutput_format: [\n"}, False,
        seed_reports=passed_reports)
    check(steps["gate"]["outputs"].get("run_id") == "" and steps["gate"]["outputs"].get("exit_code") == "1",
          "exit 1 with no run id")
    check("no verdict" in summary and "PASS" not in summary, "the summary says there is no verdict")
    check(not os.path.exists(os.path.join(top, "artifacts")), "nothing is uploaded")
    check(not os.path.exists(calls), "nothing is posted")

    # Too few clips for the base branch's gate: inconclusive (exit 3) fails the check too.
    strict = dict(base)
    strict["configs/gate.yaml"] = base["configs/gate.yaml"].replace("min_clips: 8", "min_clips: 20")
    check(strict["configs/gate.yaml"] != base["configs/gate.yaml"], "the base branch's gate asks for 20 clips")
    _, _, steps, _, _ = pull_request(
        binary, "the candidate on too few clips", {"configs/baseline.yaml": candidate}, False, base=strict)
    check(steps["gate"]["outputs"].get("exit_code") == "3", "exit 3: inconclusive fails the check")


def project_file_in(work, path):
    return open(os.path.join(work, path), encoding="utf-8").read()


def github_nightly(binary):
    print("github mattegate-nightly.yml")
    workflow = yaml.safe_load(project_file("ci/github/mattegate-nightly.yml"))
    top = tempfile.mkdtemp(prefix="mattegate-ci-", dir=SCRATCH)
    work = scratch_repository(top, base_files())
    github = {"run_id": "99", "run_attempt": "1", "sha": "abc", "ref": "refs/heads/main"}
    ok, steps, summary, log = run_github_job(
        workflow, "nightly", work, github, {"MATTEGATE": binary, "SYNTH": SYNTH}, os.path.join(top, "artifacts"))
    for step, outcome in log:
        print(f"    {step}: {outcome}")
    check(ok, "the nightly job passes")
    alarm = steps["alarm"]["outputs"]
    check(alarm.get("run_id") == "nightly-99-1" and alarm.get("exit_code") == "0", f"alarm run passed: {alarm}")
    db = os.path.join(work, "reports/mattegate.sqlite")
    reused = stored(db, "SELECT COUNT(*) FROM jobs WHERE run_id = 'nightly-99-1' AND arm = 'A' AND reused_from LIKE 'reference/%'")
    fresh = stored(db, "SELECT COUNT(*) FROM jobs WHERE run_id = 'nightly-99-1' AND arm = 'B' AND status = 'completed'")
    check(reused[0] == 8 and fresh[0] == 8, f"A reuses the reference's 8 outputs, B is 8 fresh jobs ({reused[0]}, {fresh[0]})")
    check(stored(db, "SELECT gate_text LIKE '%mode=alarm%' OR gate_text LIKE '%alarm%' FROM runs WHERE id = 'nightly-99-1'")[0] == 1,
          "the run is gated in alarm mode")
    check(os.path.isfile(os.path.join(top, "artifacts/mattegate-nightly-report/index.html")), "the report is uploaded")


def github_sharded(binary):
    print("github mattegate-sharded.yml")
    workflow = yaml.safe_load(project_file("ci/github/mattegate-sharded.yml"))
    top = tempfile.mkdtemp(prefix="mattegate-ci-", dir=SCRATCH)
    artifacts = os.path.join(top, "artifacts")
    github = {"run_id": "5", "run_attempt": "1", "inputs": {"candidate": "configs/candidate.yaml"}}
    shards = workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    check(str(len(shards)) == str(workflow["env"]["SHARDS"]), "SHARDS equals the matrix's length")
    for k in shards:
        # Every shard on its own machine: a fresh checkout each.
        work = scratch_repository(os.path.join(top, f"machine-{k}"), base_files())
        ok, steps, _, log = run_github_job(
            workflow, "shard", work, github, {"MATTEGATE": binary, "SYNTH": SYNTH}, artifacts, matrix={"shard": k})
        check(ok, f"shard {k} passes ({log[-2:]})")
    work = scratch_repository(os.path.join(top, "machine-merge"), base_files())
    ok, steps, summary, log = run_github_job(workflow, "merge", work, github, {"MATTEGATE": binary, "SYNTH": SYNTH}, artifacts)
    for step, outcome in log:
        print(f"    {step}: {outcome}")
    check(ok, "the merge job passes")
    merged = steps["merge"]["outputs"]
    check(merged.get("run_id") == "sharded-5-1" and merged.get("exit_code") == "0", f"merged run passed: {merged}")
    shard_crops = sum(len([f for f in files if f.endswith(".png")])
                      for folder in os.listdir(artifacts) if folder.startswith("mattegate-shard-")
                      for _, _, files in os.walk(os.path.join(artifacts, folder)))
    merged_crops = sum(len([f for f in files if f.endswith(".png")])
                       for _, _, files in os.walk(os.path.join(artifacts, "mattegate-report-sharded")))
    check(merged_crops > 0 and merged_crops == shard_crops,
          f"the merged report keeps every shard's crops ({merged_crops} of {shard_crops})")
    clips = stored(os.path.join(work, "merged/mattegate.sqlite"), "SELECT COUNT(*) FROM clips WHERE run_id = 'sharded-5-1'")
    check(clips[0] == 8, f"the merged run holds all 8 clips ({clips[0]})")


def gitlab(binary):
    print("gitlab ci/gitlab/mattegate.gitlab-ci.yml")
    recipe = yaml.safe_load(project_file("ci/gitlab/mattegate.gitlab-ci.yml"))
    top = tempfile.mkdtemp(prefix="mattegate-ci-", dir=SCRATCH)
    variables = {k: str(v) for k, v in recipe["variables"].items()}
    variables.update({"MATTEGATE": binary, "SYNTH": SYNTH, "CI_PIPELINE_ID": "31"})

    def job(name, work, extra):
        spec = recipe[name]
        env = dict(os.environ)
        env.update(variables)
        env.update(extra)
        script = "\n".join(spec["script"])
        result = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=work, env=env,
                                capture_output=True, text=True)
        return result.returncode, result.stdout + result.stderr

    candidate = base_files()["configs/candidate.yaml"]
    work = scratch_repository(top + "/mr", base_files(), {"configs/baseline.yaml": candidate})
    code, output = job("mattegate:merge-request", work, {
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_MERGE_REQUEST_IID": "3", "CI_COMMIT_SHA": "abc"})
    check(code == 0, f"merge request job passes ({output.strip().splitlines()[-1:]})")
    check(os.path.isfile(os.path.join(work, "reports/mr-3-31/junit.xml")), "its JUnit artifact path exists")
    shared = top + "/shared"
    work = scratch_repository(shared, base_files())
    for k in range(1, recipe["mattegate:shard"]["parallel"] + 1):
        code, output = job("mattegate:shard", work, {"CI_NODE_INDEX": str(k),
                                                     "CI_NODE_TOTAL": str(recipe["mattegate:shard"]["parallel"])})
        check(code == 0, f"shard job {k} passes ({output.strip().splitlines()[-1:]})")
    code, output = job("mattegate:merge", work, {})
    check(code == 0, f"merge job passes ({output.strip().splitlines()[-1:]})")
    check(os.path.isfile(os.path.join(work, "merged/sharded-31/junit.xml")), "the merged JUnit artifact path exists")


def kubernetes(binary):
    print("kubernetes ci/kubernetes/mattegate-shards.yaml and mattegate-merge.yaml")
    top = tempfile.mkdtemp(prefix="mattegate-ci-", dir=SCRATCH)
    shards = list(yaml.safe_load_all(project_file("ci/kubernetes/mattegate-shards.yaml")))
    merge = list(yaml.safe_load_all(project_file("ci/kubernetes/mattegate-merge.yaml")))
    job = next(d for d in shards if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    check(env["MATTEGATE_SHARD_COUNT"] == str(job["spec"]["completions"]), "MATTEGATE_SHARD_COUNT equals completions")
    path_bin = os.path.join(top, "bin")
    os.makedirs(path_bin)
    os.symlink(binary, os.path.join(path_bin, "mattegate"))
    clips = os.path.join(top, "clips/standard")
    subprocess.run([binary, "synth"] + SYNTH.split() + ["--out", clips], check=True, capture_output=True)
    configs = os.path.join(top, "configs")
    os.makedirs(configs)
    for name in ("baseline", "candidate"):
        shutil.copy(os.path.join(ROOT, f"configs/{name}.yaml"), configs)
    results = os.path.join(top, "results")
    os.makedirs(results)
    overrides = {"CLIPSET": clips, "CONFIGS": configs, "RESULTS": results,
                 "PATH": path_bin + os.pathsep + os.environ["PATH"]}
    for index in range(job["spec"]["completions"]):
        process_env = {**os.environ, **env, **overrides, "JOB_COMPLETION_INDEX": str(index)}
        result = subprocess.run(container["command"] + container["args"], env=process_env, cwd=top,
                                capture_output=True, text=True)
        check(result.returncode == 0, f"pod {index} succeeds ({(result.stdout + result.stderr).strip().splitlines()[-1:]})")
    merger = merge[0]["spec"]["template"]["spec"]["containers"][0]
    merge_env = {e["name"]: e["value"] for e in merger["env"]}
    result = subprocess.run(merger["command"] + merger["args"], env={**os.environ, **merge_env, **overrides},
                            cwd=top, capture_output=True, text=True)
    check(result.returncode == 0, f"the merge pod succeeds ({(result.stdout + result.stderr).strip().splitlines()[-1:]})")
    run = merge_env["RUN"]
    check(os.path.isfile(os.path.join(results, f"merged/{run}/index.html")), "the merged report is written")
    shard_runs = stored(os.path.join(results, "merged/mattegate.sqlite"), "SELECT merged_from FROM runs WHERE id = ?", run)
    check(shard_runs is not None and len(shard_runs[0].split(",")) == job["spec"]["completions"],
          f"the merged run joins every pod's shard ({shard_runs})")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    github_pull_requests(binary)
    github_nightly(binary)
    github_sharded(binary)
    gitlab(binary)
    kubernetes(binary)
    if failures:
        print(f"ci recipes: {len(failures)} check(s) failed (scratch folders kept in {SCRATCH}):")
        for f in failures:
            print(f"  - {f}")
        sys.exit(1)
    shutil.rmtree(SCRATCH)
    print("ci recipes: every step ran as written and every check held")


if __name__ == "__main__":
    main()
