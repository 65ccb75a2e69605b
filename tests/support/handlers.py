"""Tiny hand-written packages for the emulator's tests: handler sources and a dist writer."""

from __future__ import annotations

from pathlib import Path

LOCAL_BASIC_HANDLER = """
import os, socket, subprocess, sys, time

import layer_pkg
import layer_site_mod

INIT_PID = os.getpid()
print("init done in", INIT_PID)


def handler(event, context):
    action = event.get("action", "echo")
    print("handling", action, context.aws_request_id)
    if action == "echo":
        return {"event": event, "pid": os.getpid(), "request_id": context.aws_request_id}
    if action == "describe":
        return {
            "version": list(sys.version_info[:2]),
            "path": sys.path,
            "awslambdaric": "awslambdaric" in sys.modules,
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "layers": [layer_pkg.NAME, layer_site_mod.NAME],
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "pid": os.getpid(),
        }
    if action == "imports":
        found = {}
        for name in ("sklambda", "numpy", "pytest"):
            try:
                __import__(name)
                found[name] = "importable"
            except ImportError as exc:
                found[name] = type(exc).__name__
        return found
    if action == "block":
        # Connect to the test, which learns the handler is running, then wait for its word.
        with socket.create_connection(("127.0.0.1", event["port"])) as conn:
            conn.recv(1)
        return {"unblocked": True, "pid": os.getpid()}
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "pid": os.getpid()}
    if action == "raise":
        raise ValueError("the handler says no")
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    if action == "write_task_root":
        try:
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as f:
                f.write("x")
        except OSError as exc:
            return {"error": type(exc).__name__, "errno": exc.errno}
        return {"error": None}
    if action == "write_tmp":
        path = os.path.join(os.environ["TMPDIR"], "scratch.txt")
        with open(path, "w") as f:
            f.write("ok")
        with open(path) as f:
            return {"read_back": f.read(), "path": path}
    if action == "allocate":
        blob = b"x" * (event["mb"] * 1024 * 1024)
        return {"allocated": len(blob)}
    if action == "spawn":
        child = subprocess.Popen(["sleep", "300"])
        return {"child": child.pid, "pid": os.getpid()}
    if action == "exit":
        os._exit(3)
    raise KeyError(action)
"""

LOCAL_WEB_HANDLER = """
import base64, json


def handler(event, context):
    path = event["rawPath"]
    if path == "/plain":
        return {"answer": 42}
    if path == "/string":
        return "Hello, world!"
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 201, "headers": {"x-custom": "yes"}, "body": "made",
                "cookies": ["a=1; Max-Age=60", "b=2; Path=/"]}
    if path == "/raise":
        raise RuntimeError("broken route")
    if path == "/malformed":
        return {"statusCode": "not a number"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""

LOCAL_INIT_ERROR_HANDLER = """
raise RuntimeError("module-level failure")


def handler(event, context):
    return "never"
"""

LOCAL_MISSING_IMPORT_HANDLER = """
import sklambda  # on the host's venv, never in the package


def handler(event, context):
    return "never"
"""


def make_local_dist(
    root: Path,
    name: str,
    source: str,
    *,
    python: str = "3.12",
    layer: dict[str, str] | None = None,
) -> Path:
    """Write a package directory: function.zip with ``<name>_handler.py``, layer.zip, build.json."""
    import json
    import zipfile

    dist = root / name
    dist.mkdir(parents=True)
    module = f"{name}_handler"
    with zipfile.ZipFile(dist / "function.zip", "w") as zipped:
        zipped.writestr(f"{module}.py", source)
    if layer:
        with zipfile.ZipFile(dist / "layer.zip", "w") as zipped:
            for arcname, text in layer.items():
                zipped.writestr(arcname, text)
    meta = {"runtime": "lean", "python": python, "arch": "x86_64", "handler": f"{module}.handler"}
    (dist / "build.json").write_text(json.dumps(meta))
    return dist
